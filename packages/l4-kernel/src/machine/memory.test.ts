import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.js';
import { type MemoryLayout, PAGE_SIZE, RegionMemory } from './memory.js';

const LAYOUTS: readonly MemoryLayout[] = ['shared', 'separate'];

describe.each(LAYOUTS)('region memory (%s layout)', (layout) => {
  it('gives every allocation its own region, found through the frame table', () => {
    const m = new RegionMemory(1 << 20, layout);
    const a = m.allocateRegion(PAGE_SIZE);
    const b = m.allocateRegion(3 * PAGE_SIZE);
    expect(a.paddr).toBe(PAGE_SIZE); // frame 0 is never allocated
    expect(b.paddr).toBe(2 * PAGE_SIZE);
    expect(a.region.id).not.toBe(b.region.id);
    expect(m.regionOf(b.paddr + 2 * PAGE_SIZE + 17)).toBe(b.region);
    expect(m.regionOfRange(b.paddr, 3 * PAGE_SIZE)).toBe(b.region);
    // Contiguous frames, two regions: not one range.
    expect(m.regionOfRange(a.paddr, 2 * PAGE_SIZE)).toBeNull();
    if (layout === 'separate') {
      expect(a.region.buffer).not.toBe(b.region.buffer);
      expect(a.region.byteOffset).toBe(0);
      expect(b.region.buffer.byteLength).toBe(3 * PAGE_SIZE);
    }
  });

  it('block copies stay inside one region and report a range that is not', () => {
    const m = new RegionMemory(1 << 20, layout);
    const a = m.allocate(PAGE_SIZE);
    const b = m.allocate(PAGE_SIZE);
    const src = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
    expect(m.copyIn(b + 10, src)).toBe(true);
    const dst = new Uint8Array(100);
    expect(m.copyOut(b + 10, dst)).toBe(true);
    expect(dst).toEqual(src);
    expect(m.read32(b + 10)).toBe(0x04030201); // little-endian
    // Spanning a region boundary: nothing is copied.
    const before = new Uint8Array(8);
    m.copyOut(a + PAGE_SIZE - 8, before);
    expect(m.copyIn(a + PAGE_SIZE - 8, new Uint8Array(16).fill(0xee))).toBe(false);
    const after = new Uint8Array(8);
    m.copyOut(a + PAGE_SIZE - 8, after);
    expect(after).toEqual(before);
    expect(m.copyOut(b + PAGE_SIZE - 4, new Uint8Array(8))).toBe(false);
  });

  it('load32/store32 are atomic word accesses on the region buffer, aligned only', () => {
    const m = new RegionMemory(1 << 20, layout);
    const { paddr, region } = m.allocateRegion(PAGE_SIZE);
    m.store32(paddr + 8, 0x8000_0001);
    expect(m.load32(paddr + 8)).toBe(0x8000_0001);
    expect(m.read32(paddr + 8)).toBe(0x8000_0001);
    const i32 = new Int32Array(region.buffer, region.byteOffset, PAGE_SIZE / 4);
    expect(Atomics.load(i32, 2) >>> 0).toBe(0x8000_0001);
    m.write32(paddr + 12, 7);
    expect(m.load32(paddr + 12)).toBe(7);
    expect(() => m.load32(paddr + 2)).toThrow(RangeError);
    expect(() => m.store32(paddr + 6, 1)).toThrow(RangeError);
  });
});

describe('region memory layouts', () => {
  it('separate layout: unallocated frames are not backed', () => {
    const m = new RegionMemory(1 << 20, 'separate');
    const a = m.allocate(PAGE_SIZE);
    expect(m.contains(a, PAGE_SIZE)).toBe(true);
    expect(m.contains(a, PAGE_SIZE + 1)).toBe(false);
    expect(() => m.read32(a + PAGE_SIZE)).toThrow(RangeError);
    expect(m.copyIn(a + PAGE_SIZE, new Uint8Array(4))).toBe(false);
  });

  it('shared layout: the rest of memory is region 0', () => {
    const m = new RegionMemory(1 << 20, 'shared');
    const a = m.allocate(PAGE_SIZE);
    expect(m.contains(m.size - 4, 4)).toBe(true);
    expect(m.regionOf(m.size - 4)?.id).toBe(0);
    expect(m.regionOfRange(a + PAGE_SIZE, 2 * PAGE_SIZE)?.id).toBe(0);
    expect(m.regionOfRange(a, 2 * PAGE_SIZE)).toBeNull();
    m.write32(a, 0xdeadbeef);
    const first = new Uint8Array(1);
    expect(m.copyOut(a, first)).toBe(true);
    expect(first[0]).toBe(0xef);
  });

  it('rejects bad layouts, sizes and alignments with typed errors', () => {
    expect(() => new RegionMemory(1 << 20, 'x' as MemoryLayout)).toThrow(KernelError);
    const m = new RegionMemory(1 << 20, 'separate');
    for (const f of [() => m.allocateRegion(0), () => m.allocateRegion(10, 100)]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect((e as KernelError).code).toBe('CONFIG');
      }
    }
  });
});
