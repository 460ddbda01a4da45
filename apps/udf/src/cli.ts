/**
 * `udf`: compare driver placement configurations under ipbench load on the sim engine.
 *
 *   udf compare                      all configurations, 0 and 100 µs hold-off, the paper's ramp
 *   udf run <description>            one configuration's ramp
 *   udf profile <description> --load 450   the Figure 1(a) execution profile at one load
 *   udf validate <description>       check a description and print what it declares
 */

import { loadSystem, SystemDescriptionError } from '@udf/system';
import { Command, InvalidArgumentError, Option } from 'commander';
import { compareCommand, profileCommand, runCommand } from './commands.js';
import { DEFAULT_CONFIGS, descriptionPath } from './steps.js';

const numberList = (what: string) => (value: string) => {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new InvalidArgumentError(
      `expected a comma-separated list of non-negative numbers for ${what}`,
    );
  }
  return list;
};
const nonNegative = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a non-negative number for ${what}`);
  return n;
};
const positive = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number for ${what}`);
  return n;
};

function rampOptions(cmd: Command): Command {
  return cmd
    .option(
      '--holdoff <us,...>',
      'interrupt hold-off values in µs (multiples of 100)',
      numberList('--holdoff'),
    )
    .option('--loads <mbps,...>', 'offered loads in Mb/s per NIC', numberList('--loads'))
    .option('--duration <ms>', 'virtual milliseconds measured per step', positive('--duration'))
    .option('--warmup <ms>', 'virtual milliseconds of warm-up per step', nonNegative('--warmup'))
    .option('--packet-size <bytes>', 'UDP payload bytes', positive('--packet-size'))
    .option(
      '--ipc-scale <x>',
      'multiply the kernel IPC costs (sensitivity)',
      positive('--ipc-scale'),
    )
    .option('--out <dir>', 'directory for CSV, JSON and SVG output', 'results')
    .option('--json', 'write one JSON document to stdout instead of the table')
    .option('--jobs <n>', 'worker threads running steps side by side', positive('--jobs'))
    .addOption(new Option('--engine <engine>', 'execution engine').choices(['sim']).default('sim'))
    .option('--no-progress', 'no progress bar');
}

const program = new Command()
  .name('udf')
  .description(
    'Compare user-level driver placement configurations under ipbench UDP echo load (sim engine).',
  )
  .showHelpAfterError();

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
    .option('--quick', 'a short ramp (50, 300, 700 Mb/s) with 10 ms steps, for a fast look'),
).action(async (opts) => {
  await compareCommand(opts);
});

rampOptions(
  program
    .command('run')
    .description('run the ipbench ramp on one configuration')
    .argument('<description>', 'configuration name or description file'),
).action(async (description: string, opts) => {
  await runCommand(description, opts);
});

program
  .command('profile')
  .description(
    'print the execution profile (paper Figure 1(a)) of one configuration at one offered load',
  )
  .argument('<description>', 'configuration name or description file')
  .option('--load <mbps>', 'offered load in Mb/s', positive('--load'), 450)
  .option('--holdoff <us>', 'interrupt hold-off in µs', positive('--holdoff'))
  .option('--duration <ms>', 'virtual milliseconds measured', positive('--duration'))
  .option('--ipc-scale <x>', 'multiply the kernel IPC costs', positive('--ipc-scale'))
  .option('--json', 'print JSON')
  .action(async (description: string, opts) => {
    await profileCommand(description, opts);
  });

program
  .command('validate')
  .description('validate a system description and summarise it')
  .argument('<description>', 'configuration name or description file')
  .action((description: string) => {
    const sys = loadSystem(descriptionPath(description));
    console.log(`${sys.name}: ${sys.description}`);
    for (const d of sys.domains) {
      console.log(
        `  domain ${d.name} (priority ${d.priority}${d.kernel ? ', kernel' : ''}): ${d.components.map((c) => c.kind).join(', ')}`,
      );
    }
    for (const n of sys.nics)
      console.log(`  nic ${n.name}: irq ${n.irq}, mac ${n.mac}, hold-off ${n.holdoffUs} µs`);
  });

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof SystemDescriptionError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(`udf: ${(e as Error).message}`);
  process.exit(1);
}
