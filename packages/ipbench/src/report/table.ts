import type { RampResult } from '../ramp.js';

/**
 * A fixed-width terminal table of a ramp: offered and achieved Mb/s, RTT statistics (µs), loss,
 * bad packets and target CPU.
 */
export function formatTable(result: RampResult): string {
  const head = [
    'offered',
    'achieved',
    'sent',
    'min',
    'avg',
    'max',
    'stddev',
    'median',
    'lost',
    'bad',
    'cpu%',
  ];
  const rows = result.steps.map((s) => [
    s.offeredMbps.toFixed(0),
    (s.achievedBps / 1e6).toFixed(1),
    (s.sentBps / 1e6).toFixed(1),
    s.rtt.min.toFixed(1),
    s.rtt.avg.toFixed(1),
    s.rtt.max.toFixed(1),
    s.rtt.stddev.toFixed(1),
    s.rtt.median.toFixed(1),
    String(s.lost),
    String(s.bad),
    s.cpu ? (s.cpu.utilisation * 100).toFixed(1) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const title = `${result.label}: ${result.clients} client(s), ${result.packetSize}-byte UDP payload (Mb/s, RTT µs)`;
  return [
    title,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r, i) => {
      const error = result.steps[i]!.error;
      return error === undefined ? line(r) : `${line(r)}  FAILED: ${error}`;
    }),
  ].join('\n');
}
