import { encodeCpuTarget } from '../protocol/marshall.js';
import type { RampResult, RampStep } from '../ramp.js';
import { printfFixed2 } from '../stats.js';

/** Options of {@link toIpbenchOutput}. */
export interface IpbenchOutputOptions {
  /** The client test whose output to reproduce. Default `latency-check`. */
  test?: 'latency' | 'latency-check';
}

/**
 * One step as the original ipbench controller prints it (`latency_output`, then
 * `cpu_target_output`): no header; `requested,achieved,sent,size,min,avg,max,stddev,median`
 * (integers, stddev `%.2f` of the square root of the integer variance), `latency-check` adds
 * `bad_packets`, and with a CPU reading `,` plus the target's own text (`cpu_target`'s
 * `"avg,CPU0: …"`, verbatim when it came from a remote target). A failed step prints the
 * controller's `Ipbench failed : …` line.
 *
 * @remarks `bad_packets` is 0 as in the original: its controller never adds up the clients'
 * `bad_packets` (the field it prints is never set). udf's CSV ({@link toCsv}) has the real sum.
 */
export function ipbenchLine(step: RampStep, options: IpbenchOutputOptions = {}): string {
  if (step.error !== undefined) return `Ipbench failed : ${step.error}\n`;
  let requested = 0;
  let achieved = 0;
  let sent = 0;
  for (const c of step.clients) {
    requested += Math.trunc(c.requestedBps);
    achieved += Math.trunc(c.achievedBps);
    sent += Math.trunc(c.sentBps);
  }
  const size = step.clients.at(-1)?.size ?? step.size;
  const r = step.ipbenchRtt;
  const cells = [requested, achieved, sent, size, r.min, r.avg, r.max].map(String);
  cells.push(printfFixed2(Math.sqrt(r.variance)), String(r.median));
  if ((options.test ?? 'latency-check') === 'latency-check') cells.push('0');
  const line = cells.join(',');
  if (!step.cpu) return `${line}\n`;
  const text =
    step.cpu.text ?? new TextDecoder().decode(encodeCpuTarget(step.cpu)).replace(/\0$/, '');
  return `${line},${text}\n`;
}

/** Every step's {@link ipbenchLine}, concatenated: byte for byte what `ipbench` prints per run. */
export function toIpbenchOutput(
  result: RampResult | readonly RampStep[],
  options: IpbenchOutputOptions = {},
): string {
  const steps = 'steps' in result ? result.steps : result;
  return steps.map((s) => ipbenchLine(s, options)).join('');
}
