import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentError, LayoutError, UdfError } from './errors.js';
import { RING_SLOTS_OFFSET, RING_TAIL_OFFSET, SpscRing } from './ring.js';

function makeRing(capacity = 8, slotWords = 4, byteOffset = 0) {
  const sab = new SharedArrayBuffer(byteOffset + SpscRing.byteLength(capacity, slotWords));
  return {
    sab,
    producer: new SpscRing(sab, byteOffset, capacity, slotWords),
    consumer: new SpscRing(sab, byteOffset, capacity, slotWords),
  };
}

describe('SpscRing layout', () => {
  it('needs 128 bytes of indices plus capacity × slotWords words', () => {
    expect(SpscRing.byteLength(8, 4)).toBe(128 + 8 * 4 * 4);
    expect(SpscRing.byteLength(1, 1)).toBe(132);
  });

  it('keeps head and tail on separate 64-byte cache lines, slots after them', () => {
    const { sab, producer, consumer } = makeRing(4, 2, 64);
    const words = new Uint32Array(sab);
    producer.push([7, 8]);
    expect(words[(64 + RING_TAIL_OFFSET) / 4]).toBe(1);
    expect(words[(64 + RING_SLOTS_OFFSET) / 4]).toBe(7);
    consumer.pop(new Uint32Array(2));
    expect(words[64 / 4]).toBe(1);
    expect(producer.slots.byteOffset).toBe(64 + RING_SLOTS_OFFSET);
    expect(producer.slots.length).toBe(8);
  });

  it.each([
    [0, 4],
    [3, 4],
    [6, 4],
    [1.5, 4],
    [2 ** 29, 1],
    [8, 0],
    [8, 1.5],
    [8, 2000],
  ])('rejects capacity %d with slotWords %d', (capacity, slotWords) => {
    expect(() => SpscRing.byteLength(capacity, slotWords)).toThrow(LayoutError);
  });

  it('rejects misaligned offsets and regions that do not fit', () => {
    const sab = new SharedArrayBuffer(1024);
    expect(() => new SpscRing(sab, 2, 4, 1)).toThrow(LayoutError);
    expect(() => new SpscRing(sab, -4, 4, 1)).toThrow(LayoutError);
    expect(() => new SpscRing(sab, 1024 - 128, 4, 1)).toThrow(LayoutError);
    expect(() => new SpscRing(sab, 1024 - 144, 4, 1)).not.toThrow();
  });

  it('throws UdfError subclasses with stable codes', () => {
    try {
      new SpscRing(new SharedArrayBuffer(1024), 0, 3, 1);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UdfError);
      expect((e as UdfError).code).toBe('LAYOUT');
      expect((e as UdfError).name).toBe('LayoutError');
    }
  });
});

describe('SpscRing single-slot operations', () => {
  it('is empty when fresh: count 0, space = capacity, pop fails', () => {
    const { producer, consumer } = makeRing();
    expect(consumer.count()).toBe(0);
    expect(producer.space()).toBe(8);
    expect(consumer.pop(new Uint32Array(4))).toBe(false);
  });

  it('delivers slots in FIFO order and refuses to push when full', () => {
    const { producer, consumer } = makeRing(4, 2);
    for (let i = 0; i < 4; i++) expect(producer.push([i, i * 10])).toBe(true);
    expect(producer.push([99, 99])).toBe(false);
    expect(producer.space()).toBe(0);
    expect(consumer.count()).toBe(4);
    const out = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      expect(consumer.pop(out, 2)).toBe(true);
      expect([out[2], out[3]]).toEqual([i, i * 10]);
    }
    expect(consumer.pop(out)).toBe(false);
  });

  it('works across the 2^32 wrap of the free-running indices', () => {
    const { sab, producer, consumer } = makeRing(4, 1);
    const ctrl = new Uint32Array(sab);
    ctrl[0] = 0xffff_fffe;
    ctrl[RING_TAIL_OFFSET / 4] = 0xffff_fffe;
    const out = new Uint32Array(1);
    for (let i = 0; i < 10; i++) {
      expect(producer.push([i])).toBe(true);
      expect(producer.push([i + 100])).toBe(true);
      expect(consumer.count()).toBe(2);
      expect(consumer.pop(out)).toBe(true);
      expect(out[0]).toBe(i);
      expect(consumer.pop(out)).toBe(true);
      expect(out[0]).toBe(i + 100);
    }
    expect(producer.stats.corruptions + consumer.stats.corruptions).toBe(0);
  });

  it('supports zero-copy peekFree/commit and peekFilled/release', () => {
    const { producer, consumer } = makeRing(2, 3);
    const at = producer.peekFree();
    producer.slots.set([1, 2, 3], at);
    expect(producer.commit()).toBe(true);
    const from = consumer.peekFilled();
    expect(Array.from(consumer.slots.subarray(from, from + 3))).toEqual([1, 2, 3]);
    expect(consumer.release()).toBe(true);
    expect(consumer.peekFilled()).toBe(-1);
    expect(consumer.release()).toBe(false);
    producer.commit();
    producer.commit();
    expect(producer.peekFree()).toBe(-1);
    expect(producer.commit()).toBe(false);
  });

  it('rejects output arrays and slots that are too short', () => {
    const { producer, consumer } = makeRing(4, 4);
    expect(() => producer.push([1, 2])).toThrow(ArgumentError);
    producer.push([1, 2, 3, 4]);
    expect(() => consumer.pop(new Uint32Array(4), 1)).toThrow(ArgumentError);
    expect(() => consumer.popBatch(new Uint32Array(7), 2)).toThrow(ArgumentError);
    expect(() => producer.pushBatch(new Uint32Array(7), 2)).toThrow(ArgumentError);
  });
});

describe('SpscRing batches', () => {
  it('pushes as many as fit and pops as many as are there, wrapping around', () => {
    const { producer, consumer } = makeRing(8, 2);
    const src = Uint32Array.from({ length: 24 }, (_, i) => i);
    const out = new Uint32Array(24);
    expect(producer.pushBatch(src, 5)).toBe(5);
    expect(consumer.popBatch(out, 3)).toBe(3);
    expect(Array.from(out.subarray(0, 6))).toEqual([0, 1, 2, 3, 4, 5]);
    // tail is at 5, head at 3: a batch of 12 has room for 6 and wraps past the end
    expect(producer.pushBatch(src, 12)).toBe(6);
    expect(consumer.count()).toBe(8);
    expect(consumer.popBatch(out, 12)).toBe(8);
    expect(Array.from(out.subarray(0, 16))).toEqual([
      6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
  });

  it('behaves like a bounded FIFO queue for any sequence of operations', () => {
    // off: word offset into the caller's array; exact: the array holds exactly the batch (the
    // bulk-copy path of pushBatch), otherwise a larger array (the word-by-word path)
    const op = fc.record({
      kind: fc.constantFrom('push' as const, 'pop' as const),
      n: fc.integer({ min: 0, max: 20 }),
      off: fc.integer({ min: 0, max: 3 }),
      exact: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 4 }), (ops, log2) => {
        const capacity = 2 ** log2;
        const { producer, consumer } = makeRing(capacity, 2);
        const model: number[] = [];
        let next = 0;
        for (const { kind, n, off: o, exact } of ops) {
          const off = exact ? 0 : o * 2;
          const buf = new Uint32Array(exact ? n * 2 : off + 40);
          if (kind === 'push') {
            for (let i = 0; i < n; i++) buf.set([next + i, ~(next + i) >>> 0], off + i * 2);
            const pushed = producer.pushBatch(buf, n, off);
            expect(pushed).toBe(Math.min(n, capacity - model.length));
            for (let i = 0; i < pushed; i++) model.push(next + i);
            next += pushed;
          } else {
            const popped = consumer.popBatch(buf, n, off);
            expect(popped).toBe(Math.min(n, model.length));
            for (let i = 0; i < popped; i++) {
              const v = model.shift()!;
              expect(buf[off + i * 2]).toBe(v);
              expect(buf[off + i * 2 + 1]).toBe(~v >>> 0);
            }
          }
          expect(consumer.count()).toBe(model.length);
          expect(producer.space()).toBe(capacity - model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('checks offsets: the batch must fit in the caller array after the offset', () => {
    const { producer, consumer } = makeRing(8, 2);
    expect(() => producer.pushBatch(new Uint32Array(8), 4, 1)).toThrow(ArgumentError);
    expect(() => consumer.popBatch(new Uint32Array(8), 4, 1)).toThrow(ArgumentError);
    expect(() => producer.pushBatch(new Uint32Array(8), 1, -1)).toThrow(ArgumentError);
    expect(producer.pushBatch(Uint32Array.from([9, 9, 1, 2, 3, 4]), 2, 2)).toBe(2);
    const out = new Uint32Array(6);
    expect(consumer.popBatch(out, 2, 1)).toBe(2);
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 4, 0]);
  });
});
