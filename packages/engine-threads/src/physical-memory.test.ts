import { describe, expect, it } from 'vitest';
import { drainMmioRing, MMIO_RING_BYTES, MmioWindow, markMmioRingDead } from './mmio-ring.js';
import { SharedPhysicalMemory } from './physical-memory.js';

describe('SharedPhysicalMemory (the device worker frame table)', () => {
  const a = { paddr: 0x10_0000, buffer: new SharedArrayBuffer(0x2000) };
  const b = { paddr: 0x10_2000, buffer: new SharedArrayBuffer(0x1000) }; // adjacent to a
  const m = new SharedPhysicalMemory([a, b]);

  it('resolves physical addresses to (region, offset)', () => {
    m.write32(0x10_1ffc, 0xdeadbeef);
    expect(new DataView(a.buffer).getUint32(0x1ffc, true)).toBe(0xdeadbeef);
    m.store32(0x10_2000, -1);
    expect(m.load32(0x10_2000)).toBe(0xffffffff);
    expect(m.copyIn(0x10_0010, new Uint8Array([1, 2, 3]))).toBe(true);
    const d = new Uint8Array(3);
    expect(m.copyOut(0x10_0010, d)).toBe(true);
    expect([...d]).toEqual([1, 2, 3]);
  });

  it('refuses copies that straddle two regions, unbacked frames and unaligned atomics', () => {
    expect(m.contains(0x10_1ffe, 4)).toBe(false);
    expect(m.copyIn(0x10_1ffe, new Uint8Array(4))).toBe(false);
    expect(m.copyOut(0x0, new Uint8Array(4))).toBe(false);
    expect(m.contains(0x20_0000, 1)).toBe(false);
    expect(() => m.read32(0x1000)).toThrow(RangeError);
    expect(() => m.load32(0x10_0002)).toThrow(RangeError);
    expect(() => m.allocateRegion()).toThrow(/created by the engine/);
  });

  it('refuses overlapping or misaligned regions', () => {
    expect(
      () =>
        new SharedPhysicalMemory([a, { paddr: 0x10_1000, buffer: new SharedArrayBuffer(4096) }]),
    ).toThrow();
    expect(
      () => new SharedPhysicalMemory([{ paddr: 0x10_0100, buffer: new SharedArrayBuffer(4096) }]),
    ).toThrow();
  });
});

describe('MMIO ring', () => {
  it('executes posted writes in order and refuses offsets outside the window', () => {
    const ring = new SharedArrayBuffer(MMIO_RING_BYTES);
    const w = new MmioWindow(ring, new SharedArrayBuffer(4), 16);
    const log: string[] = [];
    const dev = {
      mmioSize: 16,
      read32: (o: number) => o,
      write32: (o: number, v: number) => log.push(`${o}=${v}`),
    };
    w.write32(0, 1);
    w.write32(4, 2);
    w.write32(16, 3); // outside
    w.write32(2, 3); // unaligned
    w.write32(0, 0xffff_ffff);
    expect(log).toEqual([]); // posted: nothing happens until the device drains
    expect(drainMmioRing(new Int32Array(ring), dev)).toBe(3);
    expect(log).toEqual(['0=1', '4=2', `0=${0xffff_ffff}`]);
    expect(w.counters.badOffsets).toBe(2);
    expect(w.read32(20)).toBe(0xffff_ffff); // refused without waiting
  });

  it('an access the device model throws on is counted and skipped; the ring keeps going', () => {
    const ring = new SharedArrayBuffer(MMIO_RING_BYTES);
    const w = new MmioWindow(ring, new SharedArrayBuffer(4), 16);
    const log: number[] = [];
    const dev = {
      mmioSize: 16,
      read32: () => 0,
      write32: (o: number, v: number) => {
        if (o === 8) throw new Error('model bug');
        log.push(v);
      },
    };
    w.write32(0, 1);
    w.write32(8, 2);
    w.write32(4, 3);
    const c = { entries: 0, errors: 0 };
    expect(drainMmioRing(new Int32Array(ring), dev, c)).toBe(3);
    expect(log).toEqual([1, 3]);
    expect(c).toEqual({ entries: 3, errors: 1 });
  });

  it('a device that is gone reads all ones and drops writes, instead of making readers wait', () => {
    const ring = new SharedArrayBuffer(MMIO_RING_BYTES);
    const w = new MmioWindow(ring, new SharedArrayBuffer(4), 16);
    markMmioRingDead(ring);
    w.write32(0, 1);
    expect(w.read32(0)).toBe(0xffff_ffff);
    expect(w.counters.deadAccesses).toBe(2);
  });
});
