import type { MemoryError, MemoryView, Sys } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { type Dataspace, dsClient } from './client.js';
import { DataspaceError } from './errors.js';
import { PAGE_SIZE } from './page.js';
import { DS_RIGHT_READ, DS_RIGHT_WRITE } from './protocol.js';
import { RegionMap, RegionMapper, rmClient } from './region-mapper.js';
import { world } from './test-fixture.js';

const REGION = 0x4000_0000;

function isView(v: MemoryView | MemoryError): v is MemoryView {
  return 'bytes' in v;
}

describe('RegionMap', () => {
  it('finds the region holding an address and rejects overlaps and bad geometry', () => {
    const m = new RegionMap();
    m.attach({
      vaddr: REGION,
      size: 2 * PAGE_SIZE,
      manager: 1,
      dataspaceId: 1,
      offset: 0,
      writable: true,
    });
    expect(m.find(REGION + PAGE_SIZE + 5)?.dataspaceId).toBe(1);
    expect(m.find(REGION + 2 * PAGE_SIZE)).toBeUndefined();
    const bad = { manager: 1, dataspaceId: 2, offset: 0, writable: false };
    expect(() => m.attach({ ...bad, vaddr: REGION + PAGE_SIZE, size: PAGE_SIZE })).toThrow(
      expect.objectContaining({ code: 'DS_REGION_OVERLAP' }),
    );
    expect(() => m.attach({ ...bad, vaddr: REGION + 10, size: PAGE_SIZE })).toThrow(DataspaceError);
    expect(() => m.attach({ ...bad, vaddr: 2 ** 32 - PAGE_SIZE, size: 2 * PAGE_SIZE })).toThrow(
      DataspaceError,
    );
    expect(m.detach(REGION)?.dataspaceId).toBe(1);
    expect(m.list()).toEqual([]);
  });
});

describe('region mapper: page faults on attached dataspaces', () => {
  function twoSpaces() {
    const w = world();
    const a = w.space('client-a');
    const b = w.space('client-b');
    const rmA = new RegionMapper();
    const rmB = new RegionMapper();
    const rmAId = w.thread('rm-a', a, rmA.body, { priority: 150 });
    const rmBId = w.thread('rm-b', b, rmB.body, { priority: 150 });
    return { w, a, b, rmA, rmB, rmAId, rmBId };
  }

  it('maps pages on fault, and the memory is shared with a second space', () => {
    const { w, a, b, rmA, rmAId, rmBId } = twoSpaces();
    let ds: Dataspace | null = null;
    const readInB: number[] = [];
    const errors: string[] = [];
    w.thread(
      'writer',
      a,
      function* (sys: Sys) {
        ds = yield* dsClient.open(sys, w.managerId, 2 * PAGE_SIZE);
        yield* dsClient.share(sys, ds, rmAId, DS_RIGHT_READ | DS_RIGHT_WRITE);
        yield* dsClient.share(sys, ds, rmBId, DS_RIGHT_READ);
        yield* rmClient.attach(sys, rmAId, {
          vaddr: REGION,
          size: ds.size,
          manager: w.managerId,
          dataspaceId: ds.id,
          offset: 0,
          writable: true,
        });
        const v = yield* sys.mem.access(REGION, ds.size, 'write');
        if (!isView(v)) throw new Error(v.error);
        v.bytes[0] = 0x11;
        v.bytes[PAGE_SIZE + 7] = 0x22;
      },
      { pager: rmAId },
    );
    w.thread(
      'reader',
      b,
      function* (sys: Sys) {
        yield* sys.sleep(1_000_000);
        yield* rmClient.attach(sys, rmBId, {
          vaddr: REGION + 16 * PAGE_SIZE,
          size: ds!.size,
          manager: w.managerId,
          dataspaceId: ds!.id,
          offset: 0,
          writable: false,
        });
        const v = yield* sys.mem.access(REGION + 16 * PAGE_SIZE, ds!.size, 'read');
        if (!isView(v)) throw new Error(v.error);
        readInB.push(v.bytes[0]!, v.bytes[PAGE_SIZE + 7]!);
        const wr = yield* sys.mem.access(REGION + 16 * PAGE_SIZE, 4, 'write');
        errors.push(isView(wr) ? 'writable' : wr.error);
      },
      { pager: rmBId },
    );
    w.run();
    expect(readInB).toEqual([0x11, 0x22]);
    expect(errors).toEqual(['rights']);
    expect(rmA.stats.faultsResolved).toBe(2);
    expect(w.manager.stats().faultsMapped).toBe(4);
    // Both spaces reach the same frame.
    expect(w.sim.kernel.lookup(a, REGION)!.paddr).toBe(
      w.sim.kernel.lookup(b, REGION + 16 * PAGE_SIZE)!.paddr,
    );
  });

  it('refuses faults outside any region and on dataspaces the region mapper was not given', () => {
    const { w, a, rmA, rmAId } = twoSpaces();
    const errors: string[] = [];
    w.thread(
      'client',
      a,
      function* (sys: Sys) {
        const ds = yield* dsClient.open(sys, w.managerId, PAGE_SIZE);
        const outside = yield* sys.mem.access(REGION, 4, 'read');
        errors.push(isView(outside) ? 'mapped' : outside.error);
        // Attached, but never shared with the region mapper: the manager refuses to map.
        yield* rmClient.attach(sys, rmAId, {
          vaddr: REGION,
          size: PAGE_SIZE,
          manager: w.managerId,
          dataspaceId: ds.id,
          offset: 0,
          writable: true,
        });
        const unshared = yield* sys.mem.access(REGION, 4, 'read');
        errors.push(isView(unshared) ? 'mapped' : unshared.error);
      },
      { pager: rmAId },
    );
    w.run();
    expect(errors).toEqual(['unmapped', 'unmapped']);
    expect(rmA.stats.faultsRejected).toBe(2);
  });

  it('unmaps on detach, and close revokes the mapping from every space', () => {
    const { w, a, b, rmAId, rmBId } = twoSpaces();
    const log: string[] = [];
    let ds: Dataspace | null = null;
    w.thread(
      'owner',
      a,
      function* (sys: Sys) {
        ds = yield* dsClient.open(sys, w.managerId, PAGE_SIZE);
        yield* dsClient.share(sys, ds, rmAId, DS_RIGHT_READ | DS_RIGHT_WRITE);
        yield* dsClient.share(sys, ds, rmBId, DS_RIGHT_READ);
        yield* rmClient.attach(sys, rmAId, {
          vaddr: REGION,
          size: PAGE_SIZE,
          manager: w.managerId,
          dataspaceId: ds.id,
          offset: 0,
          writable: true,
        });
        const v = yield* sys.mem.access(REGION, 4, 'write');
        log.push(`a:${isView(v) ? 'mapped' : v.error}`);
        log.push(`detach:${yield* rmClient.detach(sys, rmAId, REGION)}`);
        log.push(`a-mapped:${sys.mem.translate(REGION) !== null}`);
        const again = yield* sys.mem.access(REGION, 4, 'read');
        log.push(`a:${isView(again) ? 'mapped' : again.error}`);
        yield* sys.sleep(1_000_000);
        yield* dsClient.close(sys, ds);
      },
      { pager: rmAId },
    );
    w.thread(
      'other',
      b,
      function* (sys: Sys) {
        yield* sys.sleep(500_000);
        yield* rmClient.attach(sys, rmBId, {
          vaddr: REGION,
          size: PAGE_SIZE,
          manager: w.managerId,
          dataspaceId: ds!.id,
          offset: 0,
          writable: false,
        });
        const v = yield* sys.mem.access(REGION, 4, 'read');
        log.push(`b:${isView(v) ? 'mapped' : v.error}`);
        yield* sys.sleep(1_000_000);
        log.push(`b-mapped-after-close:${sys.mem.translate(REGION) !== null}`);
        const after = yield* sys.mem.access(REGION, 4, 'read');
        log.push(`b:${isView(after) ? 'mapped' : after.error}`);
      },
      { pager: rmBId },
    );
    w.run();
    expect(log).toEqual([
      'a:mapped',
      'detach:1',
      'a-mapped:false',
      'a:unmapped',
      'b:mapped',
      'b-mapped-after-close:false',
      'b:unmapped',
    ]);
    expect(w.manager.stats().freeFrames).toBe(w.manager.stats().totalFrames);
  });
});
