/** The udf subcommands: plan steps, run them with a progress bar, print and write results. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSystem, runStep, type StepResult } from '@udf/system';
import { SingleBar } from 'cli-progress';
import { printProfile, printTable, toJsonDocument, writeOutputs } from './output.js';
import { runSteps } from './pool.js';
import {
  DEFAULT_CONFIGS,
  descriptionPath,
  planSteps,
  type RampOptions,
  type Step,
} from './steps.js';

/** Options of `udf compare` and `udf run` as commander parses them. */
export interface RampCliOptions {
  holdoff?: number[];
  loads?: number[];
  duration?: number;
  warmup?: number;
  packetSize?: number;
  ipcScale?: number;
  out: string;
  json?: boolean;
  jobs?: number;
  progress: boolean;
  configs?: string;
  quick?: boolean;
  engine: string;
}

function toRamp(opts: RampCliOptions, defaults: RampOptions = {}): RampOptions {
  return {
    holdoffs: opts.holdoff ?? defaults.holdoffs,
    loads: opts.loads ?? (opts.quick ? [50, 300, 700] : defaults.loads),
    durationMs: opts.duration ?? (opts.quick ? 10 : defaults.durationMs),
    warmupMs: opts.warmup ?? (opts.quick ? 3 : defaults.warmupMs),
    packetSize: opts.packetSize,
    ipcScale: opts.ipcScale,
  };
}

async function execute(steps: Step[], opts: RampCliOptions): Promise<StepResult[]> {
  const showBar = opts.progress && !opts.json && process.stderr.isTTY !== false;
  const bar = showBar
    ? new SingleBar({
        format: ' {bar} {value}/{total} steps | {eta_formatted} left | {last}',
        stream: process.stderr,
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      })
    : null;
  bar?.start(steps.length, 0, { last: 'starting' });
  const started = performance.now();
  const results = await runSteps(
    steps,
    (r) => bar?.increment({ last: `${r.config} ${r.holdoffUs} µs ${r.requestedMbps} Mb/s` }),
    opts.jobs,
  );
  bar?.stop();
  const wall = (performance.now() - started) / 1000;
  const sim = results.reduce((s, r) => s + r.simSeconds, 0);
  if (!opts.json) {
    console.error(
      `${steps.length} steps: ${sim.toFixed(2)} simulated s in ${wall.toFixed(1)} wall s (${(sim / wall).toFixed(3)} sim s per wall s)`,
    );
  }
  return results;
}

async function finish(results: StepResult[], opts: RampCliOptions, title: string): Promise<void> {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(toJsonDocument(results), null, 2)}\n`);
  } else {
    printTable(results);
  }
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const files = await writeOutputs(results, out, title);
  if (!opts.json) console.error(`wrote ${files.join(', ')}`);
}

/** `udf compare`: every configuration × hold-off × load. */
export async function compareCommand(opts: RampCliOptions): Promise<void> {
  const names = opts.configs ? opts.configs.split(',').map((s) => s.trim()) : [...DEFAULT_CONFIGS];
  const files = names.map(descriptionPath);
  const steps = planSteps(files, toRamp(opts, { holdoffs: [0, 100] }));
  await finish(await execute(steps, opts), opts, 'udf compare');
}

/** `udf run <description>`: one configuration's ramp. */
export async function runCommand(description: string, opts: RampCliOptions): Promise<void> {
  const steps = planSteps([descriptionPath(description)], toRamp(opts));
  await finish(await execute(steps, opts), opts, `udf run ${description}`);
}

/** Options of `udf profile`. */
export interface ProfileCliOptions {
  load: number;
  holdoff?: number;
  duration?: number;
  ipcScale?: number;
  json?: boolean;
}

/** `udf profile <description> --load 450`: the execution profile at one load. */
export async function profileCommand(description: string, opts: ProfileCliOptions): Promise<void> {
  const file = descriptionPath(description);
  const sys = loadSystem(file);
  const result = await runStep(sys, {
    loadMbps: opts.load,
    holdoffUs: opts.holdoff ?? sys.nics[0]!.holdoffUs,
    durationMs: opts.duration ?? sys.load.durationMs,
    warmupMs: sys.load.warmupMs,
    packetSize: sys.load.packetSize,
    ipcScale: opts.ipcScale ?? sys.machine.ipcScale,
  });
  if (opts.json)
    process.stdout.write(`${JSON.stringify(toJsonDocument([result]).profiles[0], null, 2)}\n`);
  else printProfile(result);
}
