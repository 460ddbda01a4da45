import {
  ANY_THREAD,
  type Kernel,
  type Message,
  NEVER,
  RW,
  SimEngine,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { AnonymousManager } from './anonymous-manager.js';
import type { DataspaceCall } from './call.js';
import { dsClient } from './client.js';
import { MEMORY_SOURCE_LABEL, MemorySourceStatus, requestRegion } from './memory-source.js';
import { PAGE_SIZE } from './page.js';
import { DS_RIGHT_READ, DS_RIGHT_TRANSLATE, DS_RIGHT_WRITE } from './protocol.js';
import { TranslationCache } from './translation-cache.js';

const WINDOW = 0x1000_0000;

/** A test memory source: the root task's role, with the kernel's privileges. */
function source(k: Kernel, requests: { from: ThreadId; vaddr: number; bytes: number }[]) {
  return function* (sys: Sys): DataspaceCall<void> {
    let reply: Message | null = null;
    let to: ThreadId = 0;
    for (;;) {
      const r =
        reply === null
          ? yield* sys.ipc.receive(ANY_THREAD, NEVER)
          : yield* sys.ipc.replyWait(to, reply, NEVER);
      if (!r.ok) {
        reply = null;
        continue;
      }
      to = r.from;
      const [vaddr, bytes] = r.msg.words as [number, number];
      if (r.msg.label !== MEMORY_SOURCE_LABEL) {
        reply = { label: MemorySourceStatus.REFUSED, words: [] };
        continue;
      }
      requests.push({ from: r.from, vaddr, bytes });
      const { paddr } = k.allocateRegion(bytes);
      k.mapPhysical(k.threadInfo(r.from)!.space, vaddr, paddr, bytes, RW);
      reply = { label: MemorySourceStatus.OK, words: [paddr] };
    }
  };
}

function world() {
  const sim = new SimEngine({ memoryBytes: 16 << 20, memoryLayout: 'separate' });
  const k = sim.kernel;
  const requests: { from: ThreadId; vaddr: number; bytes: number }[] = [];
  const sourceId = k.createThread({
    name: 'source',
    space: k.createSpace('root-task'),
    priority: 250,
    body: source(k, requests),
  });
  const manager = new AnonymousManager({
    pool: { vaddr: WINDOW, bytes: 1 << 20 },
    memorySource: sourceId,
  });
  const managerSpace = k.createSpace('manager');
  const managerId = k.createThread({
    name: 'manager',
    space: managerSpace,
    priority: 200,
    body: manager.body,
  });
  return { sim, k, requests, managerId, managerSpace, manager };
}

describe('anonymous manager with a memory source (one region per dataspace and table)', () => {
  it('asks the source for a region of its own for each dataspace and each translation table', () => {
    const w = world();
    const driverId = w.managerId + 2;
    const ids: number[] = [];
    w.k.createThread({
      name: 'client',
      space: w.k.createSpace('client'),
      priority: 100,
      body: function* (sys) {
        for (const size of [3 * PAGE_SIZE, PAGE_SIZE, 5 * PAGE_SIZE]) {
          const ds = yield* dsClient.open(sys, w.managerId, size);
          yield* dsClient.share(
            sys,
            ds,
            driverId,
            DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE,
          );
          ids.push(ds.id);
        }
        yield* sys.ipc.send(driverId, { label: 1, words: [] });
      },
    });
    const pinned: number[] = [];
    w.k.createThread({
      name: 'driver',
      space: w.k.createSpace('driver'),
      priority: 50,
      body: function* (sys) {
        const tc = yield* TranslationCache.open(sys, w.managerId, {
          vaddr: 0x5000_0000,
          entries: 64,
        });
        yield* sys.ipc.receive(driverId - 1, NEVER);
        for (const id of ids) {
          yield* tc.add(id);
          pinned.push(yield* tc.refill(sys, id, PAGE_SIZE - 4));
        }
      },
    });
    w.sim.runFor(20_000_000);
    expect(w.k.failures).toEqual([]);
    // Three dataspaces and one table: four requests, all from the manager, four regions.
    expect(w.requests.map((r) => r.bytes)).toEqual([
      3 * PAGE_SIZE,
      PAGE_SIZE,
      5 * PAGE_SIZE,
      PAGE_SIZE,
    ]);
    expect(new Set(w.requests.map((r) => r.from))).toEqual(new Set([w.managerId]));
    const regions = pinned.map((paddr) => w.sim.machine.memory.regionOf(paddr)!);
    expect(new Set(regions.map((r) => r.id)).size).toBe(3);
    expect(regions.map((r) => r.size)).toEqual([3 * PAGE_SIZE, PAGE_SIZE, 5 * PAGE_SIZE]);
    for (const r of regions) expect(r.buffer.byteLength).toBe(r.size);
    const table = w.sim.machine.memory.regionOf(
      w.k.lookup(w.k.threadInfo(driverId)!.space, 0x5000_0000)!.paddr,
    )!;
    expect(regions.map((r) => r.id)).not.toContain(table.id);
    expect(table.buffer.byteLength).toBe(table.size);
  });

  it('zeroes and reuses a closed dataspace’s region for one of the same extent, and asks anew otherwise', () => {
    const w = world();
    const regionIds: number[] = [];
    w.k.createThread({
      name: 'client',
      space: w.k.createSpace('client'),
      priority: 100,
      body: function* (sys) {
        for (const size of [2 * PAGE_SIZE, 2 * PAGE_SIZE, PAGE_SIZE]) {
          const ds = yield* dsClient.open(sys, w.managerId, size);
          regionIds.push(
            w.sim.machine.memory.regionOf(w.k.lookup(w.managerSpace, WINDOW)!.paddr)!.id,
          );
          yield* dsClient.close(sys, ds);
        }
      },
    });
    w.sim.runFor(20_000_000);
    expect(w.k.failures).toEqual([]);
    expect(w.requests.map((r) => r.bytes)).toEqual([2 * PAGE_SIZE, PAGE_SIZE]);
    expect(regionIds[0]).toBe(regionIds[1]);
    expect(regionIds[2]).not.toBe(regionIds[0]);
  });

  it('answers NO_MEMORY when the source has none, and keeps serving', () => {
    const sim = new SimEngine({ memoryBytes: 16 << 20 });
    const k = sim.kernel;
    const refuser = k.createThread({
      name: 'source',
      space: k.createSpace('root'),
      priority: 250,
      body: function* (sys) {
        for (;;) {
          const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
          if (r.ok)
            yield* sys.ipc.reply(r.from, { label: MemorySourceStatus.NO_MEMORY, words: [] });
        }
      },
    });
    const m = new AnonymousManager({
      pool: { vaddr: WINDOW, bytes: 1 << 20 },
      memorySource: refuser,
    });
    const managerId = k.createThread({
      name: 'manager',
      space: k.createSpace('m'),
      priority: 200,
      body: m.body,
    });
    const codes: string[] = [];
    let direct = 0;
    k.createThread({
      name: 'client',
      space: k.createSpace('client'),
      priority: 100,
      body: function* (sys) {
        for (let i = 0; i < 2; i++) {
          try {
            yield* dsClient.open(sys, managerId, PAGE_SIZE);
            codes.push('opened');
          } catch (e) {
            codes.push((e as { code?: string }).code ?? 'untyped');
          }
        }
        direct = yield* requestRegion(sys, refuser, WINDOW, PAGE_SIZE);
      },
    });
    sim.runFor(20_000_000);
    expect(k.failures).toEqual([]);
    expect(codes).toEqual(['DS_NO_MEMORY', 'DS_NO_MEMORY']);
    expect(direct).toBe(-1);
    expect(m.stats().freeFrames).toBe(m.stats().totalFrames);
  });
});
