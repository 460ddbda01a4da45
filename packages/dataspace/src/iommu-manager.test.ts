/**
 * The dataspace manager as the IOMMU's programmer: every frame it installs in a driver's
 * translation cache is entered in that driver's IOMMU table, and leaves it when the translation
 * goes (removal from the cache, close, unmap, release of a held frame, recovery after disable).
 */
import { RW, type Sys, type ThreadId } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import type { AnonymousManagerOptions } from './anonymous-manager.js';
import { type Dataspace, dsClient } from './client.js';
import type { IommuDomainConfig } from './iommu-domain.js';
import { IOMMU_READ, IOMMU_WRITE, IommuTable } from './iommu-table.js';
import { PAGE_SIZE } from './page.js';
import { DS_RIGHT_READ, DS_RIGHT_TRANSLATE, DS_RIGHT_WRITE } from './protocol.js';
import { world } from './test-fixture.js';
import { TranslationCache } from './translation-cache.js';

const TC_VADDR = 0x2000_0000;
const IOMMU_VADDR = 0x3000_0000;
const MEMORY = 16 << 20; // the fixture's machine
const DMA_RIGHTS = DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE;

interface Setup {
  readonly w: ReturnType<typeof world>;
  readonly table: IommuTable;
  readonly driverId: ThreadId;
  /** Physical address of each of the dataspace's 4 pages, as the driver translated them. */
  readonly paddrs: number[];
  readonly box: { tc: TranslationCache | null; ds: Dataspace | null; ready: boolean };
}

/**
 * An owner opens a 4-page dataspace and shares it with a driver (`rights`); the driver opens a
 * cache, adds it, refills every page, then runs `driver`; the owner then runs `owner`. The
 * driver's IOMMU table is formatted by the test (the realiser's job) and mapped into the
 * manager's space; `domainOf` says which driver the manager is told it belongs to.
 */
function setup(
  options: Partial<AnonymousManagerOptions>,
  driver: (sys: Sys, tc: TranslationCache, ds: Dataspace) => Generator<unknown, void, unknown>,
  owner: (sys: Sys, ds: Dataspace) => Generator<unknown, void, unknown> = function* () {},
  rights = DMA_RIGHTS,
  domainOf: (driver: ThreadId) => ThreadId = (d) => d,
): Setup {
  const iommu: IommuDomainConfig[] = [];
  const w = world({ ...options, iommu });
  const frames = IommuTable.framesFor(MEMORY);
  const bytes = Math.ceil(IommuTable.bytesFor(frames) / PAGE_SIZE) * PAGE_SIZE;
  const { paddr, region } = w.sim.kernel.allocateRegion(bytes);
  const table = new IommuTable(region.buffer, region.byteOffset, frames);
  table.format();
  w.sim.kernel.mapPhysical(w.managerSpace, IOMMU_VADDR, paddr, bytes, RW);
  const paddrs: number[] = [];
  const box: Setup['box'] = { tc: null, ds: null, ready: false };
  const driverId = w.thread('driver', w.space('driver'), function* (sys) {
    while (box.ds === null) yield* sys.sleep(1_000);
    const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
    box.tc = tc;
    yield* tc.add(box.ds.id);
    for (let p = 0; p < 4; p++) paddrs.push(yield* tc.refill(sys, box.ds.id, p * PAGE_SIZE));
    box.ready = true;
    yield* driver(sys, tc, box.ds) as Generator<never, void, unknown>;
  });
  iommu.push({ driver: domainOf(driverId), vaddr: IOMMU_VADDR, frames });
  w.thread('owner', w.space('client'), function* (sys) {
    const ds = yield* dsClient.open(sys, w.managerId, 4 * PAGE_SIZE);
    yield* dsClient.share(sys, ds, driverId, rights);
    box.ds = ds;
    while (!box.ready) yield* sys.sleep(1_000);
    yield* owner(sys, ds) as Generator<never, void, unknown>;
  });
  return { w, table, driverId, paddrs, box };
}

/** Access bits of the frame holding each address. */
function access(table: IommuTable, paddrs: readonly number[]): number[] {
  return paddrs.map((p) => table.accessOf(Math.floor(p / PAGE_SIZE)));
}

const RW_BITS = IOMMU_READ | IOMMU_WRITE;

describe('the manager programs the IOMMU from its translation caches', () => {
  it('enters every frame it installs, writable only where the driver may write', () => {
    const rw = setup({}, function* () {});
    rw.w.run(1_000_000);
    expect(rw.paddrs.every((p) => p > 0)).toBe(true);
    expect(access(rw.table, rw.paddrs)).toEqual([RW_BITS, RW_BITS, RW_BITS, RW_BITS]);
    expect(rw.table.mappedFrames()).toBe(4);
    expect(rw.table.permits(rw.paddrs[2]!, 1514, true)).toBe(true);
    // Nothing else of the pool (the translation table included) is reachable by DMA.
    expect(rw.table.permits(rw.w.poolPaddr, PAGE_SIZE, false)).toBe(
      rw.paddrs.includes(rw.w.poolPaddr),
    );

    const ro = setup({}, function* () {}, undefined, DS_RIGHT_READ | DS_RIGHT_TRANSLATE);
    ro.w.run(1_000_000);
    expect(access(ro.table, ro.paddrs)).toEqual([IOMMU_READ, IOMMU_READ, IOMMU_READ, IOMMU_READ]);
    expect(ro.table.permits(ro.paddrs[0]!, 64, true)).toBe(false);
  });

  it('enters nothing for a driver that has no IOMMU domain', () => {
    const s = setup(
      {},
      function* () {},
      undefined,
      DMA_RIGHTS,
      () => 999,
    );
    s.w.run(1_000_000);
    expect(s.paddrs.every((p) => p > 0)).toBe(true);
    expect(s.table.mappedFrames()).toBe(0);
  });

  it('removes the frames of a dataspace taken out of the cache; a pinned one stays until unpinned', () => {
    const seen: number[][] = [];
    const s = setup({ scanInterval: 10_000 }, function* (sys, tc, ds) {
      tc.pin(ds.id, PAGE_SIZE);
      yield* tc.remove(ds.id);
      seen.push(access(s.table, s.paddrs));
      yield* sys.sleep(50_000);
      seen.push(access(s.table, s.paddrs)); // still pinned: the device may still write it
      // The removed dataspace's pinned entry stays reachable for unpin (goneWhilePinned).
      tc.unpin(ds.id, PAGE_SIZE);
      yield* sys.sleep(50_000); // the next scan releases the held entry
      seen.push(access(s.table, s.paddrs));
    });
    s.w.run(1_000_000);
    expect(seen).toEqual([
      [0, RW_BITS, 0, 0],
      [0, RW_BITS, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('keeps a pinned frame of a closed dataspace mapped until the pin clears', () => {
    const seen: number[][] = [];
    const s = setup(
      { scanInterval: 10_000 },
      function* (sys, tc, ds) {
        tc.pin(ds.id, 3 * PAGE_SIZE);
        yield* sys.sleep(100_000);
        tc.unpin(ds.id, 3 * PAGE_SIZE);
        yield* sys.sleep(50_000);
        seen.push(access(s.table, s.paddrs));
      },
      function* (sys, ds) {
        yield* dsClient.close(sys, ds);
        seen.push(access(s.table, s.paddrs));
      },
    );
    s.w.run(1_000_000);
    expect(seen).toEqual([
      [0, 0, 0, RW_BITS],
      [0, 0, 0, 0],
    ]);
  });

  it('removes the frames an owner unmaps', () => {
    const seen: number[][] = [];
    const s = setup(
      {},
      function* (sys) {
        yield* sys.sleep(100_000);
      },
      function* (sys, ds) {
        yield* dsClient.unmap(sys, ds, PAGE_SIZE, 2 * PAGE_SIZE);
        seen.push(access(s.table, s.paddrs));
      },
    );
    s.w.run(1_000_000);
    expect(seen).toEqual([[RW_BITS, 0, 0, RW_BITS]]);
  });

  it('re-enters a frame refilled after an unmap', () => {
    const seen: number[][] = [];
    const box = { unmapped: false };
    const s = setup(
      {},
      function* (sys, tc, ds) {
        while (!box.unmapped) yield* sys.sleep(1_000);
        yield* tc.refill(sys, ds.id, PAGE_SIZE);
        seen.push(access(s.table, s.paddrs));
      },
      function* (sys, ds) {
        yield* dsClient.unmap(sys, ds, PAGE_SIZE, PAGE_SIZE);
        box.unmapped = true;
      },
    );
    s.w.run(1_000_000);
    expect(seen).toEqual([[RW_BITS, RW_BITS, RW_BITS, RW_BITS]]);
  });

  it('on a disabled driver, removes its frames only after the device reset, pins included', () => {
    const atReset: number[] = [];
    const s = setup(
      {
        pinQuota: { maxPinnedPages: 2, maxPinCycles: 1e9 },
        scanInterval: 10_000,
        onDriverDisabled: () => atReset.push(s.table.mappedFrames()),
      },
      function* (sys, tc, ds) {
        for (let p = 0; p < 3; p++) tc.pin(ds.id, p * PAGE_SIZE);
        yield* sys.sleep(200_000);
      },
    );
    s.w.run(1_000_000);
    expect(atReset).toEqual([4]);
    expect(s.w.manager.stats()).toMatchObject({ driversDisabled: 1, pinsRecovered: 3 });
    expect(s.table.mappedFrames()).toBe(0);
  });

  it('on a disabled driver, also removes a held frame of a closed dataspace', () => {
    const s = setup(
      {
        pinQuota: { maxPinnedPages: 8, maxPinCycles: 150_000 },
        scanInterval: 10_000,
      },
      function* (sys, tc, ds) {
        tc.pin(ds.id, 0);
        yield* sys.sleep(1_000_000); // never unpins
      },
      function* (sys, ds) {
        yield* dsClient.close(sys, ds);
      },
    );
    s.w.run(100_000);
    expect(access(s.table, s.paddrs)).toEqual([RW_BITS, 0, 0, 0]);
    s.w.run(1_000_000);
    expect(s.w.manager.stats().driversDisabled).toBe(1);
    expect(s.table.mappedFrames()).toBe(0);
  });
});
