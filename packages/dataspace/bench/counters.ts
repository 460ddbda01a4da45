/**
 * Counter increments on a component's counters object, side by side in one run: a plain object
 * (no page), the binding as it was (each field redefined in place as an accessor, which leaves
 * the object in V8's dictionary mode) and {@link CountersPage.bind} (the object rebuilt in place,
 * fast mode; the measured object is the second of its shape bound on the page, as in a domain
 * running two stacks). Rounds alternate the three; figures are medians in ns per increment, and the
 * ratios are against the plain object and against the old binding.
 *
 * Run: `node --import tsx bench/counters.ts` (from packages/dataspace), or as part of
 * `bench/index.ts`.
 */
import { COUNTERS_PAGE_BYTES, COUNTERS_VALUES_OFFSET, CountersPage } from '../src/index.js';

/** A counters object shaped like the IP stack's: 13 flat fields and two nested groups. */
function stackLikeCounters() {
  return {
    ethernetIn: 0,
    ethernetOut: 0,
    arpIn: 0,
    arpOut: 0,
    ipv4In: 0,
    ipv4Out: 0,
    icmpIn: 0,
    icmpOut: 0,
    udpIn: 0,
    udpOut: 0,
    arpHandled: 0,
    icmpHandled: 0,
    udpDelivered: 0,
    drops: { truncated: 0, badChecksum: 0, malformed: 0, unsupported: 0, notForUs: 0 },
    txDrops: { arpUnresolved: 0, noBuffer: 0, deviceFull: 0 },
  };
}
type Counters = ReturnType<typeof stackLikeCounters>;

/** The binding as it was before the in-place rebuild: `defineProperty` field by field. */
function bindInPlace(values: Float64Array, obj: Record<string, unknown>, next = { slot: 0 }): void {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === 'number') {
      const slot = next.slot++;
      values[slot] = v;
      Object.defineProperty(obj, key, {
        get: () => values[slot]!,
        set: (x: number) => {
          values[slot] = x;
        },
        enumerable: true,
        configurable: true,
      });
    } else if (v !== null && typeof v === 'object') {
      bindInPlace(values, v as Record<string, unknown>, next);
    }
  }
}

// One function per variant (same body), so that each keeps its own monomorphic inline caches.
// Five increments per iteration, as a received echo does (in, in, in, delivered, a drop group).
function incrementPlain(c: Counters, n: number): void {
  for (let i = 0; i < n; i++) {
    c.ethernetIn++;
    c.ipv4In++;
    c.udpIn++;
    c.udpDelivered += 1;
    c.drops.notForUs++;
  }
}
function incrementOld(c: Counters, n: number): void {
  for (let i = 0; i < n; i++) {
    c.ethernetIn++;
    c.ipv4In++;
    c.udpIn++;
    c.udpDelivered += 1;
    c.drops.notForUs++;
  }
}
function incrementNew(c: Counters, n: number): void {
  for (let i = 0; i < n; i++) {
    c.ethernetIn++;
    c.ipv4In++;
    c.udpIn++;
    c.udpDelivered += 1;
    c.drops.notForUs++;
  }
}
const PER_ITERATION = 5;

/** Result of {@link benchCounters}: median ns per increment of each variant. */
export interface CountersBenchResult {
  plainNs: number;
  oldBindingNs: number;
  newBindingNs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Run `rounds` interleaved rounds of `iterations` × 5 increments per variant. */
export function benchCounters(rounds = 11, iterations = 1_000_000): CountersBenchResult {
  const plain = stackLikeCounters();
  const oldBuffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
  const old = stackLikeCounters();
  bindInPlace(new Float64Array(oldBuffer, COUNTERS_VALUES_OFFSET, 64), old);
  const newBuffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
  const page = new CountersPage(newBuffer, 0);
  // A domain with two stacks binds the same shape twice: measure the second one.
  page.bind('stack.0', stackLikeCounters());
  const bound = page.bind('stack.1', stackLikeCounters());

  const variants: [(c: Counters, n: number) => void, Counters, number[]][] = [
    [incrementPlain, plain, []],
    [incrementOld, old, []],
    [incrementNew, bound, []],
  ];
  for (const [fn, c] of variants) fn(c, 50_000); // warm up
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const [fn, c, times] = variants[(k + r) % variants.length]!;
      const t0 = process.hrtime.bigint();
      fn(c, iterations);
      times.push(Number(process.hrtime.bigint() - t0) / (iterations * PER_ITERATION));
    }
  }
  const expected = 50_000 + rounds * iterations;
  for (const [, c] of variants)
    if (c.udpIn !== expected || c.drops.notForUs !== expected)
      throw new Error('counters bench: an increment was lost');
  return {
    plainNs: median(variants[0]![2]),
    oldBindingNs: median(variants[1]![2]),
    newBindingNs: median(variants[2]![2]),
  };
}

/** Print {@link benchCounters} as a table with ratios. */
export function printCounters(): void {
  const r = benchCounters();
  console.log('Counter increments on a bound counters object (median ns per increment)');
  console.log(`  plain object (no page)              ${r.plainNs.toFixed(2)} ns`);
  console.log(
    `  old binding (defineProperty in place) ${r.oldBindingNs.toFixed(2)} ns: ` +
      `${(r.oldBindingNs / r.plainNs).toFixed(1)}x plain`,
  );
  console.log(
    `  CountersPage.bind (rebuilt in place) ${r.newBindingNs.toFixed(2)} ns: ` +
      `${(r.newBindingNs / r.plainNs).toFixed(1)}x plain, ` +
      `${(r.oldBindingNs / r.newBindingNs).toFixed(1)}x faster than the old binding`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) printCounters();
