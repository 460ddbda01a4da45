import { FrameMemory } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { FlatMemory } from '../testing/test-host.js';
import { dmaMemory } from './dma-memory.js';

describe('dmaMemory', () => {
  it('uses the memory’s own atomic and block operations when it has them', () => {
    const m = new FlatMemory(1 << 16);
    const d = dmaMemory(m);
    d.copyIn(0x200, Uint8Array.of(9, 1, 2, 3, 9), 1, 3);
    expect([...m.bytes.subarray(0x1ff, 0x204)]).toEqual([0, 1, 2, 3, 0]);
    const out = new Uint8Array(5);
    d.copyOut(0x200, out, 2, 3);
    expect([...out]).toEqual([0, 0, 1, 2, 3]);
    expect(m.copies).toBe(2);
    expect(() => d.copyIn(m.size - 2, new Uint8Array(4), 0, 4)).toThrow(RangeError);
  });

  it('adapts the kernel’s region memory, one region at a time', () => {
    const m = new FrameMemory(1 << 16, 'separate');
    const a = m.allocateRegion(4096).paddr;
    const b = m.allocateRegion(4096).paddr;
    const d = dmaMemory(m);
    d.store32(a + 8, 0x8000_0001);
    expect(d.load32(a + 8)).toBe(0x8000_0001);
    d.copyIn(b, Uint8Array.of(7, 8), 0, 2);
    const out = new Uint8Array(2);
    d.copyOut(b, out, 0, 2);
    expect([...out]).toEqual([7, 8]);
    // A copy straddling two regions is refused, never half done.
    expect(() => d.copyIn(b - 2, new Uint8Array(4), 0, 4)).toThrow(RangeError);
  });

  it('wraps each memory once', () => {
    const m = new FlatMemory(1 << 16);
    expect(dmaMemory(m)).toBe(dmaMemory(m));
    expect(dmaMemory(new FlatMemory(1 << 16))).not.toBe(dmaMemory(m));
  });
});
