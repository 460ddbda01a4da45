/**
 * `udf chaos`: kill, hang or corrupt a user-level driver at seeded random moments of an echo
 * load on the sim engine, and report each recovery (see `runChaos` in `@udf/system`): outage,
 * packets in flight at the fault, packets lost. Same seed, same report.
 *
 * @module
 */
import {
  CHAOS_FAULT_KINDS,
  type ChaosFaultKind,
  type ChaosReport,
  runChaos,
  StepOptionsError,
} from '@udf/system';
import { Command, InvalidArgumentError } from 'commander';
import { InputError, loadChecked } from './check.js';
import { descriptionPath } from './steps.js';

/** Options of `udf chaos`, as commander parses them. */
export interface ChaosCliOptions {
  seed: number;
  faults: number;
  kinds: ChaosFaultKind[];
  load: number;
  duration: number;
  packetSize?: number;
  json?: boolean;
}

/** An integer option parser for `name` accepting `lo` to `hi`. */
export const integer = (name: string, lo: number, hi: number) => (text: string) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < lo || n > hi)
    throw new InvalidArgumentError(`${name}: expected an integer from ${lo} to ${hi}, got ${text}`);
  return n;
};
const positive = (name: string, hi: number) => (text: string) => {
  const n = Number(text);
  if (text.trim() === '' || !(n > 0) || n > hi)
    throw new InvalidArgumentError(`${name}: expected a number in (0, ${hi}], got ${text}`);
  return n;
};
/**
 * Parse a comma-separated list of fault kinds (`kill,hang`).
 * @throws InvalidArgumentError naming `option` for an unknown kind
 */
export const parseFaultKinds =
  (option: string) =>
  (text: string): ChaosFaultKind[] => {
    const parts = text.split(',').map((p) => p.trim());
    const bad = parts.filter((p) => !(CHAOS_FAULT_KINDS as readonly string[]).includes(p));
    if (bad.length > 0 || parts.length === 0)
      throw new InvalidArgumentError(
        `${option}: expected a comma-separated list of ${CHAOS_FAULT_KINDS.join(', ')}, got "${text}"`,
      );
    return parts as ChaosFaultKind[];
  };
const kinds = parseFaultKinds('--kinds');

const ms = (s: number, digits = 3) => (s * 1000).toFixed(digits);

/** The report as text: one line per fault, then the totals. */
export function formatChaos(r: ChaosReport): string {
  const head = ['#', 'kind', 'at ms', 'detect ms', 'outage ms', 'in flight', 'lost', 'outage lost'];
  const rows = r.faults.map((f, i) => [
    String(i + 1),
    f.kind,
    ms(f.atSeconds, 2),
    f.restarted ? ms(f.detectSeconds) : '-',
    ms(f.outageSeconds),
    String(f.inFlightAtFault),
    String(f.lostPackets),
    String(f.outageLost),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((x, c) => (c < 2 ? x.padEnd(width[c]!) : x.padStart(width[c]!))).join('  ')}`;
  const t = r.totals;
  return [
    `udf chaos ${r.system}: seed ${r.seed}, ${t.faults} fault${t.faults === 1 ? '' : 's'}, ${r.loadMbps} Mb/s per NIC for ${r.durationMs} ms (sim)`,
    line(head),
    ...rows.map(line),
    `driver restarts: ${t.restarts}; probes reaching the NIC ${t.arrived}, echoed ${t.echoed}`,
    `lost: ${t.lostPackets} of the ${t.inFlightAtFault} in flight at the faults, ${t.outageLost} arriving during outages, ${t.otherLost} elsewhere`,
    `outage: max ${ms(t.maxOutageSeconds)} ms, mean ${ms(t.meanOutageSeconds)} ms`,
    `garbage descriptors: ${t.garbageWritten} written, ${t.corruptCounted} counted and dropped by the clients; unsupervised thread failures: ${t.unsupervisedFailures}`,
  ].join('\n');
}

/** The `udf chaos` command. */
export function chaosCommand(): Command {
  return new Command('chaos')
    .description(
      'kill, hang or corrupt the driver at seeded random moments of an echo load (sim engine) and report each recovery: outage, packets in flight, packets lost',
    )
    .argument('[description]', 'configuration name (see udf list) or description file', 'isolated')
    .option('--seed <n>', 'seed of the fault schedule', integer('--seed', 0, 0xffffffff), 1)
    .option(
      '--faults <n>',
      'faults to inject, one per equal slot of the load',
      integer('--faults', 1, 100),
      4,
    )
    .option('--kinds <list>', `fault kinds to draw from (${CHAOS_FAULT_KINDS.join(',')})`, kinds, [
      ...CHAOS_FAULT_KINDS,
    ])
    .option(
      '--load <mbps>',
      'offered load in Mb/s per NIC, in (0, 1000]',
      positive('--load', 1000),
      200,
    )
    .option(
      '--duration <ms>',
      'virtual milliseconds of load (at least 10 per fault)',
      positive('--duration', 60_000),
      200,
    )
    .option(
      '--packet-size <bytes>',
      'UDP payload bytes (24 to 1472)',
      integer('--packet-size', 24, 1472),
    )
    .option('--json', 'print one JSON document: a record per fault and the totals')
    .addHelpText(
      'after',
      '\nExamples:\n  $ udf chaos isolated --seed 7 --faults 6\n  $ udf chaos clustered --kinds kill --json\n',
    )
    .action(async (description: string, opts: ChaosCliOptions) => {
      const sys = loadChecked(descriptionPath(description));
      let report: ChaosReport;
      try {
        report = await runChaos(sys, {
          seed: opts.seed,
          faults: opts.faults,
          kinds: opts.kinds,
          loadMbps: opts.load,
          durationMs: opts.duration,
          ...(opts.packetSize !== undefined ? { packetSize: opts.packetSize } : {}),
        });
      } catch (e) {
        if (e instanceof StepOptionsError) throw new InputError([`udf chaos: ${e.message}`]);
        throw e;
      }
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatChaos(report));
    });
}
