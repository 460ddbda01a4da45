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

/**
 * RTT statistics exactly as the original ipbench controller computes them (`latency.c`'s
 * `min_rtt` … `dev_rtt` over every client's samples pooled): each sample truncated to whole µs,
 * `avg` the integer quotient of the sum, `variance` the integer quotient of Σ (avg − x)² in
 * `uint64_t` arithmetic (wrapping like C), `median` element ⌊n/2⌋ of the sorted samples. The
 * controller prints `sqrt(variance)` with `%.2f`: 0.00, not 0.50, for samples 1 and 2.
 */
export interface IpbenchRttStats {
  /** Samples. */
  count: number;
  /** Smallest, µs. */
  min: number;
  /** Integer mean, µs. */
  avg: number;
  /** Largest, µs. */
  max: number;
  /** Integer variance, µs² (`dev_rtt`; as a double, like C's conversion for `sqrt`). */
  variance: number;
  /** Element ⌊n/2⌋ of the sorted samples, µs. */
  median: number;
}

const U64 = (1n << 64n) - 1n;

/** Computes {@link IpbenchRttStats} over `samples` (µs; truncated to integers first). */
export function ipbenchRttStats(samples: ArrayLike<number>): IpbenchRttStats {
  const n = samples.length;
  if (n === 0) return { count: 0, min: 0, avg: 0, max: 0, variance: 0, median: 0 };
  const ints = new Float64Array(n);
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.max(0, Math.trunc(samples[i]!));
    ints[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  let avg: number;
  let variance: number;
  // Exact in doubles while every partial sum stays below 2^53; otherwise uint64 in BigInt.
  if (sum <= Number.MAX_SAFE_INTEGER && n * max * max <= Number.MAX_SAFE_INTEGER) {
    avg = Math.floor(sum / n);
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = avg - ints[i]!;
      sq += d * d;
    }
    variance = Math.floor(sq / n);
  } else {
    let total = 0n;
    for (let i = 0; i < n; i++) total = (total + BigInt(ints[i]!)) & U64;
    const a = total / BigInt(n);
    let sq = 0n;
    for (let i = 0; i < n; i++) {
      const d = (a - BigInt(ints[i]!)) & U64;
      sq = (sq + ((d * d) & U64)) & U64;
    }
    avg = Number(a);
    variance = Number(sq / BigInt(n));
  }
  ints.sort();
  return { count: n, min, avg, max, variance, median: ints[n >> 1]! };
}

/**
 * C's `printf("%.2f", x)` for a non-negative double: correctly rounded, exact ties to even (JS
 * `toFixed` rounds exact ties up). Ties at two decimals are `k/8` with `k` odd.
 */
export function printfFixed2(x: number): string {
  const m = x * 8;
  if (Number.isInteger(m) && m % 2 === 1 && Number.isSafeInteger(m * 25)) {
    const lo = (m * 25 - 1) / 2; // x·100 = 25m/2 lies halfway between lo and lo + 1
    const hundredths = lo % 2 === 0 ? lo : lo + 1;
    return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
  }
  return x.toFixed(2);
}
