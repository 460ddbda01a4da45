import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotificationBit, sleepUntil } from './notify.js';
import { BufferPool } from './pool.js';
import { RING_HEAD_OFFSET, RING_TAIL_OFFSET, SpscRing } from './ring.js';

const BOOTSTRAP = new URL('../test/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('../test/hostile-worker.ts', import.meta.url).href;
const DOUBLE_FREE_ENTRY = new URL('../test/double-free-worker.ts', import.meta.url).href;

describe('a peer that writes garbage indices', () => {
  it('never yields more than capacity, and counts exactly the impossible index pairs', () => {
    const sab = new SharedArrayBuffer(SpscRing.byteLength(16, 2));
    const ring = new SpscRing(sab, 0, 16, 2);
    const ctrl = new Uint32Array(sab);
    const out = new Uint32Array(64);
    const slot = [1, 2];
    fc.assert(
      fc.property(fc.nat(0xffff_ffff), fc.nat(0xffff_ffff), (head, tail) => {
        ctrl[RING_HEAD_OFFSET / 4] = head;
        ctrl[RING_TAIL_OFFSET / 4] = tail;
        const corrupt = (tail - head) >>> 0 > 16;
        const before = ring.stats.corruptions;
        const count = ring.count();
        const space = ring.space();
        expect(ring.stats.corruptions - before).toBe(corrupt ? 2 : 0);
        expect(count).toBe(corrupt ? 0 : (tail - head) >>> 0);
        expect(space).toBe(corrupt ? 0 : 16 - count);
        expect(ring.popBatch(out, 32)).toBe(count);
        ctrl[RING_HEAD_OFFSET / 4] = head;
        expect(ring.pushBatch(out, 32)).toBe(space);
        ctrl[RING_TAIL_OFFSET / 4] = tail;
        expect(ring.pop(out)).toBe(count > 0);
        ctrl[RING_HEAD_OFFSET / 4] = head;
        expect(ring.push(slot)).toBe(space > 0);
        ctrl[RING_TAIL_OFFSET / 4] = tail;
        expect(ring.peekFilled()).toBeLessThan(ring.slots.length);
        expect(ring.peekFree()).toBeLessThan(ring.slots.length);
      }),
      {
        numRuns: 2000,
        examples: [
          [0, 16],
          [5, 21],
          [0xffff_fff8, 8],
          [0, 17],
          [17, 0],
        ],
      },
    );
    expect(ring.stats.corruptions).toBeGreaterThan(0);
  });

  it(
    'survives a concurrent hostile worker: no throw, no hang, no out-of-bounds, corruptions counted',
    { timeout: 30_000 },
    async () => {
      const ringBytes = SpscRing.byteLength(64, 4);
      const poolAt = Math.ceil(ringBytes / 64) * 64;
      const poolBytes = BufferPool.byteLength(32, 128);
      const bitAt = poolAt + Math.ceil(poolBytes / 64) * 64;
      const stopAt = bitAt + 64;
      const sab = new SharedArrayBuffer(stopAt + 8);
      const consumer = new SpscRing(sab, 0, 64, 4);
      const producer = new SpscRing(sab, 0, 64, 4);
      const pool = new BufferPool(sab, poolAt, 32, 128);
      pool.reset();
      const bit = new NotificationBit(sab, bitAt);

      // the hostile peer scribbles over ring indices, slots, the free-id ring and the bit
      const words = [
        0,
        16,
        32,
        33,
        34,
        35,
        poolAt / 4,
        poolAt / 4 + 16,
        poolAt / 4 + 32,
        poolAt / 4 + 33,
        (poolAt + poolBytes) / 4 - 1, // the ownership map (one word for 32 buffers)
        bitAt / 4,
      ];
      const worker = new Worker(BOOTSTRAP, {
        workerData: { entry: ENTRY, sab, words, stopIndex: stopAt / 4 },
      });
      const peerWrites = new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });

      const control = new Int32Array(sab);
      while (Atomics.load(control, stopAt / 4 + 1) === 0)
        await new Promise((r) => setTimeout(r, 5));

      const out = new Uint32Array(4 * 32);
      const desc = new Uint32Array(4 * 32);
      let ops = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1_500) {
        expect(consumer.count()).toBeLessThanOrEqual(64);
        expect(producer.space()).toBeLessThanOrEqual(64);
        consumer.pop(out);
        consumer.popBatch(out, 32);
        producer.push(desc);
        producer.pushBatch(desc, 32);
        const at = consumer.peekFilled();
        if (at >= 0) {
          expect(at + 4).toBeLessThanOrEqual(consumer.slots.length);
          consumer.release();
        }
        const id = pool.alloc();
        if (id >= 0) {
          expect(pool.isValid(id)).toBe(true);
          pool.buffer(id)[127] = 1;
          pool.free(id); // may be refused: the peer scribbles over the ownership map too
        }
        bit.takeWakeRequest();
        if ((ops & 1023) === 0) sleepUntil(bit, () => false, 1);
        ops++;
      }
      Atomics.store(control, stopAt / 4, 1);
      expect(await peerWrites).toBeGreaterThan(0);
      await worker.terminate();

      expect(ops).toBeGreaterThan(1000);
      expect(consumer.stats.corruptions + producer.stats.corruptions).toBeGreaterThan(0);
      expect(pool.stats.badIds + pool.freeRing.stats.corruptions).toBeGreaterThan(0);
      expect(bit.stats.corruptions).toBeGreaterThan(0);
    },
  );

  it(
    'a freeing worker that frees twice and injects duplicate ids never gets a buffer to two users',
    { timeout: 30_000 },
    async () => {
      const count = 64;
      const size = 32;
      const activeAt = Math.ceil(BufferPool.byteLength(count, size) / 64) * 64;
      const stopAt = activeAt + SpscRing.byteLength(64, 1);
      const sab = new SharedArrayBuffer(stopAt + 8);
      const pool = new BufferPool(sab, 0, count, size);
      pool.reset();
      const active = new SpscRing(sab, activeAt, 64, 1); // ids handed to the worker
      const control = new Int32Array(sab);
      const worker = new Worker(BOOTSTRAP, {
        workerData: {
          entry: DOUBLE_FREE_ENTRY,
          sab,
          count,
          size,
          activeAt,
          stopIndex: stopAt / 4,
        },
      });
      const report = new Promise<{
        received: number;
        refused: number;
        injected: number;
        doubleFrees: number;
      }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      while (Atomics.load(control, stopAt / 4 + 1) === 0)
        await new Promise((r) => setTimeout(r, 5));

      // This side keeps up to 8 buffers a while, then hands the oldest to the worker.
      const held = new Uint8Array(count);
      const kept: number[] = [];
      const word = new Uint32Array(1);
      let allocations = 0;
      let inUse = 0; // alloc returned a buffer this side still holds
      let sent = 0;
      const t0 = performance.now();
      // until 100 k allocations (the 10 s cap only stops a starved run; it is not the verdict)
      while (allocations < 100_000 && performance.now() - t0 < 10_000) {
        const id = pool.alloc();
        if (id < 0) {
          if (kept.length === 0) continue;
        } else {
          allocations++;
          if (held[id]) inUse++;
          held[id] = 1;
          kept.push(id);
        }
        if (kept.length >= 8 || id < 0) {
          const oldest = kept.shift()!;
          held[oldest] = 0;
          pool.handOff(oldest);
          word[0] = oldest;
          if (active.push(word)) sent++;
        }
      }
      Atomics.store(control, stopAt / 4, 1);
      const peer = await report;
      await worker.terminate();

      expect(allocations).toBeGreaterThan(1000);
      expect(peer.injected).toBeGreaterThan(0);
      expect(inUse).toBe(0);
      expect(pool.stats.duplicates).toBeGreaterThan(0);
      expect(peer.refused).toBeGreaterThan(0);
      expect(peer.doubleFrees).toBe(peer.refused);
      expect(pool.stats.badIds).toBe(0);
      expect(sent).toBeGreaterThan(0);
    },
  );
});
