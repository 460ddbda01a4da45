/**
 * `udf hostile`: the hostile-domain experiments of issue 18 on the sim engine (`hostileCases` in
 * `@udf/system`): a clustered driver serving two client domains, with the client on nic0 or the
 * driver misbehaving — garbage descriptors, corrupt ring indices, a wake-up flood — and what the
 * honest side lost, what the other side counted and whether the driver was restarted.
 * Deterministic: the same options print the same report.
 *
 * @module
 */
import { HOSTILE_PLACEMENT, type HostileCaseResult, hostileCases, plan } from '@udf/system';
import { Command, InvalidArgumentError } from 'commander';

/** Options of `udf hostile`, as commander parses them. */
export interface HostileCliOptions {
  load: number;
  duration: number;
  json?: boolean;
}

/** What `udf hostile --json` prints. */
export interface HostileDocument {
  /** The placement's name (a clustered driver with a stack domain on each of its two NICs). */
  readonly placement: string;
  readonly engine: 'sim';
  /** Offered load per ipbench client, Mb/s. */
  readonly mbpsPerClient: number;
  /** ipbench clients per NIC. */
  readonly clientsPerNic: number;
  /** Virtual milliseconds of load per case. */
  readonly durationMs: number;
  /** One record per case, the baseline first. */
  readonly cases: readonly HostileCaseResult[];
}

const positive = (name: string, hi: number) => (text: string) => {
  const n = Number(text);
  if (text.trim() === '' || !(n > 0) || n > hi)
    throw new InvalidArgumentError(`${name}: expected a number in (0, ${hi}], got ${text}`);
  return n;
};

/** Who misbehaves, in words. */
const who = (r: HostileCaseResult) =>
  r.hostile === 'client' ? 'client stack-a (nic0)' : r.hostile === 'driver' ? 'driver' : '-';

/** The report as text: one line per case. */
export function formatHostile(doc: HostileDocument): string {
  const head = [
    'behaviour',
    'hostile',
    'honest side lost',
    'hostile end did',
    'counted by the other side',
    'restarts',
  ];
  const rows = doc.cases.map((r) => [
    r.behaviour === '-' ? 'none (baseline)' : r.behaviour,
    who(r),
    `${r.honestLost} of ${r.honestSent} (${r.honestNics.join('+')})`,
    r.hostileDid,
    r.countedText,
    String(r.restarts),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((x, c) => (c === cells.length - 1 ? x.padStart(width[c]!) : x.padEnd(width[c]!))).join('  ')}`;
  return [
    `udf hostile: ${doc.placement} — one driver domain (nic0, nic1) serving stack-a on nic0 and stack-b on nic1 (sim)`,
    `${doc.mbpsPerClient} Mb/s per ipbench client, ${doc.clientsPerNic} clients per NIC, ${doc.durationMs} ms per case`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}

/** The `udf hostile` command. */
export function hostileCommand(): Command {
  return new Command('hostile')
    .description(
      'run the hostile-domain experiments (sim engine): a client or a driver writes garbage descriptors, corrupts ring indices or floods its peer with wake-ups; print what the honest side lost, what was counted and the restarts',
    )
    .option(
      '--load <mbps>',
      'offered load per ipbench client in Mb/s, in (0, 1000]',
      positive('--load', 1000),
      100,
    )
    .option(
      '--duration <ms>',
      'virtual milliseconds of load per case, in (0, 1000]',
      positive('--duration', 1000),
      30,
    )
    .option('--json', 'print one JSON document: a record per case')
    .addHelpText('after', '\nExamples:\n  $ udf hostile\n  $ udf hostile --load 200 --json\n')
    .action(async (opts: HostileCliOptions) => {
      const cases = await hostileCases({ mbps: opts.load, seconds: opts.duration / 1000 });
      const doc: HostileDocument = {
        placement: HOSTILE_PLACEMENT.name,
        engine: 'sim',
        mbpsPerClient: opts.load,
        clientsPerNic: plan(HOSTILE_PLACEMENT).devices[0]!.clients.length,
        durationMs: opts.duration,
        cases,
      };
      console.log(opts.json ? JSON.stringify(doc, null, 2) : formatHostile(doc));
    });
}
