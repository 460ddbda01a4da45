/**
 * Runs one experiment step: assemble the described system on the sim engine, apply ipbench load
 * at one offered rate, and measure throughput, CPU utilisation and the execution profile over a
 * window after a warm-up. Every step starts from a fresh, deterministic system.
 *
 * @module
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdleAccountingCpuMeter, Ramp, type RampStep, type TargetCpuMeter } from '@udf/ipbench';
import { assemble } from './assemble.js';
import {
  CALIBRATION,
  CALIBRATION_POINT,
  type CalibrationFactors,
  UNCALIBRATED,
} from './calibration.js';
import { StepOptionsError } from './errors.js';
import type { AssembledSystem } from './realize-sim.js';
import { PROFILE_ORDER, type StepOptions, type StepResult } from './result.js';
import { BUS_CONFIGURATIONS, type BusConfiguration, type SystemDescription } from './schema.js';

/** Virtual seconds simulated between checks that the step is done. */
const DRIVE_SLICE_SECONDS = 0.0005;

function checkStep(opts: StepOptions): void {
  const bad = (field: string, expected: string, got: unknown) => {
    throw new StepOptionsError(`${field}: expected ${expected}, got ${JSON.stringify(got)}`);
  };
  if (!(opts.loadMbps > 0 && opts.loadMbps <= 1000))
    bad('loadMbps', 'a number in (0, 1000]', opts.loadMbps);
  const h = opts.holdoffUs;
  if (h !== undefined && !(Number.isInteger(h) && h >= 0 && h <= 25500 && h % 100 === 0))
    bad('holdoffUs', 'a multiple of 100 between 0 and 25500', h);
  const dir = opts.pcapDir;
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory()))
    bad('pcapDir', 'an existing directory', dir);
  const d = opts.durationMs;
  if (d !== undefined && !(d > 0 && d <= 60_000))
    bad('durationMs', 'a positive number of ms up to 60000', d);
  const w = opts.warmupMs;
  if (w !== undefined && !(w >= 0 && w <= 60_000))
    bad('warmupMs', 'a non-negative number of ms up to 60000', w);
  const p = opts.packetSize;
  if (p !== undefined && !(Number.isInteger(p) && p >= 16 && p <= 1472))
    bad('packetSize', 'an integer between 16 and 1472', p);
  const i = opts.ipcScale;
  if (i !== undefined && !(i > 0 && i <= 1000)) bad('ipcScale', 'a number in (0, 1000]', i);
  const b = opts.bus;
  if (
    b !== undefined &&
    !(
      (b.clockMHz === 33 || b.clockMHz === 66) &&
      (b.widthBits === 32 || b.widthBits === 64) &&
      typeof b.eeprom64 === 'boolean'
    )
  )
    bad('bus', '{ clockMHz: 33 | 66, widthBits: 32 | 64, eeprom64: boolean }', b);
  const s = opts.seed;
  if (s !== undefined && !(Number.isInteger(s) && s >= 0 && s < 2 ** 31))
    bad('seed', 'an integer in [0, 2^31)', s);
}

/**
 * Run a realised system until it serves traffic (at most the plan's start-up limit).
 * @throws AssemblyError if a component failed or did not start in time
 */
export function startUp(built: AssembledSystem): void {
  const { sim, plan } = built;
  const slice = Math.round(DRIVE_SLICE_SECONDS * sim.machine.hz);
  while (!built.ready() && sim.now() < plan.load.startupLimitSeconds * sim.machine.hz)
    sim.runFor(slice);
  built.checkStarted();
}

/**
 * Apply one ipbench step of `offeredMbps` (over all NICs) to a started system, with the plan's
 * packet size, warm-up, window and cool-down.
 */
export function rampStep(
  built: AssembledSystem,
  offeredMbps: number,
  options: { readonly cpuMeter?: TargetCpuMeter; readonly label?: string } = {},
): Promise<RampStep> {
  const { sim, plan } = built;
  const slice = Math.round(DRIVE_SLICE_SECONDS * sim.machine.hz);
  return new Ramp({
    clock: sim.machine,
    clients: built.clients,
    packetSize: plan.load.packetSize,
    warmupS: plan.load.warmupSeconds,
    durationS: plan.load.durationSeconds,
    cooldownS: plan.load.cooldownSeconds,
    ...options,
    drive: (isDone) => {
      while (!isDone()) sim.runFor(slice);
    },
  }).runStep(offeredMbps);
}

/**
 * Run one step of the experiment on the sim engine.
 *
 * @param system - a validated description (see `loadSystem`)
 * @param opts - offered load per NIC, hold-off, window, packet size, IPC cost scale
 */
export async function runStep(system: SystemDescription, opts: StepOptions): Promise<StepResult> {
  checkStep(opts);
  const wall0 = performance.now();
  const built = assemble(system, opts, { capture: opts.pcapDir !== undefined });
  const { sim, plan } = built;
  const hz = sim.machine.hz;
  startUp(built);
  const meter = new IdleAccountingCpuMeter(() => {
    const w = sim.accounting.window();
    return { idle: w.byCategory.Idle ?? 0, total: w.total, categories: w.byCategory };
  }, hz);
  const offered = opts.loadMbps * system.nics.length;
  const step = await rampStep(built, offered, { cpuMeter: meter, label: system.name });
  const profile: Record<string, number> = {};
  const shares = step.cpu?.profile ?? {};
  for (const name of PROFILE_ORDER) profile[name] = 0;
  for (const [name, share] of Object.entries(shares)) profile[name] = 100 * share;
  const round = (x: number, digits = 3) => Number(x.toFixed(digits));
  const holdoffUs = opts.holdoffUs ?? plan.devices[0]!.holdoffUnits * 100;
  if (opts.pcapDir !== undefined) {
    for (const [nic, bytes] of Object.entries(built.captures())) {
      const file = `${system.name}-${holdoffUs}us-${round(opts.loadMbps)}mbps-${nic}.pcap`;
      writeFileSync(join(opts.pcapDir, file), bytes);
    }
  }
  return {
    config: system.name,
    engine: 'sim',
    holdoffUs,
    holdoffsUs: Object.fromEntries(plan.devices.map((d) => [d.name, d.holdoffUnits * 100])),
    bus: {
      clockMHz: plan.devices[0]!.pci.clockHz > 50e6 ? 66 : 33,
      widthBits: plan.devices[0]!.pci.busBytes === 8 ? 64 : 32,
      eeprom64: plan.devices[0]!.eeprom64,
    },
    packetSize: plan.load.packetSize,
    requestedMbps: round(offered),
    achievedMbps: round(step.achievedBps / 1e6),
    sentMbps: round(step.sentBps / 1e6),
    cpuPercent: round(100 * (step.cpu?.utilisation ?? 0)),
    rttUs: {
      min: round(step.rtt.min),
      avg: round(step.rtt.avg),
      max: round(step.rtt.max),
      stddev: round(step.rtt.stddev),
      median: round(step.rtt.median),
    },
    lostPackets: step.lost,
    badPackets: step.bad,
    profile: Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, round(v)])),
    counters: built.counters(),
    simSeconds: round(sim.now() / hz, 6),
    wallSeconds: round((performance.now() - wall0) / 1000),
    ipbench: step,
  };
}

/** One edge of the Figure 1(b) band: a bus configuration and the step measured on it. */
export interface BusBandStep {
  readonly bus: BusConfiguration;
  readonly result: StepResult;
}

/**
 * The step options of a Figure 1(b) band: `opts` once per bus configuration (default: the cited
 * {@link BUS_CONFIGURATIONS}, slowest first). Run them in any order or in parallel; each is an
 * ordinary step.
 *
 * @param opts - the step (load, hold-off, ...) to measure on every bus
 * @param buses - the bus configurations
 */
export function busBandSteps(
  opts: StepOptions,
  buses: readonly BusConfiguration[] = BUS_CONFIGURATIONS,
): { bus: BusConfiguration; opts: StepOptions }[] {
  return buses.map((bus) => ({
    bus,
    opts: {
      ...opts,
      bus: { clockMHz: bus.clockMHz, widthBits: bus.widthBits, eeprom64: bus.eeprom64 },
    },
  }));
}

/**
 * Run one step on every bus configuration of the band, one after the other.
 *
 * @param system - a validated description
 * @param opts - the step to measure on every bus
 * @param buses - the bus configurations (default {@link BUS_CONFIGURATIONS})
 */
export async function runBusBand(
  system: SystemDescription,
  opts: StepOptions,
  buses: readonly BusConfiguration[] = BUS_CONFIGURATIONS,
): Promise<BusBandStep[]> {
  const out: BusBandStep[] = [];
  for (const s of busBandSteps(opts, buses))
    out.push({ bus: s.bus, result: await runStep(system, s.opts) });
  return out;
}

/** The four targets the calibration fits (percent; see `CALIBRATION_POINT`). */
export interface CalibrationTargets {
  /** Percent of CPU busy at the profile point. */
  readonly cpuPercent: number;
  /** Percent of non-idle time in Kernel + Driver + IP. */
  readonly workShare: number;
  /** Percent of non-idle time in Buffer + Translation. */
  readonly frameworkShare: number;
  /** Percent of non-idle time in Notification + IPC + Interrupt. */
  readonly overheadShare: number;
}

/** Options of {@link calibrate}. */
export interface CalibrateOptions {
  /** Fixed-point iterations (default 12). */
  readonly iterations?: number;
  /** Measured window per iteration in ms (default 30). */
  readonly durationMs?: number;
  /** Warm-up per iteration in ms (default 5). */
  readonly warmupMs?: number;
  /** Called after each iteration (progress). */
  readonly onIteration?: (i: number, factors: CalibrationFactors, cpuPercent: number) => void;
}

/**
 * The calibration's fixed-point iteration: the three component-cost factors that make `system`
 * (the isolated placement) reproduce `targets` at the paper's profile point (450 Mb/s, 100 µs,
 * 1024-byte packets). Kernel costs are fixed, so the measured Kernel and IPC shares are
 * subtracted from the targets they belong to. `pnpm --filter @udf/system calibrate` runs it.
 *
 * @param system - the isolated placement's description
 * @param targets - the paper's targets (default `CALIBRATION_POINT`)
 * @param options - iterations and window
 */
export async function calibrate(
  system: SystemDescription,
  targets: CalibrationTargets = CALIBRATION_POINT,
  options: CalibrateOptions = {},
): Promise<CalibrationFactors> {
  let f: CalibrationFactors = UNCALIBRATED;
  const iterations = options.iterations ?? 12;
  for (let i = 0; i < iterations; i++) {
    const r = await runStep(system, {
      loadMbps: CALIBRATION_POINT.loadMbps,
      holdoffUs: CALIBRATION_POINT.holdoffUs,
      packetSize: CALIBRATION_POINT.packetSize,
      durationMs: options.durationMs ?? 30,
      warmupMs: options.warmupMs ?? 5,
      ipcScale: 1,
      calibration: f,
    });
    const g = (...names: string[]) => names.reduce((s, n) => s + (r.profile[n] ?? 0), 0);
    const busy = targets.cpuPercent;
    const want = {
      work: (targets.workShare / 100) * busy - g('Kernel'),
      framework: (targets.frameworkShare / 100) * busy,
      overhead: (targets.overheadShare / 100) * busy - g('IPC'),
    };
    const next = (cur: number, w: number, got: number) =>
      Math.max(0.05, got > 0 && w > 0 ? cur * (w / got) ** (i < 6 ? 1.4 : 0.5) : cur);
    f = {
      work: Number(next(f.work, want.work, g('Driver', 'IP')).toFixed(3)),
      framework: Number(next(f.framework, want.framework, g('Buffer', 'Translation')).toFixed(3)),
      overhead: Number(next(f.overhead, want.overhead, g('Notification', 'Interrupt')).toFixed(3)),
    };
    options.onIteration?.(i, f, r.cpuPercent);
  }
  return f;
}

/** A prediction of Figure 1(b) the calibration spread is reported for. */
export interface PredictionPoint {
  /** Description name: `isolated` (Prime) or `monolithic` (Linux). */
  readonly config: string;
  readonly holdoffUs: number;
  readonly loadMbps: number;
}

/** The Figure 1(b) points the paper states numbers for (450 Mb/s per NIC, 0 and 100 µs). */
export const PAPER_PREDICTIONS: readonly PredictionPoint[] = [
  { config: 'isolated', holdoffUs: 0, loadMbps: 450 },
  { config: 'isolated', holdoffUs: 100, loadMbps: 450 },
  { config: 'monolithic', holdoffUs: 0, loadMbps: 450 },
  { config: 'monolithic', holdoffUs: 100, loadMbps: 450 },
];

/** One prediction under the calibration and under every ±1-point move of one target. */
export interface SpreadRow {
  readonly point: PredictionPoint;
  /** CPU % with the fitted calibration. */
  readonly cpuPercent: number;
  readonly achievedMbps: number;
  /** CPU % with the factors refitted after moving one target by ±1 point (`cpuPercent+1`, ...). */
  readonly moved: Record<string, number>;
  /** Smallest and largest CPU % over the moved calibrations (and the fitted one). */
  readonly min: number;
  readonly max: number;
}

/**
 * The honest calibration spread (issue 13, item 5): every paper target moved by ±1 point, the
 * factors refitted each time, and each prediction re-measured. The factors are fitted exactly to
 * the targets, so this shows how much of each prediction the last point of each target carries.
 * Takes about a minute per target move on one core.
 *
 * @param systems - the descriptions by name (`isolated` is calibrated; every point's `config`)
 * @param points - the predictions (default {@link PAPER_PREDICTIONS})
 * @param options - window of the calibration and of each prediction step
 */
export async function calibrationSpread(
  systems: Readonly<Record<string, SystemDescription>>,
  points: readonly PredictionPoint[] = PAPER_PREDICTIONS,
  options: CalibrateOptions = {},
): Promise<SpreadRow[]> {
  const isolated = systems.isolated;
  if (!isolated) throw new StepOptionsError('calibrationSpread: systems.isolated is required');
  const measure = async (f: CalibrationFactors) => {
    const out: StepResult[] = [];
    for (const p of points) {
      const sys = systems[p.config];
      if (!sys) throw new StepOptionsError(`calibrationSpread: no description "${p.config}"`);
      out.push(
        await runStep(sys, {
          loadMbps: p.loadMbps,
          holdoffUs: p.holdoffUs,
          durationMs: options.durationMs ?? 30,
          warmupMs: options.warmupMs ?? 5,
          calibration: f,
        }),
      );
    }
    return out;
  };
  const base = await measure(CALIBRATION);
  const moved: Record<string, StepResult[]> = {};
  const keys: (keyof CalibrationTargets)[] = [
    'cpuPercent',
    'workShare',
    'frameworkShare',
    'overheadShare',
  ];
  for (const key of keys) {
    for (const d of [-1, 1]) {
      const targets = { ...CALIBRATION_POINT, [key]: CALIBRATION_POINT[key] + d };
      moved[`${key}${d > 0 ? '+1' : '-1'}`] = await measure(
        await calibrate(isolated, targets, options),
      );
    }
  }
  return points.map((point, i) => {
    const m = Object.fromEntries(Object.entries(moved).map(([k, r]) => [k, r[i]!.cpuPercent]));
    const all = [base[i]!.cpuPercent, ...Object.values(m)];
    return {
      point,
      cpuPercent: base[i]!.cpuPercent,
      achievedMbps: base[i]!.achievedMbps,
      moved: m,
      min: Math.min(...all),
      max: Math.max(...all),
    };
  });
}
