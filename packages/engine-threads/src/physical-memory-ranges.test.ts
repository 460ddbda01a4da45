import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_BYTES, SharedPhysicalMemory } from './physical-memory.js';

const A = 0x10_000;
const B = A + 4 * FRAME_BYTES;

function memory() {
  return new SharedPhysicalMemory([
    { paddr: A, buffer: new SharedArrayBuffer(4 * FRAME_BYTES) },
    { paddr: B, buffer: new SharedArrayBuffer(2 * FRAME_BYTES) },
  ]);
}

describe('SharedPhysicalMemory ranged copies (the DMA path: views cached, not made per copy)', () => {
  it('copy exactly what copyIn/copyOut of the same subarrays copy, across several caller buffers with the same offsets (never a cached view of another buffer)', () => {
    const copy = fc.record({
      into: fc.boolean(),
      buf: fc.nat(3),
      at: fc.oneof(fc.constantFrom(0, 2048), fc.nat(6 * FRAME_BYTES)),
      // repeated offsets and lengths on different buffers: what a cache keyed badly would mix up
      off: fc.oneof(fc.constantFrom(0, 4, 100), fc.nat(600)),
      len: fc.oneof(fc.constantFrom(8, 64, 700), fc.nat(700)),
    });
    fc.assert(
      fc.property(fc.array(copy, { maxLength: 60 }), fc.nat(), (copies, seed) => {
        const ranged = memory();
        const plain = memory();
        const bufs = [0, 1, 2, 3].map((k) =>
          Uint8Array.from({ length: 1300 }, (_, i) => (i * 7 + k * 31 + seed) & 0xff),
        );
        const bufs2 = bufs.map((b) => b.slice());
        for (const c of copies) {
          const paddr = A + c.at;
          const src = bufs[c.buf]!;
          const src2 = bufs2[c.buf]!;
          if (c.into) {
            const ok = ranged.copyInRange(paddr, src, c.off, c.len);
            expect(ok).toBe(plain.copyIn(paddr, src2.subarray(c.off, c.off + c.len)));
          } else {
            const ok = ranged.copyOutRange(paddr, src, c.off, c.len);
            expect(ok).toBe(plain.copyOut(paddr, src2.subarray(c.off, c.off + c.len)));
          }
          // Buffer.compare: a deep toEqual of typed arrays per copy is what made this test slow
          expect(Buffer.compare(src, src2)).toBe(0);
        }
        const all = new Uint8Array(4 * FRAME_BYTES);
        const all2 = new Uint8Array(4 * FRAME_BYTES);
        expect(ranged.copyOut(A, all)).toBe(true);
        expect(plain.copyOut(A, all2)).toBe(true);
        expect(Buffer.compare(all, all2)).toBe(0);
      }),
    );
  }, 30_000);

  it('a view cached for one buffer or region is never used for another at the same offset and length', () => {
    const m = memory();
    const one = new Uint8Array(16).fill(1);
    const two = new Uint8Array(16).fill(2);
    expect(m.copyInRange(A + 64, one, 4, 8)).toBe(true);
    expect(m.copyInRange(B + 64, two, 4, 8)).toBe(true);
    const out = new Uint8Array(8);
    expect(m.copyOutRange(A + 64, out, 0, 8)).toBe(true);
    expect([...out]).toEqual(Array(8).fill(1));
    // the same offset (64) and length in the other region
    expect(m.copyOutRange(B + 64, out, 0, 8)).toBe(true);
    expect([...out]).toEqual(Array(8).fill(2));
  });

  it('refuse a range that straddles two regions or leaves memory, and a caller range outside its buffer', () => {
    const m = memory();
    const b = new Uint8Array(64);
    expect(m.copyInRange(B - 8, b, 0, 16)).toBe(false);
    expect(m.copyOutRange(B + 2 * FRAME_BYTES - 8, b, 0, 16)).toBe(false);
    expect(() => m.copyInRange(A, b, 60, 8)).toThrow(RangeError);
    expect(() => m.copyOutRange(A, b, -1, 8)).toThrow(RangeError);
  });
});
