/**
 * The experiment on the threads engine: build one placement with {@link realizeThreads}, wait
 * until it serves, then run ipbench steps of real load against it — `SimClient`s in the main
 * thread on a real clock, speaking Ethernet/ARP/IPv4/UDP over each NIC's UDP wire — and measure
 * throughput, round-trip times and CPU per domain. One system serves the whole ramp (starting
 * workers takes time, and a fresh worker runs its code interpreted at first: a long-running
 * system is warm), primed once before the first step ({@link primeThreadsSystem}); a step's
 * counters are what it added ({@link counterDeltas}). The sim instead builds a fresh,
 * deterministic system per step.
 *
 * CPU: each domain's worker and the device worker are metered from Linux per-thread CPU time
 * ({@link ThreadCpuMeter}: schedstat, or utime + stime where the kernel keeps no scheduler
 * statistics); `cpuPercent` is their sum over all CPUs, `cpuByDomain` each one's share of one
 * CPU. The load generator in the main thread is not counted (it is the "other machine").
 *
 * @module
 */
import { Ramp, type RampStep } from '@udf/ipbench';
import { stepOverrides } from './assemble.js';
import { AssemblyError, StepOptionsError } from './errors.js';
import { plan } from './plan.js';
import {
  type RealizeThreadsOptions,
  realizeThreads,
  type ThreadsSystem,
} from './realize-threads.js';
import type { StepResult } from './result.js';
import type { SystemDescription } from './schema.js';
import { ThreadCpuMeter } from './threads-cpu.js';

/** Real seconds a threads system may take to serve (workers start, sessions open). */
export const THREADS_STARTUP_LIMIT_SECONDS = 30;

/** Seconds of load at the first step's rate that warm a fresh system up before the ramp. */
export const PRIME_WARM_SECONDS = 0.5;

/** Options of {@link runThreadsRamp}. */
export interface ThreadsRampOptions {
  /** Offered loads in Mb/s per NIC, in order. */
  readonly loadsMbps: readonly number[];
  /** Interrupt hold-off in µs for every NIC (default each NIC's own). */
  readonly holdoffUs?: number;
  /** Real milliseconds measured per step (default 1000). */
  readonly durationMs?: number;
  /** Real milliseconds of warm-up per step (default 200). */
  readonly warmupMs?: number;
  /** Real milliseconds after each window for late echoes (default 100). */
  readonly cooldownMs?: number;
  /** UDP payload bytes (default the description's). */
  readonly packetSize?: number;
  /**
   * The load's wire: the NICs' UDP wires on 127.0.0.1 (`'udp'`, default) or the in-process
   * frame rings (`'in-process'`: no socket, for fast runs).
   */
  readonly via?: 'udp' | 'in-process';
  /** Realiser options (engine spin, worker script). */
  readonly realize?: Omit<RealizeThreadsOptions, 'wire' | 'clock'>;
  /** Called after each step. */
  readonly onStep?: (result: StepResult, index: number) => void;
}

/** Wait until `built` serves (or throw why not). */
export async function startThreadsSystem(
  built: ThreadsSystem,
  limitSeconds = THREADS_STARTUP_LIMIT_SECONDS,
): Promise<void> {
  await built.start();
  const until = performance.now() + limitSeconds * 1000;
  while (!built.ready() && performance.now() < until) {
    if (built.engine.failures.length > 0 || built.engine.deviceError !== null) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  built.checkStarted();
}

/** Options of {@link primeThreadsSystem}. */
export interface PrimeOptions {
  /** Seconds of light load that resolve ARP (default 0.3). */
  readonly arpSeconds?: number;
  /** Then seconds of load at {@link PrimeOptions.rateMbps} that warm the code up (default 0: none). */
  readonly warmSeconds?: number;
  /** Offered load per client during the warm phase, Mb/s. */
  readonly rateMbps?: number;
  /** UDP payload bytes during the warm phase (default 1024). */
  readonly packetSize?: number;
}

/**
 * Prime a started system before measuring, results discarded: first every client runs at a
 * light rate (≈ 100 probes/s: never overruns a NIC, so no ARP reply is lost and each stack
 * resolves its clients' addresses), then, if asked, at a given rate, so the workers' code on the
 * packet path is compiled (V8 runs code interpreted first: the first thousands of packets of a
 * fresh system are several times slower).
 */
export async function primeThreadsSystem(
  built: ThreadsSystem,
  options: PrimeOptions = {},
): Promise<void> {
  const run = (rateMbps: number, packetSize: number, durationS: number) =>
    Promise.all(
      built.clients.map((c) =>
        c.start({ rateMbps, packetSize, warmupS: 0, durationS, cooldownS: 0.05 }),
      ),
    );
  await run(0.2, 256, options.arpSeconds ?? 0.3);
  const warm = options.warmSeconds ?? 0;
  if (warm > 0 && options.rateMbps !== undefined && options.rateMbps > 0)
    await run(options.rateMbps, options.packetSize ?? 1024, warm);
}

/**
 * What a step added to each counter: one system serves the whole ramp on threads, so a step's
 * counters are the increase over that step (warm-up, window, cool-down). Gauges (a manager's
 * free frames, ...) read as their change.
 */
export function counterDeltas(
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/**
 * Run a ramp of real load on one placement on the threads engine.
 *
 * @param system - a validated description (isolated, clustered or embedded: not the monolithic
 *   baseline, see `MONOLITHIC_SIM_ONLY`)
 * @param options - loads, window, hold-off
 * @returns one result per load, `engine: 'threads'`
 * @throws ThreadsPlacementError for the monolithic baseline; AssemblyError if it does not start
 */
export async function runThreadsRamp(
  system: SystemDescription,
  options: ThreadsRampOptions,
): Promise<StepResult[]> {
  if (options.loadsMbps.length === 0) throw new StepOptionsError('loadsMbps: at least one load');
  for (const l of options.loadsMbps)
    if (!(l > 0 && l <= 1000)) throw new StepOptionsError(`loadsMbps: ${l} not in (0, 1000]`);
  const durationMs = options.durationMs ?? 1000;
  const warmupMs = options.warmupMs ?? 200;
  const p = plan(
    system,
    stepOverrides({
      ...(options.holdoffUs !== undefined ? { holdoffUs: options.holdoffUs } : {}),
      ...(options.packetSize !== undefined ? { packetSize: options.packetSize } : {}),
      durationMs,
      warmupMs,
    }),
  );
  const built = realizeThreads(p, {
    ...options.realize,
    wire: { kind: 'load', via: options.via ?? 'udp' },
  });
  const out: StepResult[] = [];
  try {
    await startThreadsSystem(built);
    // ARP, then the first step's load for half a second to warm the code up
    await primeThreadsSystem(built, {
      warmSeconds: PRIME_WARM_SECONDS,
      rateMbps: (options.loadsMbps[0]! * p.devices.length) / Math.max(1, built.clients.length),
      packetSize: p.load.packetSize,
    });
    const meter = new ThreadCpuMeter(built.cpu);
    const holdoffUs = options.holdoffUs ?? p.devices[0]!.holdoffUnits * 100;
    for (const [index, load] of options.loadsMbps.entries()) {
      const wall0 = performance.now();
      const before = built.counters();
      const offered = load * p.devices.length;
      const step: RampStep = await new Ramp({
        clock: built.clock,
        clients: built.clients,
        packetSize: p.load.packetSize,
        warmupS: p.load.warmupSeconds,
        durationS: p.load.durationSeconds,
        cooldownS: (options.cooldownMs ?? 100) / 1000,
        cpuMeter: meter,
        label: system.name,
      }).runStep(offered);
      if (built.engine.failures.length > 0 || built.engine.deviceError !== null)
        throw new AssemblyError(
          `${system.name}: failed under load: ${built.engine.deviceError ?? built.engine.failures.map((f) => f.message).join('; ')}`,
        );
      const perThread = step.cpu?.perThread ?? {};
      const result: StepResult = {
        config: system.name,
        engine: 'threads',
        holdoffUs,
        holdoffsUs: Object.fromEntries(p.devices.map((d) => [d.name, d.holdoffUnits * 100])),
        bus: {
          clockMHz: p.devices[0]!.pci.clockHz > 50e6 ? 66 : 33,
          widthBits: p.devices[0]!.pci.busBytes === 8 ? 64 : 32,
          eeprom64: p.devices[0]!.eeprom64,
        },
        packetSize: p.load.packetSize,
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
        profile: {},
        cpuByDomain: Object.fromEntries(
          Object.entries(perThread).map(([k, v]) => [k, round(100 * v, 1)]),
        ),
        counters: counterDeltas(before, built.counters()),
        simSeconds: round(p.load.warmupSeconds + p.load.durationSeconds, 6),
        wallSeconds: round((performance.now() - wall0) / 1000),
        ipbench: step,
      };
      out.push(result);
      options.onStep?.(result, index);
    }
  } finally {
    await built.stop();
  }
  return out;
}
