/**
 * `udf run CONFIG --chaos [kinds]`: the run's ramp with seeded driver faults. Every step (hold-off
 * × load) is a `runChaos` run of `@udf/system` on the sim engine — the echo load at the step's
 * offered load, hold-off, packet size and IPC scale, with `--faults` faults of the kinds given
 * injected at seeded moments — and prints what the step delivered next to the chaos records of
 * its faults (the same records as `udf chaos`).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHAOS_FAULT_KINDS,
  type ChaosFaultKind,
  type ChaosReport,
  runChaos,
  StepOptionsError,
} from '@udf/system';
import { formatChaos } from './chaos.js';
import { InputError, loadChecked } from './check.js';
import type { Step } from './steps.js';

/** The chaos options of `udf run`, as commander parses them. */
export interface RunChaosCliOptions {
  /** `--chaos` alone (every kind) or `--chaos kill,hang`. */
  chaos?: true | ChaosFaultKind[];
  /** `--seed N`: the fault schedule's seed (default 1). */
  seed?: number;
  /** `--faults N`: faults per step (default 4). */
  faults?: number;
}

/** One step of `udf run --chaos`: what it delivered and its faults. */
export interface ChaosStepResult {
  /** Configuration name. */
  readonly config: string;
  /** Interrupt hold-off of every NIC, µs. */
  readonly holdoffUs: number;
  /** Offered load per NIC, Mb/s. */
  readonly loadMbps: number;
  /** Virtual milliseconds of load. */
  readonly durationMs: number;
  /** UDP payload bytes. */
  readonly packetSize: number;
  /**
   * Mb/s per NIC of UDP payload echoed out of the NICs, of the probes sent in the window (the
   * echoes leave the NIC; the network after it drops none).
   */
  readonly echoedMbps: number;
  /** The faults and their recovery, as `udf chaos --json` prints them. */
  readonly chaos: ChaosReport;
}

/** What `udf run --chaos --json` prints (and writes as `chaos.json`). */
export interface RunChaosDocument {
  readonly command: 'run';
  readonly engine: 'sim';
  /** The fault schedule: seed, kinds, faults per step. */
  readonly chaos: {
    readonly seed: number;
    readonly kinds: readonly ChaosFaultKind[];
    readonly faultsPerStep: number;
  };
  readonly steps: readonly ChaosStepResult[];
}

/** The defaults of `--seed` and `--faults` with `--chaos`. */
export const RUN_CHAOS_DEFAULTS = { seed: 1, faults: 4 } as const;

/**
 * The bad combinations of `--chaos`, `--seed` and `--faults` with the other options of `udf run`,
 * one line each; empty if none.
 */
export function chaosConflicts(
  opts: RunChaosCliOptions & {
    engine: string;
    pcap?: string;
    jobs?: number;
    wire?: string;
    warmup?: number;
  },
): string[] {
  const out: string[] = [];
  if (opts.chaos === undefined) {
    if (opts.seed !== undefined) out.push('--seed: only with --chaos (the seed of the faults)');
    if (opts.faults !== undefined) out.push('--faults: only with --chaos');
    return out;
  }
  if (opts.engine === 'threads')
    out.push(
      '--chaos with --engine threads: fault injection is sim-only (it stops and corrupts the driver through the simulated kernel and follows every probe on the simulated wire); use --engine sim',
    );
  if (opts.wire !== undefined) out.push('--chaos with --wire: the wire is simulated under --chaos');
  if (opts.pcap !== undefined)
    out.push('--chaos with --pcap: a chaos step records no capture; capture without --chaos');
  if (opts.jobs !== undefined)
    out.push('--chaos with --jobs: chaos steps run one after another in the udf process');
  if (opts.warmup !== undefined)
    out.push(
      '--chaos with --warmup: a chaos step has no warm-up (the faults are spread over the whole load)',
    );
  return out;
}

/** Run each step with seeded faults; one result per step, in order. */
export async function runChaosSteps(
  steps: readonly Step[],
  opts: RunChaosCliOptions,
  onStep?: (r: ChaosStepResult, index: number) => void,
): Promise<RunChaosDocument> {
  const kinds = opts.chaos === true || opts.chaos === undefined ? CHAOS_FAULT_KINDS : opts.chaos;
  const seed = opts.seed ?? RUN_CHAOS_DEFAULTS.seed;
  const faults = opts.faults ?? RUN_CHAOS_DEFAULTS.faults;
  const results: ChaosStepResult[] = [];
  for (const [i, step] of steps.entries()) {
    const base = loadChecked(step.file);
    const sys = {
      ...base,
      nics: base.nics.map((n) => ({ ...n, holdoffUs: step.holdoffUs })),
      machine: { ...base.machine, ipcScale: step.ipcScale ?? base.machine.ipcScale },
    };
    const packetSize = step.packetSize ?? base.load.packetSize;
    const durationMs = step.durationMs ?? base.load.durationMs;
    let report: ChaosReport;
    try {
      report = await runChaos(sys, {
        seed,
        faults,
        kinds,
        loadMbps: step.loadMbps,
        durationMs,
        packetSize,
      });
    } catch (e) {
      if (e instanceof StepOptionsError)
        throw new InputError([
          `udf run --chaos: ${e.message}${/durationMs/.test(e.message) ? ' (raise --duration or lower --faults)' : ''}`,
        ]);
      throw e;
    }
    const r: ChaosStepResult = {
      config: step.config,
      holdoffUs: step.holdoffUs,
      loadMbps: step.loadMbps,
      durationMs,
      packetSize,
      echoedMbps:
        (report.totals.echoed * packetSize * 8) / (durationMs / 1000) / 1e6 / sys.nics.length,
      chaos: report,
    };
    results.push(r);
    onStep?.(r, i);
  }
  return {
    command: 'run',
    engine: 'sim',
    chaos: { seed, kinds, faultsPerStep: faults },
    steps: results,
  };
}

const ms = (s: number) => (s * 1000).toFixed(3);

/** The document as text: a row per step, then each step's fault records. */
export function formatRunChaos(doc: RunChaosDocument): string {
  const head = [
    'hold-off µs',
    'offered Mb/s',
    'echoed Mb/s',
    'faults',
    'restarts',
    'in flight',
    'lost',
    'outage lost',
    'other lost',
    'max outage ms',
  ];
  const rows = doc.steps.map((s) => {
    const t = s.chaos.totals;
    return [
      String(s.holdoffUs),
      String(s.loadMbps),
      s.echoedMbps.toFixed(1),
      String(t.faults),
      String(t.restarts),
      String(t.inFlightAtFault),
      String(t.lostPackets),
      String(t.outageLost),
      String(t.otherLost),
      ms(t.maxOutageSeconds),
    ];
  });
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((x, c) => x.padStart(width[c]!)).join('  ')}`;
  const first = doc.steps[0];
  const c = doc.chaos;
  return [
    `udf run ${first?.config ?? ''} --chaos ${c.kinds.join(',')}: seed ${c.seed}, ${c.faultsPerStep} fault${c.faultsPerStep === 1 ? '' : 's'} per step, ${first?.durationMs ?? 0} ms per step (sim; echoed: Mb/s per NIC of payload echoed out of the NICs)`,
    line(head),
    ...rows.map(line),
    ...doc.steps.flatMap((s) => [
      '',
      `hold-off ${s.holdoffUs} µs, ${s.loadMbps} Mb/s:`,
      formatChaos(s.chaos).split('\n').slice(1).join('\n'),
    ]),
  ].join('\n');
}

/** Write the document as `chaos.json` in `out`; returns the file's path. */
export function writeRunChaos(doc: RunChaosDocument, out: string): string {
  const file = join(out, 'chaos.json');
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}
