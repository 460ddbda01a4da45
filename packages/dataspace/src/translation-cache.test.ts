import type { Sys, ThreadId } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import type { AnonymousManagerOptions } from './anonymous-manager.js';
import { type Dataspace, dsClient } from './client.js';
import type { DataspaceError } from './errors.js';
import { PAGE_SIZE } from './page.js';
import {
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  DsLabel,
  DsStatus,
} from './protocol.js';
import { prefillOnAdd, readAheadRefill } from './refill-policy.js';
import { Session, ValidationStatus } from './session.js';
import { world } from './test-fixture.js';
import { TranslationCache } from './translation-cache.js';
import { ENTRY_PIN, ENTRY_VALID } from './translation-table.js';

const TC_VADDR = 0x2000_0000;
const DMA_RIGHTS = DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE;

/**
 * A client that opens a `pages`-page dataspace and shares it with the driver, and a driver that
 * runs `driver` once the dataspace exists. Returns the world and the dataspace (after `run`).
 */
function clientAndDriver(
  pages: number,
  driver: (
    sys: Sys,
    ds: Dataspace,
    w: ReturnType<typeof world>,
  ) => Generator<unknown, void, unknown>,
  options: Partial<AnonymousManagerOptions> = {},
  rights = DMA_RIGHTS,
) {
  const w = world(options);
  const box: { ds: Dataspace | null; driverId: ThreadId } = { ds: null, driverId: 0 };
  box.driverId = w.thread('driver', w.space('driver'), function* (sys) {
    while (box.ds === null) yield* sys.sleep(10_000);
    yield* driver(sys, box.ds, w) as Generator<never, void, unknown>;
  });
  w.thread('client', w.space('client'), function* (sys) {
    const ds = yield* dsClient.open(sys, w.managerId, pages * PAGE_SIZE);
    yield* dsClient.share(sys, ds, box.driverId, rights);
    box.ds = ds;
  });
  return { w, box };
}

describe('translation cache: hits, misses and refills', () => {
  it('misses first, refills with one IPC, then hits without IPC; the address is the dataspace’s frame', () => {
    const seen: number[] = [];
    let tcRef: TranslationCache | null = null;
    const { w } = clientAndDriver(4, function* (sys, ds, w) {
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 64 });
      tcRef = tc;
      const session = new Session();
      session.add(yield* tc.add(ds.id));
      expect(session.validate(ds.id, 2 * PAGE_SIZE + 100, 1500)).toBe(ValidationStatus.OK);
      seen.push(tc.lookup(ds.id, 2 * PAGE_SIZE + 100));
      const ipcBefore = w.sim.kernel.counters.ipcMessages;
      seen.push(yield* tc.refill(sys, ds.id, 2 * PAGE_SIZE + 100));
      seen.push(w.sim.kernel.counters.ipcMessages - ipcBefore);
      const ipcHits = w.sim.kernel.counters.ipcMessages;
      for (let i = 0; i < 10; i++) seen.push(tc.lookup(ds.id, 2 * PAGE_SIZE + 100 + i));
      seen.push(w.sim.kernel.counters.ipcMessages - ipcHits);
    });
    w.run();
    const tc = tcRef!;
    expect(seen[0]).toBe(-1);
    const paddr = seen[1]!;
    // Anonymous dataspaces are contiguous runs from the pool: the first dataspace after the table.
    expect(paddr % PAGE_SIZE).toBe(100);
    expect(seen[2]).toBe(2); // request + reply: exactly one IPC round trip
    expect(seen.slice(3, 13)).toEqual(Array.from({ length: 10 }, (_, i) => paddr + i));
    expect(seen[13]).toBe(0);
    expect(tc.stats).toMatchObject({ hits: 10, misses: 1, refills: 1, refillFailures: 0 });
    expect(w.manager.stats().refills).toBe(1);
    expect(w.sim.accounting).toBeDefined();
  });

  it('translates to the physical memory the client writes', () => {
    let paddr = -1;
    const w = world();
    const box: { ds: Dataspace | null } = { ds: null };
    const client = w.space('client');
    const rmSpace = client;
    const driverId = w.thread('driver', w.space('driver'), function* (sys) {
      while (box.ds === null) yield* sys.sleep(10_000);
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
      yield* tc.add(box.ds.id);
      paddr = yield* tc.refill(sys, box.ds.id, PAGE_SIZE + 12);
    });
    w.thread('client', rmSpace, function* (sys) {
      const ds = yield* dsClient.open(sys, w.managerId, 2 * PAGE_SIZE);
      yield* dsClient.share(sys, ds, driverId, DMA_RIGHTS);
      box.ds = ds;
    });
    w.run();
    // The manager's pool is what the fixture mapped; the client's page 1, byte 12 lives there.
    expect(paddr).toBeGreaterThanOrEqual(w.poolPaddr);
    expect(paddr).toBeLessThan(w.poolPaddr + (1 << 20));
    expect(w.sim.kernel.lookup(w.managerSpace, 0x1000_0000 + (paddr - w.poolPaddr))!.paddr).toBe(
      paddr,
    );
  });

  it('sees a revoked translation as a miss, refills, and gets a valid entry again', () => {
    const log: string[] = [];
    const w = world();
    const box: { ds: Dataspace | null; tc: TranslationCache | null; step: number } = {
      ds: null,
      tc: null,
      step: 0,
    };
    const driverId = w.thread('driver', w.space('driver'), function* (sys) {
      while (box.ds === null) yield* sys.sleep(10_000);
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
      box.tc = tc;
      yield* tc.add(box.ds.id);
      const first = yield* tc.refill(sys, box.ds.id, 0);
      log.push(`hit:${tc.lookup(box.ds.id, 0) === first}`);
      box.step = 1;
      while (box.step !== 2) yield* sys.sleep(10_000);
      log.push(`valid-bit:${tc.table.flags(0) & ENTRY_VALID}`);
      log.push(`after-revoke:${tc.lookup(box.ds.id, 0)}`);
      const again = yield* tc.refill(sys, box.ds.id, 0);
      log.push(`refilled:${again === first}`);
      log.push(`hit-again:${tc.lookup(box.ds.id, 0) === first}`);
    });
    w.thread('owner', w.space('client'), function* (sys) {
      const ds = yield* dsClient.open(sys, w.managerId, PAGE_SIZE);
      yield* dsClient.share(sys, ds, driverId, DMA_RIGHTS);
      box.ds = ds;
      while (box.step !== 1) yield* sys.sleep(10_000);
      log.push(`revoked:${yield* dsClient.unmap(sys, ds, 0, PAGE_SIZE)}`);
      box.step = 2;
    });
    w.run();
    expect(log).toEqual([
      'hit:true',
      'revoked:1',
      'valid-bit:0',
      'after-revoke:-1',
      'refilled:true',
      'hit-again:true',
    ]);
    expect(box.tc!.stats).toMatchObject({ misses: 1, refills: 2 });
  });

  it('drops lookups after the dataspace is closed: stale entries miss and refills fail, counted', () => {
    const log: number[] = [];
    const w = world();
    const box: { ds: Dataspace | null; tc: TranslationCache | null; closed: boolean } = {
      ds: null,
      tc: null,
      closed: false,
    };
    const driverId = w.thread('driver', w.space('driver'), function* (sys) {
      while (box.ds === null) yield* sys.sleep(10_000);
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
      box.tc = tc;
      yield* tc.add(box.ds.id);
      yield* tc.refill(sys, box.ds.id, 0);
      while (!box.closed) yield* sys.sleep(10_000);
      log.push(tc.lookup(box.ds.id, 0));
      log.push(yield* tc.refill(sys, box.ds.id, 0));
      log.push(tc.lookup(box.ds.id, 0));
    });
    w.thread('owner', w.space('client'), function* (sys) {
      const ds = yield* dsClient.open(sys, w.managerId, PAGE_SIZE);
      yield* dsClient.share(sys, ds, driverId, DMA_RIGHTS);
      box.ds = ds;
      yield* sys.sleep(200_000);
      yield* dsClient.close(sys, ds);
      box.closed = true;
    });
    w.run();
    expect(log).toEqual([-1, -1, -1]);
    expect(box.tc!.stats).toMatchObject({ refillFailures: 1, foreign: 1 });
    expect(box.tc!.has(box.ds!.id)).toBe(false);
  });

  it('installs translations up front with prefill-on-add, and several pages per miss with read-ahead', () => {
    const results: Record<string, number[]> = {};
    for (const policy of [prefillOnAdd, readAheadRefill(3)]) {
      const { w } = clientAndDriver(
        4,
        function* (sys, ds, w) {
          const tc = yield* TranslationCache.open(sys, w.managerId, {
            vaddr: TC_VADDR,
            entries: 16,
          });
          yield* tc.add(ds.id);
          if (policy !== prefillOnAdd) yield* tc.refill(sys, ds.id, 0);
          results[policy.name] = [0, 1, 2, 3].map((p) =>
            tc.lookup(ds.id, p * PAGE_SIZE) >= 0 ? 1 : 0,
          );
        },
        { refillPolicy: policy },
      );
      w.run();
    }
    expect(results['prefill-on-add']).toEqual([1, 1, 1, 1]);
    expect(results['read-ahead-3']).toEqual([1, 1, 1, 0]);
  });
});

describe('translation cache: access control and hostile peers', () => {
  it('refuses to add a dataspace the driver was not given translate rights on', () => {
    const codes: string[] = [];
    for (const rights of [0, DS_RIGHT_READ | DS_RIGHT_WRITE]) {
      const { w } = clientAndDriver(
        1,
        function* (sys, ds, w) {
          const tc = yield* TranslationCache.open(sys, w.managerId, {
            vaddr: TC_VADDR,
            entries: 16,
          });
          try {
            yield* tc.add(ds.id);
            codes.push('added');
          } catch (e) {
            codes.push((e as DataspaceError).code);
          }
          try {
            yield* tc.add(ds.id + 1000);
            codes.push('added');
          } catch (e) {
            codes.push((e as DataspaceError).code);
          }
        },
        {},
        rights,
      );
      w.run();
    }
    expect(codes).toEqual([
      'DS_ACCESS_DENIED',
      'DS_NO_SUCH_DATASPACE',
      'DS_ACCESS_DENIED',
      'DS_NO_SUCH_DATASPACE',
    ]);
  });

  it('lets no other thread use a driver’s cache', () => {
    const labels: number[] = [];
    const { w } = clientAndDriver(1, function* (sys, ds, w) {
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
      yield* tc.add(ds.id);
      w.thread('intruder', w.space('intruder'), function* (isys) {
        for (const msg of [
          { label: DsLabel.TC_REFILL, words: [tc.id, ds.id, 0] },
          { label: DsLabel.TC_ADD, words: [tc.id, ds.id] },
          { label: DsLabel.TC_REMOVE, words: [tc.id, ds.id] },
        ]) {
          const r = yield* isys.ipc.call(w.managerId, msg);
          labels.push(r.ok ? r.msg.label : -1);
        }
      });
    });
    w.run();
    expect(labels).toEqual([
      DsStatus.ACCESS_DENIED,
      DsStatus.ACCESS_DENIED,
      DsStatus.ACCESS_DENIED,
    ]);
  });

  it('keeps the manager correct when the driver scribbles garbage over the shared table', () => {
    const w = world();
    const box: { ds: Dataspace | null; step: number; paddr: number; tc: TranslationCache | null } =
      {
        ds: null,
        step: 0,
        paddr: -1,
        tc: null,
      };
    const after: Record<string, number> = {};
    const driverId = w.thread('driver', w.space('driver'), function* (sys) {
      while (box.ds === null) yield* sys.sleep(10_000);
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
      box.tc = tc;
      yield* tc.add(box.ds.id);
      const words = tc.table.words;
      let x = 0x9e3779b9;
      for (let i = 0; i < words.length; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) | 0;
        words[i] = x;
      }
      // Entries the manager never installed claim to be valid and pinned; the header is trash.
      for (let e = 0; e < 4; e++) words[8 + e * 4] = ENTRY_VALID | ENTRY_PIN;
      box.paddr = yield* tc.refill(sys, box.ds.id, 2 * PAGE_SIZE);
      after.frame = tc.table.frame(2);
      after.valid = tc.table.flags(2) & ENTRY_VALID;
      box.step = 1;
      while (box.step !== 2) yield* sys.sleep(10_000);
      tc.table.unpin(2);
    });
    w.thread('owner', w.space('client'), function* (sys) {
      const ds = yield* dsClient.open(sys, w.managerId, 4 * PAGE_SIZE);
      yield* dsClient.share(sys, ds, driverId, DMA_RIGHTS);
      box.ds = ds;
      while (box.step !== 1) yield* sys.sleep(10_000);
      const before = yield* dsClient.stats(sys, w.managerId);
      yield* dsClient.close(sys, ds);
      const closed = yield* dsClient.stats(sys, w.managerId);
      after.freedAtClose = closed.freeFrames - before.freeFrames;
      after.deferredAtClose = closed.deferredFrames;
      box.step = 2;
      yield* sys.sleep(200_000);
      const later = yield* dsClient.stats(sys, w.managerId);
      after.freedLater = later.freeFrames - before.freeFrames;
      after.deferredLater = later.deferredFrames;
    });
    w.run();
    // The refill wrote the true frame over the garbage: page 2 of the dataspace's own run.
    expect(after.frame).toBe(box.paddr / PAGE_SIZE);
    expect(w.sim.kernel.lookup(w.managerSpace, 0x1000_0000)!.paddr).toBeLessThanOrEqual(box.paddr);
    expect(after.valid).toBe(ENTRY_VALID);
    // Garbage "pins" on entries the manager never installed hold nothing; the installed page 2
    // carries a pin bit the manager must respect until the driver clears it.
    expect(after.freedAtClose).toBe(3);
    expect(after.deferredAtClose).toBe(1);
    expect(after.freedLater).toBe(4);
    expect(after.deferredLater).toBe(0);
    expect(w.sim.kernel.failures).toEqual([]);
  });
});

describe('translation cache: removing a dataspace the driver still pins', () => {
  it('remove() under a pin: the driver can still release the pin, and the manager then frees the entry', () => {
    const log: string[] = [];
    let tcRef: TranslationCache | null = null;
    const { w } = clientAndDriver(
      2,
      function* (sys, ds, w) {
        const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
        tcRef = tc;
        yield* tc.add(ds.id);
        yield* tc.refill(sys, ds.id, 0);
        const paddr = tc.pin(ds.id, 100); // a buffer handed to the device: DMA may be in flight
        log.push(`pinned:${paddr >= 0}`);
        yield* tc.remove(ds.id);
        // Gone for translation, held by the manager for the DMA that may still reach it.
        log.push(`has:${tc.has(ds.id)}`);
        log.push(`lookup:${tc.lookup(ds.id, 100)}`);
        log.push(`pin-bit:${tc.table.flags(0) & ENTRY_PIN}`);
        try {
          yield* tc.add(ds.id);
          log.push('re-added');
        } catch (e) {
          log.push(`re-add:${(e as DataspaceError).code}`);
        }
        // The device gives the buffer back.
        tc.unpin(ds.id, 100);
        log.push(`pin-bit:${tc.table.flags(0) & ENTRY_PIN}`);
        yield* sys.sleep(100_000); // the manager's next scan releases the held entry
        log.push(`entry:${tc.table.flags(0)}`);
        yield* tc.add(ds.id);
        log.push(`has:${tc.has(ds.id)}`);
      },
      { scanInterval: 10_000 },
    );
    w.run();
    expect(log).toEqual([
      'pinned:true',
      'has:false',
      'lookup:-1',
      `pin-bit:${ENTRY_PIN}`,
      're-add:DS_DUPLICATE',
      'pin-bit:0',
      'entry:0',
      'has:true',
    ]);
    expect(tcRef!.stats.goneWhilePinned).toBe(1);
    expect(tcRef!.pinnedPages).toBe(0);
  });

  it('a dataspace closed under a pinned buffer: a failing refill does not make the driver forget the pins it must release', () => {
    const after = { pinBit: -1, pinned: -1, deferredAtClose: -1, deferredLater: -1 };
    const w = world();
    const box: { ds: Dataspace | null; tc: TranslationCache | null; step: number } = {
      ds: null,
      tc: null,
      step: 0,
    };
    const driverId = w.thread('driver', w.space('driver'), function* (sys) {
      while (box.ds === null) yield* sys.sleep(10_000);
      const tc = yield* TranslationCache.open(sys, w.managerId, { vaddr: TC_VADDR, entries: 16 });
      box.tc = tc;
      yield* tc.add(box.ds.id);
      yield* tc.refill(sys, box.ds.id, 0);
      tc.pin(box.ds.id, 0); // DMA in flight into page 0
      box.step = 1;
      while (box.step !== 2) yield* sys.sleep(10_000);
      // The owner closed the dataspace: another page misses and its refill fails.
      yield* tc.refill(sys, box.ds.id, PAGE_SIZE);
      // The device gives the buffer back: the driver releases its pin.
      tc.unpin(box.ds.id, 0);
      after.pinBit = tc.table.flags(0) & ENTRY_PIN;
      after.pinned = tc.pinnedPages;
      box.step = 3;
    });
    w.thread('owner', w.space('client'), function* (sys) {
      const ds = yield* dsClient.open(sys, w.managerId, 2 * PAGE_SIZE);
      yield* dsClient.share(sys, ds, driverId, DMA_RIGHTS);
      box.ds = ds;
      while (box.step !== 1) yield* sys.sleep(10_000);
      yield* dsClient.close(sys, ds);
      after.deferredAtClose = (yield* dsClient.stats(sys, w.managerId)).deferredFrames;
      box.step = 2;
      while (box.step !== 3) yield* sys.sleep(10_000);
      yield* sys.sleep(200_000);
      after.deferredLater = (yield* dsClient.stats(sys, w.managerId)).deferredFrames;
    });
    w.run();
    expect(after).toEqual({ pinBit: 0, pinned: 0, deferredAtClose: 1, deferredLater: 0 });
    // Once its last pin is gone the driver forgets the dataspace.
    expect(box.tc!.has(box.ds!.id)).toBe(false);
    expect(w.sim.kernel.failures).toEqual([]);
  });
});
