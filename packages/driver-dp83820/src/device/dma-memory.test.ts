import { FrameMemory } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { FlatMemory } from '../testing/test-host.js';
import { dmaMemory } from './dma-memory.js';

describe('dmaMemory', () => {
  it('uses the memory’s own atomic and block operations when it has them', () => {
    const m = new FlatMemory(1 << 16);
    expect(dmaMemory(m)).toBe(m);
  });

  it('supplies them over `bytes` for a memory without them (the kernel’s FrameMemory today)', () => {
    const m = new FrameMemory(1 << 16);
    const d = dmaMemory(m);
    expect(dmaMemory(m)).toBe(d); // one wrapper per memory
    d.store32(0x100, 0x8000_0001);
    expect(d.load32(0x100)).toBe(0x8000_0001);
    expect(m.read32(0x100)).toBe(0x8000_0001);
    d.copyIn(0x200, Uint8Array.of(9, 1, 2, 3, 9), 1, 3);
    expect([...m.bytes.subarray(0x1ff, 0x204)]).toEqual([0, 1, 2, 3, 0]);
    const out = new Uint8Array(5);
    d.copyOut(0x200, out, 2, 3);
    expect([...out]).toEqual([0, 0, 1, 2, 3]);
    expect(() => d.copyIn(m.size - 2, new Uint8Array(4), 0, 4)).toThrow(RangeError);
  });
});
