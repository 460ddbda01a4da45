/** Printing and writing experiment results: terminal table, JSON document, CSV and SVG charts. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RampResult, toCsv } from '@udf/ipbench';
import { profileChartSvg, throughputCpuChartSvg } from '@udf/ipbench/charts';
import { PROFILE_ORDER, type StepResult } from '@udf/system';
import { bandCsv, bandRows, busName } from './band.js';
import type { StepFailure } from './pool.js';

/** One row of `udf compare --json`. */
export interface JsonRow {
  config: string;
  engine: string;
  holdoffUs: number;
  /** The PCI bus of the step's NICs (clock, slot width, the EEPROM's DATA64_EN). */
  bus: StepResult['bus'];
  packetSize: number;
  requestedMbps: number;
  achievedMbps: number;
  sentMbps: number;
  cpuPercent: number;
  rttUs: StepResult['rttUs'];
  lostPackets: number;
  badPackets: number;
  /** Sum of the packet-drop counters ({@link packetDrops}). */
  drops: number;
  /** Sum of the corruption counters ({@link corruptions}). */
  corrupt: number;
  /** Threads engine: percent of one CPU per domain worker (and `devices`) over the window. */
  cpuByDomain?: Record<string, number>;
  /** Every counter of the step, by component. */
  counters: Record<string, number>;
}

/** One execution profile of `udf compare --json`. */
export interface JsonProfile {
  config: string;
  holdoffUs: number;
  loadMbps: number;
  /** Percent of all CPU time per category (Idle included; sums to 100). */
  percent: Record<string, number>;
}

/** The document `udf compare --json` prints. */
export interface JsonDocument {
  tool: 'udf';
  engine: string;
  rows: JsonRow[];
  profiles: JsonProfile[];
}

/** Build the JSON document from step results. */
export function toJsonDocument(results: readonly StepResult[]): JsonDocument {
  return {
    tool: 'udf',
    engine: results[0]?.engine ?? 'sim',
    rows: results.map((r) => ({
      config: r.config,
      engine: r.engine,
      holdoffUs: r.holdoffUs,
      bus: r.bus,
      packetSize: r.packetSize,
      requestedMbps: r.requestedMbps,
      achievedMbps: r.achievedMbps,
      sentMbps: r.sentMbps,
      cpuPercent: r.cpuPercent,
      rttUs: r.rttUs,
      lostPackets: r.lostPackets,
      badPackets: r.badPackets,
      drops: packetDrops(r.counters),
      corrupt: corruptions(r.counters),
      ...(r.cpuByDomain !== undefined ? { cpuByDomain: r.cpuByDomain } : {}),
      counters: r.counters,
    })),
    profiles: results.map((r) => ({
      config: r.config,
      holdoffUs: r.holdoffUs,
      loadMbps: r.requestedMbps,
      percent: r.profile,
    })),
  };
}

const pad = (s: string, n: number) => s.padStart(n);

/**
 * Counters that are packets lost inside the target or on its wire, by the last segment(s) of the
 * counter's name (whatever the NIC, domain or stack is called): NIC overruns and frames arriving
 * with the receiver off, switch queue drops, every stack drop (input `drops.*` and output
 * `txDrops.*`, which include a full transmit ring), and driver completions lost for a full
 * deferred queue (`returnDrops`) or dropped by receive steering on a shared NIC (`steerDrops`,
 * `rxUnclaimed`). A session's `rxPostRefused` is not a drop (the buffer goes back
 * to the pool and is posted again) and neither is its `txRingFull` (the same event as the stack's
 * `txDrops.deviceFull`, which is counted).
 */
const DROP_COUNTER =
  /(\.(rxOverruns|rxDisabledDrops)$)|(\.switch\.txQueueDrops$)|(\.drops\.)|(\.txDrops\.)|(\.(returnDrops|steerDrops|rxUnclaimed)$)/;

/**
 * Counters of corruption seen in shared memory or in what crossed it: the driver's and each
 * client session's `sessionCorruptions` (ring indices out of range, garbage notification bits:
 * netdev's `corruptions + bitCorruptions`), a session's `corrupt` (a descriptor naming no buffer
 * it gave), and any component's raw `corruptions` / `bitCorruptions` should one be reported.
 */
const CORRUPT_COUNTER = /(^|\.)(sessionCorruptions|corrupt|corruptions|bitCorruptions)$/;

const sumMatching = (counters: Record<string, number>, re: RegExp): number => {
  let n = 0;
  for (const [k, v] of Object.entries(counters)) if (re.test(k)) n += v;
  return n;
};

/** Sum of the packet-drop counters of a step (see {@link DROP_COUNTER}). */
export function packetDrops(counters: Record<string, number>): number {
  return sumMatching(counters, DROP_COUNTER);
}

/** Sum of the corruption counters of a step (see {@link CORRUPT_COUNTER}). */
export function corruptions(counters: Record<string, number>): number {
  return sumMatching(counters, CORRUPT_COUNTER);
}

/** Print the comparison table: one line per configuration × hold-off × load. */
export function printTable(results: readonly StepResult[]): void {
  // rows from the threads engine carry an engine column (the sim's table stays as it was)
  const marked = results.some((r) => r.engine !== 'sim');
  const head = [
    'config',
    ...(marked ? ['engine'] : []),
    'holdoff',
    'offered',
    'achieved',
    'cpu %',
    'rtt avg',
    'lost',
    'drops',
    'corrupt',
  ];
  const widths = [12, ...(marked ? [8] : []), 8, 9, 9, 7, 10, 8, 8, 8];
  console.log(head.map((h, i) => (i === 0 ? h.padEnd(widths[i]!) : pad(h, widths[i]!))).join(' '));
  console.log(widths.map((w) => '-'.repeat(w)).join(' '));
  let last = '';
  for (const r of results) {
    const key = `${r.config}/${r.holdoffUs}`;
    if (last && key !== last) console.log('');
    last = key;
    const drops = packetDrops(r.counters);
    const cells = [
      `${r.holdoffUs} µs`,
      r.requestedMbps.toFixed(0),
      r.achievedMbps.toFixed(1),
      r.cpuPercent.toFixed(1),
      `${r.rttUs.avg.toFixed(1)} µs`,
      String(r.lostPackets),
      String(drops),
      String(corruptions(r.counters)),
    ];
    if (marked) cells.unshift(r.engine);
    console.log(
      [r.config.padEnd(widths[0]!), ...cells.map((c, i) => pad(c, widths[i + 1]!))].join(' '),
    );
  }
  const perDomain = results.filter((r) => r.cpuByDomain !== undefined);
  if (perDomain.length > 0) {
    console.log('');
    console.log('CPU per domain worker (engine: threads; % of one CPU over the window):');
    for (const r of perDomain) {
      const parts = Object.entries(r.cpuByDomain!).map(([d, v]) => `${d} ${v.toFixed(1)}`);
      console.log(
        `  ${r.config} ${r.holdoffUs} µs ${r.requestedMbps.toFixed(0)} Mb/s: ${parts.join(', ') || 'not measured (no per-thread CPU time on this OS)'}`,
      );
    }
  }
  console.log(
    marked
      ? "(offered/achieved: Mb/s of UDP payload over all NICs; cpu: sim 100 % minus the idle share, threads the domain and device workers' CPU time over all CPUs; drops, corrupt: sums of the drop and corruption counters, each one in --json rows[].counters)"
      : '(offered/achieved: Mb/s of UDP payload over all NICs; cpu: 100 % minus the idle share; drops, corrupt: sums of the drop and corruption counters, each one in --json rows[].counters)',
  );
}

/** Print one execution profile as the paper's Figure 1(a) breakdown. */
export function printProfile(r: StepResult): void {
  const busy = 100 - (r.profile.Idle ?? 0);
  console.log(
    `${r.config}, ${r.holdoffUs} µs hold-off, ${r.requestedMbps} Mb/s offered, ${r.achievedMbps.toFixed(1)} Mb/s achieved`,
  );
  console.log(`${'category'.padEnd(14)} ${pad('% of all', 9)} ${pad('% non-idle', 11)}`);
  const names = [
    ...PROFILE_ORDER,
    ...Object.keys(r.profile).filter((k) => !PROFILE_ORDER.includes(k)),
  ];
  for (const name of names) {
    const p = r.profile[name] ?? 0;
    if (p === 0 && !PROFILE_ORDER.includes(name)) continue;
    const nonIdle = name === 'Idle' || busy === 0 ? '' : ((100 * p) / busy).toFixed(1);
    console.log(`${name.padEnd(14)} ${pad(p.toFixed(1), 9)} ${pad(nonIdle, 11)}`);
  }
  const share = (names: string[]) => names.reduce((s, n) => s + (r.profile[n] ?? 0), 0);
  if (busy > 0) {
    const framework = share(['Buffer', 'Interrupt', 'Translation', 'Notification', 'IPC']);
    const overhead = share(['Notification', 'IPC', 'Interrupt']);
    console.log(
      `framework (Buffer+Interrupt+Translation+Notification+IPC): ${((100 * framework) / busy).toFixed(1)} % of non-idle (paper: 35 %)`,
    );
    console.log(
      `user-level overhead (Notification+IPC+Interrupt): ${((100 * overhead) / busy).toFixed(1)} % of non-idle (paper: 12 %)`,
    );
  }
}

/**
 * Write CSV (ipbench columns + CPU), JSON and SVG charts into `dir`; returns the file names.
 * `results.json` lists the failed steps too (`failures`); charts and CSVs hold what completed.
 * When the steps ran on more than one bus (`udf compare --band`), each curve is one bus too
 * (`isolated-100us-32-33.csv`) and `band.csv` / `band.json` hold the band.
 */
export async function writeOutputs(
  results: readonly StepResult[],
  dir: string,
  title: string,
  failures: readonly StepFailure[] = [],
): Promise<string[]> {
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  write('results.json', `${JSON.stringify({ ...toJsonDocument(results), failures }, null, 2)}\n`);
  if (results.length === 0) return files;
  const band = new Set(results.map((r) => busName(r.bus))).size > 1;
  if (band) {
    write('band.csv', bandCsv(results));
    write('band.json', `${JSON.stringify(bandRows(results), null, 2)}\n`);
  }
  const groups = new Map<string, StepResult[]>();
  for (const r of results) {
    const bus = busName(r.bus)
      .replace(/[^0-9a-z]+/gi, '-')
      .replace(/-$/, '');
    const key = band ? `${r.config}-${r.holdoffUs}us-${bus}` : `${r.config}-${r.holdoffUs}us`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const ramps: RampResult[] = [];
  for (const [name, rows] of groups) {
    const ramp: RampResult = {
      label: name.replace(/-/g, ' '),
      clients: rows[0]!.ipbench.clients.length,
      packetSize: rows[0]!.packetSize,
      steps: rows.map((r) => r.ipbench),
    };
    ramps.push(ramp);
    write(`${name}.csv`, toCsv(ramp));
  }
  write(
    'throughput-cpu.svg',
    await throughputCpuChartSvg(ramps, { title: `${title}: throughput and CPU vs offered load` }),
  );
  const near450 = [...groups.values()].map((rows) =>
    rows.reduce((best, r) =>
      Math.abs(r.requestedMbps - 450) < Math.abs(best.requestedMbps - 450) ? r : best,
    ),
  );
  // the threads engine charges no cycles: no profile to draw
  if (near450.every((r) => Object.keys(r.profile).length === 0)) return files;
  write(
    'profile.svg',
    await profileChartSvg(
      near450.map((r) => ({
        label: `${r.config} ${r.holdoffUs}us @${r.requestedMbps}`,
        profile: r.profile,
      })),
      { title: `${title}: execution profile` },
    ),
  );
  return files;
}
