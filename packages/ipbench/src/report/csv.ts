import type { RampResult, RampStep } from '../ramp.js';

/** ipbench's latency-check CSV columns, in order. */
export const IPBENCH_COLUMNS: readonly string[] = Object.freeze([
  'requested',
  'achieved',
  'sent',
  'size',
  'min',
  'avg',
  'max',
  'stddev',
  'median',
  'bad_packets',
]);

/** The CPU columns appended after {@link IPBENCH_COLUMNS} when steps carry a CPU reading. */
export const CPU_COLUMNS: readonly string[] = Object.freeze(['cpu', 'idle']);

/**
 * One step as an ipbench CSV row: bits/s and µs as integers (ipbench's `uint64_t` fields:
 * throughputs rounded, RTTs truncated like `tick_to_usec`), stddev with two decimals, then
 * `cpu` and `idle` in percent with one decimal (ipbench `cpu_target`'s `%.1f`).
 */
export function csvRow(step: RampStep, withCpu: boolean): string {
  const r = step.rtt;
  const cells = [
    Math.round(step.requestedBps),
    Math.round(step.achievedBps),
    Math.round(step.sentBps),
    step.size,
    Math.trunc(r.min),
    Math.trunc(r.avg),
    Math.trunc(r.max),
    r.stddev.toFixed(2),
    Math.trunc(r.median),
    step.bad,
  ].map(String);
  if (withCpu) {
    const u = step.cpu?.utilisation;
    cells.push(
      u === undefined ? '' : (u * 100).toFixed(1),
      u === undefined ? '' : ((1 - u) * 100).toFixed(1),
    );
  }
  return cells.join(',');
}

/**
 * A ramp as CSV with a header line; CPU columns are included when any step has a reading, and an
 * `error` column (the failure, quoted) when any step failed.
 */
export function toCsv(result: RampResult | readonly RampStep[]): string {
  const steps = 'steps' in result ? result.steps : result;
  const withCpu = steps.some((s) => s.cpu !== undefined);
  const withError = steps.some((s) => s.error !== undefined);
  const header = [
    ...IPBENCH_COLUMNS,
    ...(withCpu ? CPU_COLUMNS : []),
    ...(withError ? ['error'] : []),
  ];
  const row = (s: RampStep): string =>
    withError
      ? `${csvRow(s, withCpu)},${s.error === undefined ? '' : `"${s.error.replace(/"/g, '""').replace(/[\r\n]+/g, ' ')}"`}`
      : csvRow(s, withCpu);
  return `${[header.join(','), ...steps.map(row)].join('\n')}\n`;
}
