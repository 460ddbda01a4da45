import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldSum, internetChecksum, sum16 } from './checksum.js';

/** The definition: big-endian 16-bit words, an odd last byte padded on the right, past-end bytes zero. */
function referenceSum(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < length; i += 2) {
    const hi = offset + i < bytes.length ? bytes[offset + i]! : 0;
    const lo = i + 1 < length && offset + i + 1 < bytes.length ? bytes[offset + i + 1]! : 0;
    sum += (hi << 8) | lo;
  }
  return sum;
}

type BufferKind = 'array' | 'shared' | 'resizable' | 'growable';

function makeBuffer(kind: BufferKind, size: number): ArrayBufferLike {
  // Node >= 20 has resizable and growable buffers; the lib typings may not know the option.
  const Resizable = ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer;
  const Growable = SharedArrayBuffer as unknown as new (n: number, o: object) => SharedArrayBuffer;
  switch (kind) {
    case 'array':
      return new ArrayBuffer(size);
    case 'shared':
      return new SharedArrayBuffer(size);
    case 'resizable':
      return new Resizable(size, { maxByteLength: size + 64 });
    case 'growable':
      return new Growable(size, { maxByteLength: size + 64 });
  }
}

/** A Uint8Array of `length` bytes at `byteOffset` into a fresh buffer of `kind`, filled from `fill`. */
function arrayOf(
  kind: BufferKind,
  byteOffset: number,
  fill: Uint8Array,
  slack: number,
): Uint8Array {
  const bytes = new Uint8Array(
    makeBuffer(kind, byteOffset + fill.length + slack),
    byteOffset,
    fill.length,
  );
  bytes.set(fill);
  // Bytes around the array are not the array's: non-zero garbage must not leak into the sum.
  new Uint8Array(bytes.buffer).fill(0xa5, 0, byteOffset);
  new Uint8Array(bytes.buffer).fill(0x5a, byteOffset + fill.length);
  return bytes;
}

const kinds = fc.constantFrom<BufferKind>('shared', 'array', 'shared', 'resizable', 'growable');
/** Deterministic pseudo-random bytes (xorshift32): cheap to shrink, unlike a shrinking array. */
function fillBytes(
  length: number,
  seed: number,
  mode: 'random' | 'zero-or-ones' | 'zero',
): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = mode === 'zero' ? 0 : mode === 'random' ? x & 0xff : x & 1 ? 0xff : 0;
  }
  return out;
}

// Random bytes, and bytes from {0, ff} so that all-zero and all-ones (a sum that is a non-zero
// multiple of 0xffff, the "negative zero") turn up often.
const contents = fc
  .tuple(
    fc.nat({ max: 3100 }),
    fc.integer(),
    fc.constantFrom<'random' | 'zero-or-ones' | 'zero'>('random', 'random', 'zero-or-ones', 'zero'),
  )
  .map(([length, seed, mode]) => fillBytes(length, seed, mode));

describe('sum16 against the byte-wise definition (property)', () => {
  it('folds to the same value for every buffer kind, byte offset, offset, length and initial sum', () => {
    fc.assert(
      fc.property(
        kinds,
        fc.integer({ min: 0, max: 9 }),
        contents,
        fc.integer({ min: 0, max: 7 }),
        fc.nat({ max: 3100 }),
        fc.nat({ max: 3000 }),
        fc.oneof(fc.constant(0), fc.nat({ max: 0xffff }), fc.nat({ max: 0xffffffff })),
        (kind, byteOffset, fill, slack, offset, length, initial) => {
          const bytes = arrayOf(kind, byteOffset, fill, slack);
          const want = foldSum(referenceSum(bytes, offset, length, initial));
          expect(foldSum(sum16(bytes, offset, length, initial))).toBe(want);
          expect(internetChecksum(bytes, offset, length, initial)).toBe(~want & 0xffff);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('chains through the initial sum like the definition does', () => {
    fc.assert(
      fc.property(
        kinds,
        fc.integer({ min: 0, max: 5 }),
        fc
          .tuple(fc.nat({ max: 3000 }), fc.integer())
          .map(([n, seed]) => fillBytes(n, seed, 'random')),
        fc.nat({ max: 3000 }),
        (kind, byteOffset, fill, cut) => {
          const bytes = arrayOf(kind, byteOffset, fill, 3);
          const split = Math.min(cut, fill.length) & ~1; // the definition chains at even cuts
          const chained = sum16(bytes, split, fill.length - split, sum16(bytes, 0, split));
          expect(foldSum(chained)).toBe(foldSum(referenceSum(bytes, 0, fill.length)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same answers while more buffers are in use than it caches views for', () => {
    const fills = Array.from({ length: 7 }, (_, k) =>
      Uint8Array.from({ length: 1100 + k }, (_, i) => (i * 31 + k * 7) & 0xff),
    );
    const arrays = fills.map((f, k) => arrayOf(k % 2 === 0 ? 'shared' : 'array', k, f, 1));
    for (let round = 0; round < 3; round++) {
      for (const [k, bytes] of arrays.entries()) {
        const offset = (round + k) % 5;
        const want = foldSum(referenceSum(bytes, offset, 1032));
        expect(foldSum(sum16(bytes, offset, 1032))).toBe(want);
      }
    }
  });

  it('keeps the definition for odd arguments: negative or fractional offsets and lengths', () => {
    const bytes = arrayOf(
      'shared',
      1,
      Uint8Array.from({ length: 200 }, (_, i) => i),
      0,
    );
    // The byte-wise loop reads bytes[-1] as undefined (0) and rounds a fractional end up.
    expect(sum16(bytes, -1, 100)).toBe(sum16Loop(bytes, -1, 99));
    expect(sum16(bytes, 0, 100.5)).toBe(sum16Loop(bytes, 0, 100.5));
    expect(sum16(bytes, 0.5, 100)).toBe(sum16Loop(bytes, 0.5, 100.5));
    expect(sum16(bytes, 0, Number.NaN, 7)).toBe(7);
    expect(foldSum(sum16(bytes, 0, Number.POSITIVE_INFINITY))).toBe(
      foldSum(referenceSum(bytes, 0, 200)),
    );
  });

  it('sees a resized buffer at its new length', () => {
    const Resizable = ArrayBuffer as unknown as new (
      n: number,
      o: object,
    ) => ArrayBuffer & { resize(n: number): void };
    const buffer = new Resizable(256, { maxByteLength: 2048 });
    const bytes = new Uint8Array(buffer); // length-tracking
    bytes.fill(1);
    expect(foldSum(sum16(bytes, 0, 2000))).toBe(foldSum(referenceSum(bytes, 0, 2000)));
    buffer.resize(2048);
    new Uint8Array(buffer).fill(3, 256);
    expect(bytes.length).toBe(2048);
    expect(foldSum(sum16(bytes, 0, 2000))).toBe(foldSum(referenceSum(bytes, 0, 2000)));
  });
});

/** The pre-word-wise loop verbatim, for the odd-argument cases. */
function sum16Loop(bytes: Uint8Array, offset: number, end: number): number {
  let sum = 0;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}
