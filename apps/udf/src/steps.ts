/**
 * What the udf command runs: a list of experiment steps (configuration × hold-off × offered load)
 * and the description files they come from.
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StepOptions, SystemDescription } from '@udf/system';
import { didYouMean, InputError, loadChecked } from './check.js';

/** The configurations `udf compare` runs by default, in the order the table lists them. */
export const DEFAULT_CONFIGS = ['isolated', 'clustered', 'embedded', 'monolithic'] as const;

/**
 * Where the shipped placement descriptions live: `dist/systems/` of this package (copied there
 * at build by `scripts/ship-systems.mjs`), resolved from this module, installed or not.
 */
export const SYSTEMS_DIR =
  [
    resolve(import.meta.dirname, 'systems'),
    resolve(import.meta.dirname, '..', 'dist', 'systems'),
  ].find((d) => existsSync(d)) ?? resolve(import.meta.dirname, 'systems');

/** The names of the shipped placements, default ones first. */
export function shippedNames(): string[] {
  const found = existsSync(SYSTEMS_DIR)
    ? readdirSync(SYSTEMS_DIR)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -'.yaml'.length))
    : [];
  return [
    ...DEFAULT_CONFIGS.filter((n) => found.includes(n)),
    ...found.filter((n) => !(DEFAULT_CONFIGS as readonly string[]).includes(n)).sort(),
  ];
}

/** Resolve a configuration name (`isolated`) or a description path to a file. */
export function descriptionPath(nameOrPath: string): string {
  if (/^[a-z][a-z0-9-]*$/.test(nameOrPath)) {
    const shipped = resolve(SYSTEMS_DIR, `${nameOrPath}.yaml`);
    if (existsSync(shipped)) return shipped;
  }
  if (existsSync(nameOrPath)) return resolve(nameOrPath);
  const names = shippedNames();
  throw new InputError([
    `no description "${nameOrPath}"${didYouMean(nameOrPath, names)}: give a file path or one of ${names.join(', ')} (see udf list)`,
  ]);
}

/** One step of an experiment, as sent to a worker. */
export interface Step extends StepOptions {
  /** Interrupt hold-off applied to every NIC in this step, µs. */
  readonly holdoffUs: number;
  /** Description file. */
  readonly file: string;
  /** Configuration name (from the description). */
  readonly config: string;
}

/** Options shared by the commands that run ramps. */
export interface RampOptions {
  readonly holdoffs?: readonly number[];
  readonly loads?: readonly number[];
  readonly durationMs?: number;
  readonly warmupMs?: number;
  readonly packetSize?: number;
  readonly ipcScale?: number;
}

/** Expand descriptions × hold-offs × loads into steps. */
export function planSteps(files: readonly string[], options: RampOptions): Step[] {
  const steps: Step[] = [];
  for (const file of files) {
    const sys: SystemDescription = loadChecked(file);
    const holdoffs = options.holdoffs ?? [sys.nics[0]!.holdoffUs];
    const loads = options.loads ?? sys.load.rampMbps;
    for (const holdoffUs of holdoffs) {
      for (const loadMbps of loads) {
        checkWindow(
          sys,
          loadMbps,
          options.durationMs ?? sys.load.durationMs,
          options.packetSize ?? sys.load.packetSize,
        );
        steps.push({
          file,
          config: sys.name,
          holdoffUs,
          loadMbps,
          durationMs: options.durationMs ?? sys.load.durationMs,
          warmupMs: options.warmupMs ?? sys.load.warmupMs,
          packetSize: options.packetSize ?? sys.load.packetSize,
          ipcScale: options.ipcScale ?? sys.machine.ipcScale,
        });
      }
    }
  }
  return steps;
}

/**
 * Refuse a step whose measurement window is shorter than the gap between two probes of one
 * client. Each client's first probe leaves half a gap after the start (`@udf/ipbench`'s `phase`),
 * so a window counts the nearest whole number of probes per client and the throughput is measured
 * in steps of one probe per client per window: shorter than one gap, every client reports either
 * nothing or one probe (0.001 Mb/s offered in a 1 ms window would read 0 or 32.8 Mb/s).
 */
export function checkWindow(
  sys: SystemDescription,
  loadMbps: number,
  durationMs: number,
  packetSize: number,
): void {
  const gapMs = (1e3 * 8 * packetSize * sys.load.clientsPerNic) / (loadMbps * 1e6);
  if (durationMs < gapMs) {
    throw new InputError([
      `${sys.name}: at ${loadMbps} Mb/s each of the ${sys.load.clientsPerNic} clients sends a ${packetSize}-byte probe every ${gapMs.toPrecision(3)} ms, longer than the ${durationMs} ms window, which would hold less than one probe per client (its throughput would read 0 or several times the offered load); raise --duration to at least ${Math.ceil(gapMs)} or the load`,
    ]);
  }
}
