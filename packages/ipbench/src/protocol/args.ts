import { IpbenchError } from '../errors.js';
import type { ClientRun, ResolvedRun } from '../load.js';

/** ipbench `latency` defaults (`latency.c`): 10 Mb/s, 64 bytes, 10 s warm-up and cool-down. */
export const LATENCY_DEFAULTS = Object.freeze({
  rateMbps: 10,
  packetSize: 64,
  warmupS: 10,
  cooldownS: 10,
  samples: 200_000,
  /** Not in ipbench (which waits for `samples` forever): a cap on the measurement. */
  durationS: 600,
});

/**
 * Bounds on what a latency test's arguments may ask of this daemon (answered with `451` when
 * exceeded): the pending table and the sample array are sized from them.
 */
export const LATENCY_LIMITS = Object.freeze({
  /** Packets per second (`bps / (8 · size)`): the pending table holds one second of them. */
  maxPacketsPerSecond: 1_000_000,
  /** `samples` (8 bytes each). */
  maxSamples: 10_000_000,
  /** `warmup`, `cooldown` and `duration`, seconds each. */
  maxSeconds: 3600,
  /** `size`, bytes: the largest UDP payload over IPv4. */
  maxPacketSize: 65507,
});

/** Keys ipbench's latency tests accept that a UDP client here has no use for. */
const IGNORED = new Set([
  'drop',
  'iface',
  'sockopts',
  'dump_dir',
  'dump_prefix',
  'with_cpu_target',
]);

/**
 * Parses a latency test's argument string (`Mbps=100,size=1024 warmup=2` — separators space,
 * tab or comma) into a run. Accepts ipbench's keys `bps`, `Mbps`, `samples`, `size`, `warmup`,
 * `cooldown`, `socktype` (only `udp`), and ignores `drop`, `iface`, `sockopts`, `dump_dir`,
 * `dump_prefix`, `with_cpu_target`; adds `duration` (seconds; without `samples` it selects a
 * fixed-length window). Seconds may be fractional here. Throws `IPBENCH_BAD_CONFIG`.
 */
export function parseLatencyArgs(text: string): ResolvedRun {
  const run: ResolvedRun = { ...LATENCY_DEFAULTS };
  let samplesGiven = false;
  let durationGiven = false;
  for (const token of text.split(/[\s,]+/).filter(Boolean)) {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const val = eq < 0 ? '' : token.slice(eq + 1);
    const num = (min: number, integer = false): number => {
      const v = Number(val);
      if (val === '' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
        throw new IpbenchError(
          'IPBENCH_BAD_CONFIG',
          `bad value for ${key}: ${JSON.stringify(val)}`,
        );
      }
      return v;
    };
    switch (key) {
      case 'bps':
        run.rateMbps = num(1) / 1e6;
        break;
      case 'Mbps':
        run.rateMbps = num(Number.MIN_VALUE);
        break;
      case 'size':
        run.packetSize = num(1, true);
        break;
      case 'samples':
        run.samples = num(1, true);
        samplesGiven = true;
        break;
      case 'warmup':
        run.warmupS = num(0);
        break;
      case 'cooldown':
        run.cooldownS = num(0);
        break;
      case 'duration':
        run.durationS = num(Number.MIN_VALUE);
        durationGiven = true;
        break;
      case 'socktype':
        if (val !== 'udp') {
          throw new IpbenchError('IPBENCH_BAD_CONFIG', `socktype=${val} not supported (only udp)`);
        }
        break;
      default:
        if (!IGNORED.has(key)) {
          throw new IpbenchError('IPBENCH_BAD_CONFIG', `unknown argument ${JSON.stringify(key)}`);
        }
    }
  }
  if (durationGiven && !samplesGiven) run.samples = 0;
  const bad = (what: string): never => {
    throw new IpbenchError('IPBENCH_BAD_CONFIG', what);
  };
  const L = LATENCY_LIMITS;
  if (run.packetSize > L.maxPacketSize) bad(`size=${run.packetSize} > ${L.maxPacketSize}`);
  if (run.samples > L.maxSamples) bad(`samples=${run.samples} > ${L.maxSamples}`);
  for (const [k, v] of [
    ['warmup', run.warmupS],
    ['cooldown', run.cooldownS],
    ['duration', run.durationS],
  ] as const) {
    if (v > L.maxSeconds) bad(`${k}=${v} s > ${L.maxSeconds} s`);
  }
  const pps = (run.rateMbps * 1e6) / (8 * run.packetSize);
  if (pps > L.maxPacketsPerSecond) {
    bad(
      `${run.rateMbps} Mb/s of ${run.packetSize}-byte packets is ${Math.round(pps)} packets/s > ${L.maxPacketsPerSecond}`,
    );
  }
  return run;
}

/** Formats a run as latency test arguments (the inverse of {@link parseLatencyArgs}). */
export function formatLatencyArgs(run: ClientRun): string {
  const parts = [`bps=${Math.round(run.rateMbps * 1e6)}`, 'socktype=udp'];
  if (run.packetSize !== undefined) parts.push(`size=${run.packetSize}`);
  if (run.warmupS !== undefined) parts.push(`warmup=${run.warmupS}`);
  if (run.cooldownS !== undefined) parts.push(`cooldown=${run.cooldownS}`);
  if (run.samples) parts.push(`samples=${run.samples}`);
  if (run.durationS !== undefined) parts.push(`duration=${run.durationS}`);
  return parts.join(',');
}

/** How {@link formatIpbenchLatencyArgs} turned a run into arguments the original test reads. */
export interface IpbenchLatencyArgs {
  /** The argument string (`bps=…,size=…,warmup=…,cooldown=…,samples=…,socktype=udp`). */
  args: string;
  /** Samples asked for: `run.samples`, or the echoes expected in `durationS` at the full rate. */
  samples: number;
  /** Warm-up actually asked for, whole seconds (≥ the run's). */
  warmupS: number;
  /** Cool-down actually asked for, whole seconds (≥ the run's). */
  cooldownS: number;
}

/**
 * Formats a run for the original ipbench `latency` / `latency-check` test (`latency.c`), which
 * reads every value with `strtoll` and knows no `duration`: `bps` is rounded to whole bits/s,
 * fractional `warmup` / `cooldown` are rounded **up** to whole seconds (so 0.05 s becomes 1 s, not
 * 0), and a run timed by `durationS` asks for the `samples` it would collect at the full rate,
 * `floor(durationS · bps / (8 · size))` (at least 1). The original then measures until that many
 * echoes have come back: the same window when the target keeps up, longer when it drops packets.
 */
export function formatIpbenchLatencyArgs(run: ResolvedRun): IpbenchLatencyArgs {
  const bps = Math.round(run.rateMbps * 1e6);
  const samples =
    run.samples > 0
      ? run.samples
      : Math.max(1, Math.floor((run.durationS * bps) / (8 * run.packetSize)));
  const warmupS = Math.ceil(run.warmupS);
  const cooldownS = Math.ceil(run.cooldownS);
  return {
    args: `bps=${bps},size=${run.packetSize},warmup=${warmupS},cooldown=${cooldownS},samples=${samples},socktype=udp`,
    samples,
    warmupS,
    cooldownS,
  };
}
