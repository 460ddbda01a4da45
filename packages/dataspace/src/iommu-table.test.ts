import { describe, expect, it } from 'vitest';
import { IommuDomain } from './iommu-domain.js';
import { IOMMU_READ, IOMMU_WRITE, IommuTable } from './iommu-table.js';
import { PAGE_SIZE } from './page.js';

function table(frames = 64): IommuTable {
  const t = new IommuTable(new SharedArrayBuffer(IommuTable.bytesFor(frames)), 0, frames);
  t.format();
  return t;
}

describe('IommuTable', () => {
  it('refuses every access until a frame is granted', () => {
    const t = table();
    expect(t.formatted).toBe(true);
    expect(t.permits(0, 4, false)).toBe(false);
    expect(t.permits(5 * PAGE_SIZE, 1514, true)).toBe(false);
    expect(t.mappedFrames()).toBe(0);
  });

  it('checks every frame a burst touches, and the direction', () => {
    const t = table();
    t.grant(4 * PAGE_SIZE, 2 * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
    t.setAccess(6, IOMMU_READ);
    expect(t.permits(4 * PAGE_SIZE, 2 * PAGE_SIZE, true)).toBe(true);
    // Straddles into frame 6, which is read-only.
    expect(t.permits(6 * PAGE_SIZE - 8, 16, true)).toBe(false);
    expect(t.permits(6 * PAGE_SIZE - 8, 16, false)).toBe(true);
    // Straddles into frame 7, which is not mapped at all.
    expect(t.permits(7 * PAGE_SIZE - 8, 16, false)).toBe(false);
    expect(t.permits(3 * PAGE_SIZE + 4000, 200, false)).toBe(false);
  });

  it('refuses addresses outside the table and malformed ranges without throwing', () => {
    const t = table(8);
    t.grant(0, 8 * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
    expect(t.permits(8 * PAGE_SIZE - 4, 8, true)).toBe(false);
    expect(t.permits(2 ** 40, 4, false)).toBe(false);
    expect(t.permits(-4, 4, false)).toBe(false);
    expect(t.permits(Number.NaN, 4, false)).toBe(false);
    expect(t.permits(0, 0, false)).toBe(false);
    expect(() => t.grant(7 * PAGE_SIZE, 2 * PAGE_SIZE, IOMMU_READ)).toThrow(/outside/);
  });

  it('records faults for the supervisor', () => {
    const t = table();
    expect(t.faults).toBe(0);
    t.recordFault(0x1_2345_6000, true);
    t.recordFault(0x3000, false);
    expect(t.faults).toBe(2);
    expect(t.lastFaultAddress).toBe(0x3000);
    expect(t.lastFaultAccess).toBe(IOMMU_READ);
  });

  it('rejects a table that does not fit its buffer', () => {
    expect(() => new IommuTable(new SharedArrayBuffer(40), 0, 64)).toThrow(/does not fit/);
    expect(() => new IommuTable(new SharedArrayBuffer(4096), 2, 64)).toThrow(/aligned/);
    expect(() => new IommuTable(new SharedArrayBuffer(4096), 0, 0)).toThrow(/positive/);
  });
});

describe('IommuDomain', () => {
  it('needs a formatted table', () => {
    const t = new IommuTable(new SharedArrayBuffer(IommuTable.bytesFor(8)), 0, 8);
    expect(() => new IommuDomain(t)).toThrow(/not formatted/);
  });

  it('keeps a frame mapped while any entry maps it, writable while any maps it writable', () => {
    const t = table();
    const d = new IommuDomain(t);
    const a = d.entries(4);
    const b = d.entries(4);
    a.set(0, 10, true);
    b.set(3, 10, false);
    expect(t.accessOf(10)).toBe(IOMMU_READ | IOMMU_WRITE);
    a.clear(0);
    expect(t.accessOf(10)).toBe(IOMMU_READ);
    expect(t.permits(10 * PAGE_SIZE, 64, true)).toBe(false);
    b.clear(3);
    expect(t.accessOf(10)).toBe(0);
    expect(d.references(10)).toBe(0);
  });

  it('replaces the frame of an entry on re-install and balances on clearAll', () => {
    const t = table();
    const d = new IommuDomain(t);
    const a = d.entries(8);
    a.set(1, 20, true);
    a.set(1, 20, true); // a refill of a valid entry
    expect(d.references(20)).toBe(1);
    a.set(1, 21, true); // the translation moved
    expect(t.accessOf(20)).toBe(0);
    expect(t.accessOf(21)).toBe(IOMMU_READ | IOMMU_WRITE);
    a.set(2, 22, false);
    expect(a.live).toBe(2);
    a.clearAll();
    expect(a.live).toBe(0);
    expect(t.mappedFrames()).toBe(0);
    expect(d.stats).toMatchObject({ entered: 4, removed: 4, outside: 0 });
    a.clear(2); // clearing twice is harmless
    expect(d.stats.removed).toBe(4);
  });

  it('counts a frame outside the table and leaves the table alone', () => {
    const t = table(8);
    const d = new IommuDomain(t);
    const a = d.entries(2);
    a.set(0, 100, true);
    a.clear(0);
    expect(d.stats.outside).toBe(1);
    expect(t.mappedFrames()).toBe(0);
  });

  it('leaves frames granted at setup alone', () => {
    const t = table();
    t.grant(0, 2 * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
    const d = new IommuDomain(t);
    const a = d.entries(2);
    a.set(0, 5, false);
    a.clearAll();
    expect(t.permits(0, 2 * PAGE_SIZE, true)).toBe(true);
    expect(t.mappedFrames()).toBe(2);
  });
});
