/**
 * The long fuzz run: at least a million frames (random bytes, mutated valid frames and real
 * captures) through the full input path, checking after every frame that nothing threw and that
 * the frame landed in exactly one counter. Deterministic (xorshift PRNG, fixed seed).
 *
 * Run alone: `node --import tsx bench/fuzz.ts [frames]`.
 */
import { pathToFileURL } from 'node:url';
import { FuzzTarget, fuzzSeeds, mutate } from '../src/iface/fuzz.js';

/** Result of {@link runFuzz}. */
export interface FuzzResult {
  frames: number;
  seconds: number;
  perSecond: number;
  delivered: number;
  dropped: Record<string, number>;
}

/** Feed `frames` fuzzed frames; throws on the first broken invariant. */
export function runFuzz(frames: number, seed = 0x9e3779b9): FuzzResult {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const seeds = fuzzSeeds();
  const target = new FuzzTarget();
  const ops: number[] = [];
  const random = new Uint8Array(1600);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) {
    let frame: Uint8Array;
    if (rnd() % 8 === 0) {
      const len = rnd() % random.length;
      for (let k = 0; k < len; k++) random[k] = rnd();
      frame = random.subarray(0, len);
    } else {
      ops.length = 0;
      const n = rnd() % 6;
      for (let k = 0; k < n; k++) ops.push(rnd() & 0xffff, rnd());
      frame = mutate(seeds[rnd() % seeds.length]!, ops, rnd() % 4 === 0 ? rnd() % 40 : 0);
    }
    const broken = target.feed(frame);
    if (broken) throw new Error(`frame ${i}: ${broken}`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = target.stack.counters;
  return {
    frames,
    seconds,
    perSecond: frames / seconds,
    delivered: c.arpHandled + c.icmpHandled + c.udpDelivered,
    dropped: { ...c.drops },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  console.log(runFuzz(n));
}
