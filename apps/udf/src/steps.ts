/**
 * What the udf command runs: a list of experiment steps (configuration × hold-off × offered load)
 * and the description files they come from.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSystem, type StepOptions, type SystemDescription } from '@udf/system';

/** The configurations `udf compare` runs by default, in the order the table lists them. */
export const DEFAULT_CONFIGS = ['isolated', 'clustered', 'embedded', 'monolithic'] as const;

/** Where the shipped placement descriptions live (apps/<name>/system.yaml beside this app). */
const APPS_DIR = resolve(import.meta.dirname, '..', '..');

/** Resolve a configuration name (`isolated`) or a description path to a file. */
export function descriptionPath(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return resolve(nameOrPath);
  const shipped = resolve(APPS_DIR, nameOrPath, 'system.yaml');
  if (/^[a-z][a-z0-9-]*$/.test(nameOrPath) && existsSync(shipped)) return shipped;
  throw new Error(
    `no description "${nameOrPath}": give a file path or one of ${DEFAULT_CONFIGS.join(', ')}`,
  );
}

/** One step of an experiment, as sent to a worker. */
export interface Step extends StepOptions {
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
    const sys: SystemDescription = loadSystem(file);
    const holdoffs = options.holdoffs ?? [sys.nics[0]!.holdoffUs];
    const loads = options.loads ?? sys.load.rampMbps;
    for (const holdoffUs of holdoffs) {
      for (const loadMbps of loads) {
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
