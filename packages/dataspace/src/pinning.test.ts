import { ANY_THREAD, NEVER, type Sys, type ThreadId } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import type { AnonymousManagerOptions } from './anonymous-manager.js';
import { type Dataspace, dsClient } from './client.js';
import { PAGE_SIZE } from './page.js';
import type { ManagerStats } from './protocol.js';
import { DS_RIGHT_READ, DS_RIGHT_TRANSLATE, DS_RIGHT_WRITE, DsStatus } from './protocol.js';
import {
  DRIVER_DISABLE_LABEL,
  DRIVER_RECOVER_LABEL,
  SUPERVISOR_OK,
} from './supervisor-protocol.js';
import { world } from './test-fixture.js';
import { TranslationCache, type TranslationCacheOptions } from './translation-cache.js';
import { PinPolicy } from './translation-table.js';

const TC_VADDR = 0x2000_0000;
const DMA_RIGHTS = DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE;

interface Scenario {
  readonly w: ReturnType<typeof world>;
  readonly driverId: ThreadId;
  readonly snapshots: ManagerStats[];
  readonly box: { tc: TranslationCache | null; ds: Dataspace | null };
}

/**
 * A client that opens a 4-page dataspace for a driver; the driver opens a cache, adds the
 * dataspace and runs `driver`; the owner runs `owner` after the driver set `box.ready`.
 */
function scenario(
  options: Partial<AnonymousManagerOptions>,
  driver: (sys: Sys, tc: TranslationCache, ds: Dataspace) => Generator<unknown, void, unknown>,
  owner: (
    sys: Sys,
    ds: Dataspace,
    snap: () => Generator<unknown, void, unknown>,
  ) => Generator<unknown, void, unknown> = function* () {},
  tcOptions: Partial<TranslationCacheOptions> = {},
): Scenario {
  const w = world(options);
  const snapshots: ManagerStats[] = [];
  const box: Scenario['box'] & { ready: boolean } = { tc: null, ds: null, ready: false };
  const driverId = w.thread('driver', w.space('driver'), function* (sys) {
    while (box.ds === null) yield* sys.sleep(1_000);
    const tc = yield* TranslationCache.open(sys, w.managerId, {
      vaddr: TC_VADDR,
      entries: 16,
      ...tcOptions,
    });
    box.tc = tc;
    yield* tc.add(box.ds.id);
    for (let p = 0; p < 4; p++) yield* tc.refill(sys, box.ds.id, p * PAGE_SIZE);
    box.ready = true;
    yield* driver(sys, tc, box.ds) as Generator<never, void, unknown>;
  });
  w.thread('owner', w.space('client'), function* (sys) {
    const ds = yield* dsClient.open(sys, w.managerId, 4 * PAGE_SIZE);
    yield* dsClient.share(sys, ds, driverId, DMA_RIGHTS);
    box.ds = ds;
    while (!box.ready) yield* sys.sleep(1_000);
    const snap = function* () {
      snapshots.push(yield* dsClient.stats(sys, w.managerId));
    };
    yield* owner(sys, ds, snap) as Generator<never, void, unknown>;
  });
  return { w, driverId, snapshots, box };
}

describe('pin bit with quotas', () => {
  it('lets a driver pin within its quota and unpin without interaction', () => {
    const disabled: ThreadId[] = [];
    const { w, box } = scenario(
      {
        pinQuota: { maxPinnedPages: 2, maxPinCycles: 1e9 },
        scanInterval: 10_000,
        onDriverDisabled: (d) => disabled.push(d),
      },
      function* (sys, tc, ds) {
        expect(tc.pin(ds.id, 0)).toBeGreaterThan(0);
        expect(tc.pin(ds.id, PAGE_SIZE + 5)).toBe(tc.lookup(ds.id, PAGE_SIZE + 5));
        yield* sys.sleep(100_000);
        tc.unpin(ds.id, 0);
        tc.unpin(ds.id, PAGE_SIZE + 5);
      },
    );
    w.run(1_000_000);
    expect(disabled).toEqual([]);
    expect(box.tc!.disabled).toBe(false);
    expect(box.tc!.pinnedPages).toBe(0);
    expect(w.manager.stats().driversDisabled).toBe(0);
  });

  it('disables a driver that pins more pages than its quota, calls the hook, and recovers its pins', () => {
    const disabled: ThreadId[] = [];
    const after: number[] = [];
    const { w, driverId, box } = scenario(
      {
        pinQuota: { maxPinnedPages: 2, maxPinCycles: 1e9 },
        scanInterval: 10_000,
        onDriverDisabled: (d) => disabled.push(d),
      },
      function* (sys, tc, ds) {
        for (let p = 0; p < 3; p++) tc.pin(ds.id, p * PAGE_SIZE);
        yield* sys.sleep(50_000);
        after.push(
          tc.lookup(ds.id, 0),
          yield* tc.refill(sys, ds.id, 0),
          tc.pin(ds.id, 3 * PAGE_SIZE),
        );
      },
    );
    w.run(1_000_000);
    expect(disabled).toEqual([driverId]);
    expect(box.tc!.disabled).toBe(true);
    expect(after).toEqual([-1, -1, -1]);
    expect(w.manager.stats()).toMatchObject({ driversDisabled: 1, pinsRecovered: 3 });
    for (let e = 0; e < 4; e++) expect(box.tc!.table.flags(e)).toBe(0);
  });

  it('disables a driver that holds a pin longer than its pin-time quota', () => {
    const disabled: ThreadId[] = [];
    const { w, driverId } = scenario(
      {
        pinQuota: { maxPinnedPages: 16, maxPinCycles: 50_000 },
        scanInterval: 10_000,
        onDriverDisabled: (d) => disabled.push(d),
      },
      function* (sys, tc, ds) {
        tc.pin(ds.id, 0);
        yield* sys.sleep(30_000);
        tc.unpin(ds.id, 0);
        tc.pin(ds.id, PAGE_SIZE);
        yield* sys.sleep(200_000);
      },
    );
    w.run(1_000_000);
    expect(disabled).toEqual([driverId]);
    expect(w.manager.stats().pinsRecovered).toBe(1);
  });

  it.each([
    [2, 2, false],
    [2, 3, true],
  ])('allows %i pages pinned past the pin-time quota (posted receive buffers): %i long pins disable: %s', (allowance, held, disables) => {
    const disabled: ThreadId[] = [];
    const { w, driverId } = scenario(
      {
        pinQuota: { maxPinnedPages: 16, maxPinCycles: 50_000, maxLongPinnedPages: allowance },
        scanInterval: 10_000,
        onDriverDisabled: (d) => disabled.push(d),
      },
      function* (sys, tc, ds) {
        for (let p = 0; p < held; p++) tc.pin(ds.id, p * PAGE_SIZE);
        yield* sys.sleep(400_000);
      },
    );
    w.run(1_000_000);
    expect(disabled).toEqual(disables ? [driverId] : []);
    expect(w.manager.stats().pinsRecovered).toBe(disables ? held : 0);
  });

  it('defers the release of pinned frames on close until the driver unpins', () => {
    const { w, snapshots } = scenario(
      { scanInterval: 10_000 },
      function* (sys, tc, ds) {
        tc.pin(ds.id, PAGE_SIZE);
        yield* sys.sleep(100_000);
        tc.unpin(ds.id, PAGE_SIZE);
      },
      function* (sys, ds, snap) {
        yield* snap();
        yield* dsClient.close(sys, ds);
        yield* snap();
        yield* sys.sleep(200_000);
        yield* snap();
      },
    );
    w.run(1_000_000);
    const [open, closed, later] = snapshots as [ManagerStats, ManagerStats, ManagerStats];
    expect(closed.freeFrames - open.freeFrames).toBe(3);
    expect(closed.deferredFrames).toBe(1);
    expect(closed.dataspaces).toBe(0);
    expect(later.freeFrames - open.freeFrames).toBe(4);
    expect(later.deferredFrames).toBe(0);
  });

  it('releases deferred frames when the pinning driver is disabled', () => {
    const disabled: ThreadId[] = [];
    const { w, snapshots } = scenario(
      {
        pinQuota: { maxPinnedPages: 8, maxPinCycles: 150_000 },
        scanInterval: 10_000,
        onDriverDisabled: (d) => disabled.push(d),
      },
      function* (sys, tc, ds) {
        tc.pin(ds.id, 0);
        tc.pin(ds.id, 2 * PAGE_SIZE);
        yield* sys.sleep(1_000_000); // never unpins
      },
      function* (sys, ds, snap) {
        yield* snap();
        yield* dsClient.close(sys, ds);
        yield* snap();
        yield* sys.sleep(400_000);
        yield* snap();
      },
    );
    w.run(2_000_000);
    const [open, closed, later] = snapshots as [ManagerStats, ManagerStats, ManagerStats];
    expect(closed.deferredFrames).toBe(2);
    expect(closed.freeFrames - open.freeFrames).toBe(2);
    expect(disabled.length).toBe(1);
    expect(later.deferredFrames).toBe(0);
    expect(later.freeFrames - open.freeFrames).toBe(4);
    expect(later.pinsRecovered).toBe(2);
  });
});

describe('time-based pinning', () => {
  const LEASE = 200_000;

  it('uses a translation only while its lease outlasts the driver’s DMA estimate, and refills renew it', () => {
    const seen: number[] = [];
    const { w } = scenario(
      { pinPolicy: PinPolicy.TIME, leaseCycles: LEASE, scanInterval: 10_000 },
      function* (sys, tc, ds) {
        expect(tc.policy).toBe(PinPolicy.TIME);
        seen.push(tc.lookup(ds.id, 0) >= 0 ? 1 : 0); // fresh lease, margin 50k: hit
        yield* sys.sleep(LEASE - 20_000);
        seen.push(tc.lookup(ds.id, 0) >= 0 ? 1 : 0); // lease ends within the margin: miss
        seen.push((yield* tc.refill(sys, ds.id, 0)) >= 0 ? 1 : 0); // renewed
        seen.push(tc.lookup(ds.id, 0) >= 0 ? 1 : 0);
        yield* sys.sleep(2 * LEASE);
        seen.push(tc.lookup(ds.id, 0) >= 0 ? 1 : 0); // expired
      },
      undefined,
      { leaseMargin: 50_000 },
    );
    w.run(2_000_000);
    expect(seen).toEqual([1, 0, 1, 1, 0]);
  });

  it('keeps the frames of a closed dataspace until their leases expire, then returns them', () => {
    const { w, snapshots } = scenario(
      { pinPolicy: PinPolicy.TIME, leaseCycles: LEASE, scanInterval: 10_000 },
      function* () {},
      function* (sys, ds, snap) {
        yield* snap();
        yield* dsClient.close(sys, ds);
        yield* snap();
        yield* sys.sleep(LEASE / 4);
        yield* snap();
        yield* sys.sleep(LEASE * 2);
        yield* snap();
      },
    );
    w.run(2_000_000);
    const [open, closed, midLease, expired] = snapshots as [
      ManagerStats,
      ManagerStats,
      ManagerStats,
      ManagerStats,
    ];
    expect(closed.deferredFrames).toBe(4);
    expect(closed.freeFrames).toBe(open.freeFrames);
    expect(midLease.deferredFrames).toBe(4);
    expect(expired.deferredFrames).toBe(0);
    expect(expired.freeFrames - open.freeFrames).toBe(4);
  });
});

describe('pin quota through the device supervisor (IPC)', () => {
  it('asks the supervisor to reset the driver and recovers pins only after its reply', () => {
    const SUPERVISOR = 5; // manager 2, driver 3, owner 4: the supervisor is created next
    const atRequest: { words: number[]; pinsRecovered: number; pinned: number }[] = [];
    const { w, driverId, box } = scenario(
      {
        pinQuota: { maxPinnedPages: 2, maxPinCycles: 1e9 },
        scanInterval: 10_000,
        supervisor: SUPERVISOR,
      },
      function* (sys, tc, ds) {
        for (let p = 0; p < 3; p++) tc.pin(ds.id, p * PAGE_SIZE);
        yield* sys.sleep(200_000);
      },
    );
    const id = w.thread(
      'supervisor',
      w.space('root-task'),
      function* (sys) {
        for (;;) {
          const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
          if (!r.ok) continue;
          // What the manager has done by the time it asks: nothing recovered yet.
          atRequest.push({
            words: [r.msg.label, ...r.msg.words],
            pinsRecovered: w.manager.stats().pinsRecovered,
            pinned: box.tc!.pinnedPages,
          });
          yield* sys.sleep(20_000); // resetting the devices takes time; the manager waits
          yield* sys.ipc.reply(r.from, { label: SUPERVISOR_OK, words: [] });
        }
      },
      { priority: 250 },
    );
    expect(id).toBe(SUPERVISOR);
    w.run(1_000_000);
    expect(atRequest).toEqual([
      { words: [DRIVER_DISABLE_LABEL, driverId], pinsRecovered: 0, pinned: 3 },
    ]);
    expect(w.manager.stats()).toMatchObject({ driversDisabled: 1, pinsRecovered: 3 });
  });
});

describe('driver recovery through the device supervisor (IPC)', () => {
  it('recovers a dead driver’s pins and frees its cache table; only the supervisor may ask', () => {
    const SUPERVISOR = 5; // manager 2, driver 3, owner 4: the supervisor is created next
    const replies: (number | number[])[] = [];
    let freeBefore = -1;
    const { w, driverId } = scenario({ supervisor: SUPERVISOR }, function* (sys, tc, ds) {
      for (let p = 0; p < 3; p++) tc.pin(ds.id, p * PAGE_SIZE);
      // A client may not ask for another driver's recovery.
      const r = yield* sys.ipc.call(w.managerId, { label: DRIVER_RECOVER_LABEL, words: [3] });
      replies.push(r.ok ? r.msg.label : -1);
      yield* sys.sleep(1e9); // then the driver dies
    });
    const id = w.thread(
      'supervisor',
      w.space('root-task'),
      function* (sys) {
        yield* sys.sleep(200_000);
        freeBefore = w.manager.stats().freeFrames;
        w.sim.kernel.kill(driverId);
        const r = yield* sys.ipc.call(w.managerId, {
          label: DRIVER_RECOVER_LABEL,
          words: [driverId],
        });
        replies.push(r.ok ? [r.msg.label, ...r.msg.words] : -1);
      },
      { priority: 250 },
    );
    expect(id).toBe(SUPERVISOR);
    w.run(1_000_000);
    expect(replies).toEqual([DsStatus.ACCESS_DENIED, [DsStatus.OK, 1, 3]]);
    expect(w.manager.stats().pinsRecovered).toBe(3);
    // The cache table's frame went back to the pool; the driver's mapping of it is gone.
    expect(w.manager.stats().freeFrames).toBe(freeBefore + 1);
    const k = w.sim.kernel;
    expect(k.lookup(k.threadInfo(driverId)!.space, TC_VADDR)).toBeNull();
  });
});
