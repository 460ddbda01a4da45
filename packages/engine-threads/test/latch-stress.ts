// The notification-bit sleep protocol between two domains, with IPC wake-ups (issue 16, DESIGN.md
// "the sleep protocol is safe on parallel threads"). Plain `Sys` components over a region that
// both domains were granted: an SPSC ring of sequence numbers, the consumer's notification bit
// and a stats block.
//
// consumer: drain; if empty: begin(); bit := asleep; re-check; receive(producer) inside the
//           window; end(). A wake-up that fails while the window is open latches MISSED, so the
//           receive returns `aborted` at once instead of sleeping with work pending.
// producer: push; if the bit says asleep (test-and-clear), send a zero-timeout IPC.
//
// The consumer's receive carries a watchdog timeout: if it expires while the ring holds items,
// a wake-up was lost (the producer published, saw the request, and its IPC went nowhere).
import { type IpcResult, type Sys, ZERO } from '@udf/l4-kernel';
import { NotificationBit, SpscRing } from '@udf/lockfree';

export const CAPACITY = 256;
const RING_BYTES = Math.ceil(SpscRing.byteLength(CAPACITY, 1) / 64) * 64;
const BIT_OFFSET = RING_BYTES;
const STATS_OFFSET = RING_BYTES + 64;
/** Bytes of the shared region. */
export const REGION_BYTES = STATS_OFFSET + 64;

/** Int32 slots of the stats block. */
export const Stat = {
  consumed: 0,
  produced: 1,
  sleeps: 2,
  aborts: 3,
  lost: 4,
  wakeups: 5,
  failedWakeups: 6,
  disorder: 7,
  consumerDone: 8,
  producerDone: 9,
  otherErrors: 10,
} as const;

export interface StressConfig {
  readonly partner: number;
  readonly items: number;
  readonly vaddr: number;
  /** Consumer: the watchdog timeout of each sleep, in cycles. */
  readonly watchdogCycles: number;
  /** Consumer: stop at the first lost wake-up (negative control). */
  readonly stopOnLost: boolean;
  /** Producer: pause about once in this many batches. */
  readonly pauseEvery: number;
  readonly seed: number;
}

function* attach(sys: Sys, vaddr: number) {
  const v = yield* sys.mem.access(vaddr, REGION_BYTES, 'write');
  if ('ok' in v) throw new Error(`region not accessible: ${v.error}`);
  return {
    ring: new SpscRing(v.buffer, v.byteOffset, CAPACITY, 1),
    bit: new NotificationBit(v.buffer, v.byteOffset + BIT_OFFSET),
    stats: new Int32Array(v.buffer, v.byteOffset + STATS_OFFSET, 16),
  };
}

export function consumer(config: StressConfig) {
  return function* (sys: Sys) {
    const { ring, bit, stats } = yield* attach(sys, config.vaddr);
    const out = new Uint32Array(32);
    let expect = 0;
    while (expect < config.items) {
      const n = ring.popBatch(out, 32);
      if (n > 0) {
        for (let i = 0; i < n; i++) {
          if (out[i] !== expect >>> 0) Atomics.add(stats, Stat.disorder, 1);
          expect++;
        }
        continue;
      }
      sys.preemption.begin();
      bit.prepareSleep();
      if (ring.count() > 0) {
        bit.cancelSleep();
        sys.preemption.end();
        continue;
      }
      Atomics.add(stats, Stat.sleeps, 1);
      const r: IpcResult = yield* sys.ipc.receive(config.partner, config.watchdogCycles);
      bit.cancelSleep();
      sys.preemption.end();
      if (r.ok) continue;
      if (r.error === 'aborted') Atomics.add(stats, Stat.aborts, 1);
      else if (r.error === 'timeout') {
        if (ring.count() > 0) {
          Atomics.add(stats, Stat.lost, 1);
          if (config.stopOnLost) break;
        }
      } else {
        Atomics.add(stats, Stat.otherErrors, 1);
        break;
      }
    }
    Atomics.store(stats, Stat.consumed, expect);
    Atomics.store(stats, Stat.consumerDone, 1);
  };
}

export function producer(config: StressConfig) {
  return function* (sys: Sys) {
    const { ring, bit, stats } = yield* attach(sys, config.vaddr);
    const slot = new Uint32Array(1);
    const pauseCycles = sys.hz / 20_000; // 50 µs
    let rng = config.seed >>> 0 || 1;
    let seq = 0;
    while (seq < config.items && Atomics.load(stats, Stat.consumerDone) === 0) {
      rng ^= rng << 13;
      rng >>>= 0;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      rng >>>= 0;
      const k = Math.min(1 + (rng % 8), config.items - seq);
      let pushed = 0;
      while (pushed < k) {
        slot[0] = seq + pushed;
        if (!ring.push(slot)) break;
        pushed++;
      }
      seq += pushed;
      if (pushed > 0 && bit.takeWakeRequest()) {
        Atomics.add(stats, Stat.wakeups, 1);
        const r = yield* sys.ipc.send(config.partner, { label: 1, words: [] }, ZERO);
        if (!r.ok) Atomics.add(stats, Stat.failedWakeups, 1);
      }
      if (pushed < k) yield* sys.sleep(pauseCycles);
      else if (rng % config.pauseEvery === 0) yield* sys.yieldCpu();
    }
    Atomics.store(stats, Stat.produced, seq);
    Atomics.store(stats, Stat.producerDone, 1);
  };
}
