import { describe, expect, it } from 'vitest';
import { AnonymousManager } from './anonymous-manager.js';
import { type Dataspace, dsClient } from './client.js';
import { DataspaceError } from './errors.js';
import { PAGE_SIZE } from './page.js';
import { DS_RIGHT_READ, DsLabel, DsStatus, type ManagerStats } from './protocol.js';
import { world } from './test-fixture.js';

describe('anonymous manager: open and close', () => {
  it('opens page-granular dataspaces from its frames and returns the frames on close', () => {
    const w = world();
    const seen: Array<ManagerStats | Dataspace> = [];
    const client = w.space('client');
    w.thread('client', client, function* (sys) {
      const a = yield* dsClient.open(sys, w.managerId, 1);
      const b = yield* dsClient.open(sys, w.managerId, 3 * PAGE_SIZE + 1);
      seen.push(a, b, yield* dsClient.stats(sys, w.managerId));
      yield* dsClient.close(sys, a);
      yield* dsClient.close(sys, b);
      seen.push(yield* dsClient.stats(sys, w.managerId));
    });
    w.run();
    const [a, b, during, after] = seen as [Dataspace, Dataspace, ManagerStats, ManagerStats];
    expect(a.size).toBe(PAGE_SIZE);
    expect(b.size).toBe(4 * PAGE_SIZE);
    expect(a.id).not.toBe(b.id);
    expect(during.totalFrames - during.freeFrames).toBe(5);
    expect(during.dataspaces).toBe(2);
    expect(after.freeFrames).toBe(after.totalFrames);
    expect(after.dataspaces).toBe(0);
  });

  it('rejects bad sizes and exhaustion with typed errors', () => {
    const w = world({}, 4 * PAGE_SIZE);
    const codes: string[] = [];
    w.thread('client', w.space('client'), function* (sys) {
      for (const size of [0, -1, Number.NaN, 1.5, 2 ** 32, 5 * PAGE_SIZE]) {
        try {
          yield* dsClient.open(sys, w.managerId, size);
          codes.push('opened');
        } catch (e) {
          codes.push(e instanceof DataspaceError ? e.code : 'untyped');
        }
      }
    });
    w.run();
    expect(codes).toEqual([
      'DS_BAD_ARGUMENT',
      'DS_BAD_ARGUMENT',
      'DS_BAD_ARGUMENT',
      'DS_BAD_ARGUMENT',
      'DS_BAD_ARGUMENT',
      'DS_NO_MEMORY',
    ]);
    expect(w.manager.stats().rejected).toBe(6);
  });

  it('lets only the owner close, share or unmap; others get DS_ACCESS_DENIED', () => {
    const w = world();
    let ds: Dataspace | null = null;
    const codes: string[] = [];
    const owner = w.thread('owner', w.space('owner'), function* (sys) {
      ds = yield* dsClient.open(sys, w.managerId, PAGE_SIZE);
      yield* sys.sleep(1_000_000);
    });
    w.thread('intruder', w.space('intruder'), function* (sys) {
      yield* sys.sleep(100_000);
      for (const attempt of [
        () => dsClient.close(sys, ds!),
        () => dsClient.share(sys, ds!, sys.self, DS_RIGHT_READ),
        () => dsClient.unmap(sys, ds!, 0, PAGE_SIZE),
      ]) {
        try {
          yield* attempt();
          codes.push('allowed');
        } catch (e) {
          codes.push((e as DataspaceError).code);
        }
      }
    });
    w.run();
    expect(owner).toBeGreaterThan(0);
    expect(codes).toEqual(['DS_ACCESS_DENIED', 'DS_ACCESS_DENIED', 'DS_ACCESS_DENIED']);
    expect(w.manager.stats().dataspaces).toBe(1);
  });

  it('hands out zeroed memory, also when frames are reused', () => {
    const w = world({}, 2 * PAGE_SIZE);
    const firstBytes: number[] = [];
    w.thread('client', w.space('client'), function* (sys) {
      const a = yield* dsClient.open(sys, w.managerId, PAGE_SIZE);
      w.sim.machine.memory.copyIn(w.poolPaddr, new Uint8Array(2 * PAGE_SIZE).fill(0xab));
      yield* dsClient.close(sys, a);
      yield* dsClient.open(sys, w.managerId, 2 * PAGE_SIZE);
      const now = new Uint8Array(2 * PAGE_SIZE);
      w.sim.machine.memory.copyOut(w.poolPaddr, now);
      firstBytes.push(...now);
    });
    w.run();
    expect(firstBytes.length).toBe(2 * PAGE_SIZE);
    expect(firstBytes.every((b) => b === 0)).toBe(true);
  });

  it('answers malformed and unknown requests with a status, never by dying', () => {
    const w = world();
    const labels: number[] = [];
    w.thread('fuzzer', w.space('fuzzer'), function* (sys) {
      const requests = [
        { label: 0x7777, words: [] },
        { label: DsLabel.OPEN, words: [] },
        { label: DsLabel.OPEN, words: [1, 2] },
        { label: DsLabel.CLOSE, words: [99] },
        { label: DsLabel.MAP, words: [1, Number.NaN, 0, 0] },
        { label: DsLabel.TC_OPEN, words: [123, 10] },
        { label: DsLabel.TC_OPEN, words: [0, -5] },
        { label: DsLabel.TC_ADD, words: [42, 1] },
        { label: DsLabel.TC_REFILL, words: [1, 1, 0] },
        { label: DsLabel.SHARE, words: [Number.POSITIVE_INFINITY, 1, 1] },
      ];
      for (const msg of requests) {
        const r = yield* sys.ipc.call(w.managerId, msg);
        labels.push(r.ok ? r.msg.label : -1);
      }
    });
    w.run();
    expect(labels).toEqual([
      DsStatus.BAD_REQUEST,
      DsStatus.BAD_ARGUMENT,
      DsStatus.BAD_ARGUMENT,
      DsStatus.NO_SUCH_DATASPACE,
      DsStatus.NO_SUCH_DATASPACE,
      DsStatus.BAD_ARGUMENT,
      DsStatus.BAD_ARGUMENT,
      DsStatus.NOT_IN_CACHE,
      DsStatus.NOT_IN_CACHE,
      DsStatus.NO_SUCH_DATASPACE,
    ]);
    expect(w.sim.kernel.failures).toEqual([]);
  });

  it('refuses a pool that is not page-aligned', () => {
    expect(() => new AnonymousManager({ pool: { vaddr: 100, bytes: PAGE_SIZE } })).toThrow(
      DataspaceError,
    );
    expect(() => new AnonymousManager({ pool: { vaddr: 0, bytes: 0 } })).toThrow(DataspaceError);
  });
});
