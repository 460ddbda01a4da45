import { describe, expect, it } from 'vitest';
import type { DmaMemory } from './dma-memory.js';
import { FrameFifo } from './fifo.js';

/** A flat memory with the DmaMemory block copies (the descriptor words are not used here). */
function flatMemory(size: number): DmaMemory & { bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  return {
    bytes,
    size,
    contains: (p, n) => p >= 0 && n >= 0 && p + n <= size,
    read32: () => 0,
    write32: () => {},
    load32: () => 0,
    store32: () => {},
    copyIn: (p, src, off, n) => bytes.set(src.subarray(off, off + n), p),
    copyOut: (p, dst, off, n) => dst.set(bytes.subarray(p, p + n), off),
  };
}

/** A frame of `len` bytes whose bytes are `(seed + i) & 0xff`. */
function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (seed + i) & 0xff);
}

describe('FrameFifo', () => {
  it('keeps every frame intact across the end of the ring, whole or in bursts', () => {
    // Frame sizes that do not divide the capacity, so frames start everywhere and many straddle
    // the end of the ring; up to three frames queued at once.
    const capacity = 1000;
    const fifo = new FrameFifo(capacity, 14, capacity);
    const mem = flatMemory(4096);
    const sizes = [333, 14, 500, 999, 77, 1000, 250, 251, 613];
    const queued: Uint8Array[] = [];
    let seed = 0;
    for (let round = 0; round < 60; round++) {
      const len = sizes[round % sizes.length]!;
      while (fifo.free < len) {
        const want = queued.shift()!;
        expect(fifo.headLength()).toBe(want.length);
        // Read back three ways: the staging copy, copyOut, and DMA writes in 64-byte bursts.
        expect(Array.from(fifo.stageHead())).toEqual(Array.from(want));
        const out = new Uint8Array(want.length);
        fifo.copyOut(0, out, 0, want.length);
        expect(Array.from(out)).toEqual(Array.from(want));
        for (let done = 0; done < want.length; done += 64) {
          const n = Math.min(64, want.length - done);
          fifo.copyToMemory(done, mem, 100 + done, n);
        }
        expect(Array.from(mem.bytes.subarray(100, 100 + want.length))).toEqual(Array.from(want));
        fifo.pop();
      }
      const frame = pattern(len, seed++);
      if (round % 2 === 0) {
        fifo.append(frame, 0, len);
      } else {
        // As transmit DMA fills it: bursts from memory.
        mem.bytes.set(frame, 2048);
        for (let done = 0; done < len; done += 128) {
          fifo.appendFromMemory(mem, 2048 + done, Math.min(128, len - done));
        }
      }
      expect(fifo.open).toBe(len);
      expect(fifo.commit(round)).toBe(true);
      queued.push(frame);
      expect(fifo.used).toBe(queued.reduce((a, f) => a + f.length, 0));
    }
  });

  it('a discarded open frame leaves the frames before it intact and its room free', () => {
    const fifo = new FrameFifo(100, 14, 100);
    fifo.append(pattern(70, 1), 0, 70);
    fifo.commit(0);
    fifo.append(pattern(20, 9), 0, 20);
    fifo.discardOpen();
    expect(fifo.free).toBe(30);
    fifo.append(pattern(30, 5), 0, 30); // straddles the end of the ring
    fifo.commit(1);
    expect(Array.from(fifo.stageHead())).toEqual(Array.from(pattern(70, 1)));
    fifo.pop();
    expect(Array.from(fifo.stageHead())).toEqual(Array.from(pattern(30, 5)));
  });
});
