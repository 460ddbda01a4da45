/**
 * `udf`: compare driver placement configurations under ipbench load on the sim engine (or, with
 * `--engine threads`, on real worker threads with real UDP load; the monolithic baseline is
 * sim-only).
 *
 *   udf compare                      all configurations, 0 and 100 µs hold-off, the paper's ramp
 *   udf run <description>            one configuration's ramp
 *   udf profile <description> --load 450   the Figure 1(a) execution profile at one load
 *   udf profile --calibration        how much each prediction moves with the calibration targets
 *   udf compare --band               Figure 1(b) across the PCI bus configurations
 *   udf validate <description>       check a description and print what it declares
 *   udf list                         the shipped placements
 *   udf chaos <description>          seeded driver faults under load, and each recovery
 *
 * Exit codes: 0 done, 1 a run failed (completed steps are still printed and written), 2 bad input
 * (an option, a description, a path). Every failure is one line per problem; no stack traces.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { chaosCommand } from './chaos.js';
import { HZ_RANGE, InputError, MAX_IPC_SCALE } from './check.js';
import {
  compareCommand,
  listCommand,
  profileCommand,
  runCommand,
  validateCommand,
} from './commands.js';
import { ipbenchdCommand } from './ipbenchd.js';
import { MAX_JOBS } from './pool.js';
import { DEFAULT_CONFIGS } from './steps.js';

/** Longest virtual window `udf` accepts for a step's warm-up or measurement, in ms. */
const MAX_WINDOW_MS = 60_000;

const version = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

const number = (text: string, expected: string): number => {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected ${expected}, got "${text}"`);
  return n;
};
const inRange =
  (
    lo: number,
    hi: number,
    { integer = false, loOpen = false }: { integer?: boolean; loOpen?: boolean } = {},
  ) =>
  (text: string): number => {
    const expected = loOpen
      ? `a number greater than ${lo} and at most ${hi}`
      : `${integer ? 'an integer' : 'a number'} from ${lo} to ${hi}`;
    const n = number(text, expected);
    if ((integer && !Number.isInteger(n)) || n < lo || (loOpen && n === lo) || n > hi)
      throw new InvalidArgumentError(`expected ${expected}, got ${text}`);
    return n;
  };
const holdoffValue = (text: string): number => {
  const n = number(text, 'a multiple of 100 µs from 0 to 25500');
  if (!Number.isInteger(n) || n < 0 || n > 25500 || n % 100 !== 0)
    throw new InvalidArgumentError(
      `expected a multiple of 100 µs from 0 to 25500 (the DP83820 counts hold-off in 100 µs units), got ${text}`,
    );
  return n;
};
const list =
  (parse: (t: string) => number) =>
  (text: string): number[] => {
    const parts = text.split(',');
    if (parts.some((p) => p.trim() === ''))
      throw new InvalidArgumentError(`expected a comma-separated list of values, got "${text}"`);
    return parts.map((p) => parse(p.trim()));
  };
const loadValue = inRange(0, 1000, { loOpen: true });

function rampOptions(cmd: Command): Command {
  return cmd
    .option(
      '--holdoff <us,...>',
      'interrupt hold-off values in µs (multiples of 100, 0 allowed)',
      list(holdoffValue),
    )
    .option(
      '--loads <mbps,...>',
      'offered loads in Mb/s per NIC, each in (0, 1000]',
      list(loadValue),
    )
    .option(
      '--duration <ms>',
      `milliseconds measured per step, virtual on the sim, real on threads (up to ${MAX_WINDOW_MS})`,
      inRange(0, MAX_WINDOW_MS, { loOpen: true }),
    )
    .option(
      '--warmup <ms>',
      `milliseconds of warm-up per step, virtual on the sim, real on threads (0 to ${MAX_WINDOW_MS})`,
      inRange(0, MAX_WINDOW_MS),
    )
    .option(
      '--packet-size <bytes>',
      'UDP payload bytes (16 to 1472)',
      inRange(16, 1472, { integer: true }),
    )
    .option(
      '--ipc-scale <x>',
      'multiply the kernel IPC costs (sensitivity)',
      inRange(0, MAX_IPC_SCALE, { loOpen: true }),
    )
    .option(
      '--out <dir>',
      'directory for CSV, JSON and SVG output (checked before work starts)',
      'results',
    )
    .option(
      '--pcap <dir>',
      'write a pcap capture of each NIC wire per step (virtual-time ns stamps; tshark/Wireshark read it)',
    )
    .option('--json', 'write one JSON document to stdout instead of the table')
    .option(
      '--jobs <n>',
      `worker threads running steps side by side (1 to ${MAX_JOBS}, twice the cores)`,
      inRange(1, MAX_JOBS, { integer: true }),
    )
    .addOption(
      new Option(
        '--engine <engine>',
        'execution engine: sim (the simulated 2004 machine, virtual time) or threads (real worker threads, real UDP load, real time; isolated, clustered and embedded only: the monolithic baseline is sim-only, its receive livelock being a uniprocessor interrupt-priority phenomenon)',
      )
        .choices(['sim', 'threads'])
        .default('sim'),
    )
    .option(
      '--wire <wire>',
      "with --engine threads: the load's wire, udp (default: each NIC's UDP wire on 127.0.0.1) or in-process (shared-memory frame rings, no socket); or, with run, udp:HOST:PORT to serve until interrupted with NIC i on UDP PORT + i of HOST (one Ethernet frame per datagram) and no built-in load — send frames from the host (ping, UDP echo through a TAP bridge)",
    )
    .option('--no-progress', 'no progress bar');
}

const example = (...lines: string[]) =>
  `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

const program = new Command()
  .name('udf')
  .description(
    'Compare user-level driver placement configurations under ipbench UDP echo load (sim engine by default; --engine threads for real worker threads, isolated/clustered/embedded only).',
  )
  .version(version, '-V, --version', 'print the version of udf')
  .exitOverride()
  .addHelpText(
    'after',
    `${example('udf list', 'udf compare --quick', 'udf validate my-placement.yaml')}\nExit codes: 0 done, 1 a run failed, 2 bad input.\n`,
  );

rampOptions(
  program
    .command('compare')
    .description(
      'run ipbench ramps over several configurations and hold-offs; print a table; write CSV, JSON and SVG charts',
    )
    .option(
      '--configs <names,...>',
      `configurations or description files (default: ${DEFAULT_CONFIGS.join(',')})`,
    )
    .option('--quick', 'a short ramp (50, 300, 700 Mb/s) with 10 ms steps, for a fast look')
    .option(
      '--band',
      'Figure 1(b) as a band: every step on each PCI bus configuration the paper leaves open (32/33, 64/33, 32/66, 64/66); prints the band, writes band.csv and band.json',
    ),
)
  .addHelpText(
    'after',
    example(
      'udf compare --quick',
      'udf compare --configs isolated,monolithic --holdoff 0 --loads 100,450,900 --json',
      'udf compare --configs isolated,monolithic --band --loads 450,800,1000',
      'udf compare --engine threads',
    ),
  )
  .action(async (opts) => {
    await compareCommand(opts);
  });

rampOptions(
  program
    .command('run')
    .description('run the ipbench ramp on one configuration')
    .argument('<description>', 'configuration name (see udf list) or description file'),
)
  .addHelpText(
    'after',
    example(
      'udf run isolated --loads 100,450,900 --out results/isolated',
      'udf run isolated --engine threads --loads 20,100',
      'udf run isolated --engine threads --wire udp:127.0.0.1:5555',
    ),
  )
  .action(async (description: string, opts) => {
    await runCommand(description, opts);
  });

program
  .command('profile')
  .description(
    'print the execution profile (paper Figure 1(a)) of one configuration at one offered load',
  )
  .argument('[description]', 'configuration name (see udf list) or description file')
  .option('--load <mbps>', 'offered load in Mb/s per NIC, in (0, 1000]', loadValue, 450)
  .option('--holdoff <us>', 'interrupt hold-off in µs (a multiple of 100, 0 allowed)', holdoffValue)
  .option(
    '--duration <ms>',
    'virtual milliseconds measured',
    inRange(0, MAX_WINDOW_MS, { loOpen: true }),
  )
  .option('--warmup <ms>', 'virtual milliseconds of warm-up', inRange(0, MAX_WINDOW_MS))
  .option(
    '--ipc-scale <x>',
    'multiply the kernel IPC costs',
    inRange(0, MAX_IPC_SCALE, { loOpen: true }),
  )
  .option('--json', 'print JSON')
  .option(
    '--calibration',
    "print the calibration spread instead: each of the paper's four profile targets moved by ±1 point, the cost factors refitted, and the paper's four 450 Mb/s points re-measured (no description; --duration and --warmup set the windows)",
  )
  .addHelpText(
    'after',
    example('udf profile isolated --load 450 --holdoff 0', 'udf profile --calibration'),
  )
  .action(async (description: string | undefined, opts) => {
    await profileCommand(description, opts);
  });

program
  .command('validate')
  .description(
    `check a system description (schema, memory, addresses, sessions; clock ${HZ_RANGE[0] / 1e6} MHz to ${HZ_RANGE[1] / 1e9} GHz) and summarise it`,
  )
  .argument('<description>', 'configuration name (see udf list) or description file')
  .option(
    '--plan',
    'print the plan the description becomes (spaces, regions, components, sessions) as JSON',
  )
  .addHelpText(
    'after',
    example(
      'udf validate isolated',
      'udf validate ./my-placement.yaml',
      'udf validate --plan clustered',
    ),
  )
  .action((description: string, options: { plan?: boolean }) => {
    validateCommand(description, options);
  });

program
  .command('list')
  .description('list the placement configurations shipped with udf')
  .addHelpText('after', example('udf list'))
  .action(() => {
    listCommand();
  });

program.addCommand(ipbenchdCommand());
program.addCommand(chaosCommand());

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    // commander printed its message (or the help / version) already.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof InputError) {
    for (const line of e.lines) console.error(line);
    process.exit(2);
  }
  const err = e as Error;
  console.error(`udf: ${err.name}: ${String(err.message).split('\n')[0]}`);
  process.exit(1);
}
