/** Round-trip statistics in microseconds, as ipbench's latency test reports them. */
export interface RttStats {
  /** Number of samples. */
  count: number;
  /** Smallest RTT (µs). */
  min: number;
  /** Mean RTT (µs). */
  avg: number;
  /** Largest RTT (µs). */
  max: number;
  /** Population standard deviation (µs): sqrt of the mean squared deviation, as ipbench. */
  stddev: number;
  /** Median: element `floor(n / 2)` of the sorted samples (ipbench's `med_rtt`). */
  median: number;
}

/** Statistics of no samples: all zero. */
export const EMPTY_RTT_STATS: RttStats = Object.freeze({
  count: 0,
  min: 0,
  avg: 0,
  max: 0,
  stddev: 0,
  median: 0,
});

/**
 * Computes min/avg/max/stddev/median over `samples[0, count)`.
 *
 * @param samples - RTTs in µs; not modified (a sorted copy is made for the median)
 * @param count - how many leading samples to use (default all)
 */
export function rttStats(samples: ArrayLike<number>, count = samples.length): RttStats {
  if (count <= 0) return EMPTY_RTT_STATS;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const v = samples[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const avg = sum / count;
  let sq = 0;
  for (let i = 0; i < count; i++) {
    const d = samples[i]! - avg;
    sq += d * d;
  }
  const sorted = new Float64Array(count);
  for (let i = 0; i < count; i++) sorted[i] = samples[i]!;
  sorted.sort();
  return { count, min, avg, max, stddev: Math.sqrt(sq / count), median: sorted[count >> 1]! };
}

/** Concatenates several sample arrays (each client's RTTs) into one. */
export function poolSamples(parts: readonly ArrayLike<number>[]): Float64Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float64Array(total);
  let o = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[o++] = p[i]!;
  }
  return out;
}
