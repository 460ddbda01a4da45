// The mapping database and a domain's copy of its page table, without workers: updates carry
// exactly the changed pages and the regions a domain lacks; a mapping may cover part of a
// region; a view covers one region, contiguously.
import { describe, expect, it } from 'vitest';
import { MappingDb } from './mapping-db.js';
import { DomainMemory } from './memory.js';

const RW = { read: true, write: true, execute: false };
const RO = { read: true, write: false, execute: false };
const PAGE = 4096;

describe('MappingDb + DomainMemory', () => {
  it('a mapping of part of a region gives views at the right offset, within one region only', () => {
    const db = new MappingDb();
    const buf = new SharedArrayBuffer(4 * PAGE);
    new Uint8Array(buf)[PAGE + 5] = 42;
    const other = db.addRegion(new SharedArrayBuffer(PAGE), null);
    const r = db.addRegion(buf, 0x20_0000);
    db.mapRoot(0, 0x100, r, 1, 2, 6); // pages 1 and 2 of the region at vpage 0x100
    db.mapRoot(0, 0x102, other, 0, 1, 4); // then another region, read-only
    const u = db.takeUpdate(0)!;
    expect(u.regions.map((x) => x.id).sort()).toEqual([other, r].sort());
    const m = new DomainMemory(u);
    const v = m.view(0x100 * PAGE + 5, 2 * PAGE - 5, 2);
    expect('error' in v).toBe(false);
    if (!('error' in v)) {
      expect(v.buffer).toBe(buf);
      expect(v.byteOffset).toBe(PAGE + 5);
      expect(v.bytes[0]).toBe(42);
    }
    expect(m.translate(0x100 * PAGE + 5)).toBe(0x20_0000 + PAGE + 5);
    expect(m.translate(0x102 * PAGE)).toBeNull(); // not physical
    // spanning into the next region: not contiguous; writing the read-only page: a fault
    expect(m.view(0x101 * PAGE, 2 * PAGE, 4)).toMatchObject({ error: 'not-contiguous' });
    expect(m.view(0x102 * PAGE, 4, 2)).toMatchObject({ error: 'fault', mapped: true });
    expect(m.view(0x103 * PAGE, 4, 4)).toMatchObject({ error: 'fault', mapped: false });
  });

  it('updates carry only the changes; a region is sent to a domain once', () => {
    const db = new MappingDb();
    const r = db.addRegion(new SharedArrayBuffer(2 * PAGE), 0x10_0000);
    db.mapRoot(0, 0x10, r, 0, 2, 6);
    db.takeUpdate(0);
    const window = { base: 0x4000_0000, log2: 24 };
    const item = (base: number, sendBase: number, rights = RW) => ({
      kind: 'map' as const,
      fpage: { base, sizeLog2: 12, rights },
      sendBase,
    });
    expect(db.transfer(0, 1, [item(0x10 * PAGE, 0)], window.base, window.log2)).toBe(1);
    const u1 = db.takeUpdate(1)!;
    expect(u1.regions.map((x) => x.id)).toEqual([r]);
    expect(u1.set).toEqual([0x4000_0000 / PAGE, r, 0, 6]);
    expect(db.transfer(0, 1, [item(0x11 * PAGE, PAGE, RO)], window.base, window.log2)).toBe(1);
    const u2 = db.takeUpdate(1)!;
    expect(u2.regions).toEqual([]); // held already
    expect(u2.set).toEqual([0x4000_0000 / PAGE + 1, r, 1, 4]);
    expect(db.takeUpdate(0)).toBeNull(); // the sender's table did not change
    expect(db.unmap(0, { base: 0x10 * PAGE, sizeLog2: 13, rights: RW }, false)).toBe(2);
    const u3 = db.takeUpdate(1)!;
    expect([...u3.del].sort()).toEqual([0x4000_0000 / PAGE, 0x4000_0000 / PAGE + 1]);
    const m = new DomainMemory(u1);
    m.apply(u2);
    m.apply(u3);
    expect(m.lookup(0x4000_0000 / PAGE)).toBeUndefined();
    expect(db.holds(1, r)).toBe(true); // a buffer is never taken back
  });
});
