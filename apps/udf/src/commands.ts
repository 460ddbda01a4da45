/** The udf subcommands: plan steps, run them with a progress bar, print and write results. */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CALIBRATION,
  CALIBRATION_POINT,
  calibrationSpread,
  plan,
  runStep,
  type SpreadRow,
  type StepResult,
  type SystemDescription,
} from '@udf/system';
import { SingleBar } from 'cli-progress';
import { bandSteps, formatBand } from './band.js';
import { InputError, loadChecked, memoryNeeds } from './check.js';
import { printProfile, printTable, toJsonDocument, writeOutputs } from './output.js';
import { runSteps, type StepFailure } from './pool.js';
import {
  checkWindow,
  DEFAULT_CONFIGS,
  descriptionPath,
  planSteps,
  type RampOptions,
  type Step,
  shippedNames,
} from './steps.js';
import {
  checkThreadsConfig,
  parseWireChoice,
  runThreadsConfigs,
  serveThreads,
  THREADS_DEFAULT_CONFIGS,
} from './threads.js';

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
  pcap?: string;
  band?: boolean;
  wire?: string;
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

/**
 * Make sure results can be written to `dir` before any work starts: create it one level at a time
 * (Node's recursive `mkdir` can loop forever under `/proc`) and write a probe file.
 */
export function prepareOut(dir: string, option = '--out'): string {
  const out = resolve(dir);
  const missing: string[] = [];
  let existing = out;
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  try {
    if (!statSync(existing).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    for (const d of missing) mkdirSync(d);
    const probe = join(out, `.udf-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new InputError([
      `${option} ${dir}: cannot write results there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a writable directory`,
    ]);
  }
  return out;
}

interface Executed {
  results: StepResult[];
  failures: StepFailure[];
}

async function execute(steps: Step[], opts: RampCliOptions): Promise<Executed> {
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
  const { results, failures } = await runSteps(
    steps,
    (r, i) => {
      const s = steps[i]!;
      bar?.increment({
        last: `${s.config} ${s.holdoffUs} µs ${r ? r.requestedMbps : s.loadMbps} Mb/s${r ? '' : ' FAILED'}`,
      });
    },
    opts.jobs,
  );
  bar?.stop();
  const wall = (performance.now() - started) / 1000;
  const sim = results.reduce((s, r) => s + r.simSeconds, 0);
  if (!opts.json) {
    console.error(
      `${results.length} of ${steps.length} steps: ${sim.toFixed(2)} simulated s in ${wall.toFixed(1)} wall s (${(sim / wall).toFixed(3)} sim s per wall s)`,
    );
  }
  return { results, failures };
}

async function finish(done: Executed, opts: RampCliOptions, out: string, title: string) {
  const { results, failures } = done;
  const doc = { ...toJsonDocument(results), failures };
  if (opts.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else if (results.length > 0 && opts.band) process.stdout.write(formatBand(results));
  else if (results.length > 0) printTable(results);
  const files = await writeOutputs(results, out, title, failures);
  if (!opts.json) console.error(`wrote ${files.join(', ')}`);
  for (const f of failures) {
    console.error(`udf: step ${f.config} ${f.holdoffUs} µs ${f.loadMbps} Mb/s failed: ${f.error}`);
  }
  if (failures.length > 0) {
    console.error(
      `udf: ${failures.length} of ${failures.length + results.length} steps failed; the others are above and in ${out}`,
    );
    process.exitCode = 1;
  }
}

/** Options the threads engine does not take, as `--flag` names. */
function simOnlyOptions(opts: RampCliOptions): string[] {
  const out: string[] = [];
  if (opts.band) out.push("--band (the PCI bus is the sim model's)");
  if (opts.pcap !== undefined) out.push('--pcap (capture the UDP wire with tcpdump instead)');
  if (opts.ipcScale !== undefined) out.push('--ipc-scale (real IPC has no cost table)');
  if (opts.jobs !== undefined) out.push('--jobs (placements run one at a time)');
  if (opts.quick) out.push('--quick (the threads default is already short)');
  return out;
}

/** `udf compare/run --engine threads`: real load on real threads, one placement at a time. */
async function threadsCommand(
  files: string[],
  opts: RampCliOptions,
  title: string,
  via?: 'udp' | 'in-process',
) {
  const bad = simOnlyOptions(opts);
  if (bad.length > 0) throw new InputError(bad.map((b) => `--engine threads: ${b} is sim-only`));
  for (const f of files) checkThreadsConfig(loadChecked(f));
  const out = prepareOut(opts.out);
  const showProgress = opts.progress && !opts.json;
  const started = performance.now();
  const done = await runThreadsConfigs(files, {
    holdoffs: opts.holdoff,
    loads: opts.loads,
    durationMs: opts.duration,
    warmupMs: opts.warmup,
    packetSize: opts.packetSize,
    ...(via !== undefined ? { via } : {}),
    onStep: (r) => {
      if (showProgress)
        console.error(
          `  ${r.config} ${r.holdoffUs} µs ${r.requestedMbps} Mb/s: ${r.achievedMbps.toFixed(1)} Mb/s, cpu ${r.cpuPercent.toFixed(1)} %`,
        );
    },
  });
  if (!opts.json) {
    const wall = (performance.now() - started) / 1000;
    console.error(
      `${done.results.length} steps on the threads engine in ${wall.toFixed(1)} wall s (engine: threads; real time, real load over the ${via === 'in-process' ? 'in-process' : 'UDP'} wire)`,
    );
  }
  await finish(done, opts, out, title);
}

/** `udf compare`: every configuration × hold-off × load. */
export async function compareCommand(opts: RampCliOptions): Promise<void> {
  const threads = opts.engine === 'threads';
  const defaults = threads ? THREADS_DEFAULT_CONFIGS : DEFAULT_CONFIGS;
  const names = opts.configs ? opts.configs.split(',').map((s) => s.trim()) : [...defaults];
  if (names.some((n) => n === ''))
    throw new InputError([`--configs ${JSON.stringify(opts.configs)}: an empty name in the list`]);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw new InputError([`--configs: "${dup}" is listed twice; list each configuration once`]);
  const files = names.map(descriptionPath);
  if (opts.wire !== undefined && !threads)
    throw new InputError(["--wire: only with --engine threads (the sim's wire is simulated)"]);
  if (threads) {
    const wire = opts.wire === undefined ? undefined : parseWireChoice(opts.wire);
    if (wire !== undefined && 'serve' in wire)
      throw new InputError([
        '--wire udp:HOST:PORT serves one placement: use it with udf run CONFIG --engine threads',
      ]);
    await threadsCommand(files, opts, 'udf compare --engine threads', wire?.via);
    return;
  }
  if (opts.band && opts.pcap !== undefined)
    throw new InputError([
      '--band with --pcap: the captures of the four bus configurations of a step would share one file name; capture without --band (or with --configs and --loads narrowed to the step)',
    ]);
  const planned = planSteps(files, toRamp(opts, { holdoffs: [0, 100] }));
  const steps = opts.band ? bandSteps(planned) : planned;
  const seen = new Map<string, string>();
  for (const s of steps) {
    const other = seen.get(s.config);
    if (other !== undefined && other !== s.file) {
      throw new InputError([
        `--configs: ${other} and ${s.file} are both named "${s.config}"; configuration names must differ (their results would merge)`,
      ]);
    }
    seen.set(s.config, s.file);
  }
  const out = prepareOut(opts.out);
  await finish(await execute(withPcap(steps, opts), opts), opts, out, 'udf compare');
}

/** With `--pcap DIR`: the directory is made (and checked writable) first, every step captures into it. */
function withPcap(steps: Step[], opts: RampCliOptions): Step[] {
  if (opts.pcap === undefined) return steps;
  const pcapDir = prepareOut(opts.pcap, '--pcap');
  return steps.map((s) => ({ ...s, pcapDir }));
}

/** `udf run <description>`: one configuration's ramp. */
export async function runCommand(description: string, opts: RampCliOptions): Promise<void> {
  if (opts.wire !== undefined && opts.engine !== 'threads')
    throw new InputError(["--wire: only with --engine threads (the sim's wire is simulated)"]);
  if (opts.engine === 'threads') {
    const wire = opts.wire === undefined ? undefined : parseWireChoice(opts.wire);
    if (wire !== undefined && 'serve' in wire) {
      await serveThreads(description, wire.serve);
      return;
    }
    await threadsCommand(
      [descriptionPath(description)],
      opts,
      `udf run ${description} --engine threads`,
      wire?.via,
    );
    return;
  }
  const steps = planSteps([descriptionPath(description)], toRamp(opts));
  const out = prepareOut(opts.out);
  await finish(await execute(withPcap(steps, opts), opts), opts, out, `udf run ${description}`);
}

/** Options of `udf profile`. */
export interface ProfileCliOptions {
  load: number;
  holdoff?: number;
  duration?: number;
  warmup?: number;
  ipcScale?: number;
  json?: boolean;
  calibration?: boolean;
}

/** `udf profile <description> --load 450`: the execution profile at one load. */
export async function profileCommand(
  description: string | undefined,
  opts: ProfileCliOptions,
): Promise<void> {
  if (opts.calibration) {
    const ignored = (['holdoff', 'ipcScale'] as const).filter((k) => opts[k] !== undefined);
    if (description !== undefined || ignored.length > 0)
      throw new InputError([
        `profile --calibration: takes no description${ignored.length > 0 ? ` and no --${ignored.map((k) => (k === 'ipcScale' ? 'ipc-scale' : k)).join(', --')}` : ''} (it refits the isolated placement and re-measures the paper's four 450 Mb/s points); --duration and --warmup set its windows`,
      ]);
    await calibrationCommand(opts);
    return;
  }
  if (description === undefined)
    throw new InputError([
      'profile: give a description (a name from udf list or a file), or --calibration',
    ]);
  const sys = loadChecked(descriptionPath(description));
  checkWindow(sys, opts.load, opts.duration ?? sys.load.durationMs, sys.load.packetSize);
  const result = await runStep(sys, {
    loadMbps: opts.load,
    holdoffUs: opts.holdoff ?? sys.nics[0]!.holdoffUs,
    durationMs: opts.duration ?? sys.load.durationMs,
    warmupMs: opts.warmup ?? sys.load.warmupMs,
    packetSize: sys.load.packetSize,
    ipcScale: opts.ipcScale ?? sys.machine.ipcScale,
  });
  if (opts.json)
    process.stdout.write(`${JSON.stringify(toJsonDocument([result]).profiles[0], null, 2)}\n`);
  else printProfile(result);
}

/** Label of a calibration-spread prediction as the paper names it. */
const predictionLabel = (r: SpreadRow) =>
  `${r.point.config === 'isolated' ? 'Prime' : r.point.config === 'monolithic' ? 'Linux' : r.point.config} (${r.point.config}), ${r.point.holdoffUs} µs, ${r.point.loadMbps} Mb/s`;

/** The calibration spread as a table: fitted CPU, range, and −1 / +1 of each target. */
export function formatSpread(rows: readonly SpreadRow[]): string {
  const targets = ['cpuPercent', 'workShare', 'frameworkShare', 'overheadShare'];
  const names: Record<string, string> = {
    cpuPercent: 'busy ±1',
    workShare: 'work ±1',
    frameworkShare: 'framework ±1',
    overheadShare: 'overhead ±1',
  };
  const labels = rows.map(predictionLabel);
  const w = Math.max(10, ...labels.map((l) => l.length));
  const cols = ['fitted', 'range', ...targets.map((t) => names[t]!)];
  const widths = [8, 12, 13, 13, 13, 13];
  const lines = [
    `${'prediction (CPU %)'.padEnd(w)}  ${cols.map((c, i) => c.padStart(widths[i]!)).join(' ')}`,
    `${'-'.repeat(w)}  ${widths.map((n) => '-'.repeat(n)).join(' ')}`,
  ];
  rows.forEach((r, i) => {
    const moved = targets.map((t) => {
      const lo = r.moved[`${t}-1`];
      const hi = r.moved[`${t}+1`];
      return lo === undefined || hi === undefined ? '-' : `${lo.toFixed(1)} / ${hi.toFixed(1)}`;
    });
    const cells = [r.cpuPercent.toFixed(1), `${r.min.toFixed(1)}–${r.max.toFixed(1)}`, ...moved];
    lines.push(`${labels[i]!.padEnd(w)}  ${cells.map((c, j) => c.padStart(widths[j]!)).join(' ')}`);
  });
  const p = CALIBRATION_POINT;
  lines.push(
    `(each of the paper's targets at the calibration point — ${p.cpuPercent} % busy, ${p.workShare} / ${p.frameworkShare} / ${p.overheadShare} % of non-idle in work / framework / overhead — moved by −1 / +1 point, the factors refitted and the point re-measured; fitted factors: work ×${CALIBRATION.work}, framework ×${CALIBRATION.framework}, overhead ×${CALIBRATION.overhead})`,
  );
  return `${lines.join('\n')}\n`;
}

/** `udf profile --calibration`: the calibration spread of the paper's Figure 1(b) predictions. */
async function calibrationCommand(opts: ProfileCliOptions): Promise<void> {
  const systems = {
    isolated: loadChecked(descriptionPath('isolated')),
    monolithic: loadChecked(descriptionPath('monolithic')),
  };
  if (!opts.json)
    console.error('calibration spread: 8 refits of the isolated placement and 36 prediction steps');
  const rows = await calibrationSpread(systems, undefined, {
    durationMs: opts.duration,
    warmupMs: opts.warmup,
  });
  if (opts.json)
    process.stdout.write(`${JSON.stringify({ factors: CALIBRATION, rows }, null, 2)}\n`);
  else process.stdout.write(formatSpread(rows));
}

/** `udf validate <description>`: check and summarise. */
export function validateCommand(description: string, options: { plan?: boolean } = {}): void {
  const sys: SystemDescription = loadChecked(descriptionPath(description));
  if (options.plan) {
    console.log(JSON.stringify(plan(sys), null, 2));
    return;
  }
  console.log(`${sys.name}: ${sys.description}`);
  for (const d of sys.domains) {
    console.log(
      `  domain ${d.name} (priority ${d.priority}${d.kernel ? ', kernel' : ''}): ${d.components.map((c) => c.kind).join(', ')}`,
    );
  }
  for (const n of sys.nics)
    console.log(`  nic ${n.name}: irq ${n.irq}, mac ${n.mac}, hold-off ${n.holdoffUs} µs`);
  const mgr = sys.domains.flatMap((d) => d.components).find((c) => c.kind === 'dataspace-manager');
  const pool = mgr?.kind === 'dataspace-manager' ? mgr.pages : 0;
  const needs = memoryNeeds(sys);
  console.log(
    `  memory: manager pool ${pool} pages (sessions and translation tables need ${needs.managerPages}); machine ${sys.machine.memoryMiB} MiB (needs ${needs.minMemoryMiB(pool)} MiB)`,
  );
}

/** `udf list`: the shipped placements with their one-line descriptions. */
export function listCommand(): void {
  const names = shippedNames();
  const width = Math.max(...names.map((n) => n.length));
  for (const name of names) {
    const sys = loadChecked(descriptionPath(name));
    console.log(`${name.padEnd(width)}  ${sys.description}`);
  }
}
