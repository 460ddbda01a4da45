import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { COUNTERS_PAGE_BYTES, CountersPage, readCountersPage } from './counters-page.js';
import { DataspaceError } from './errors.js';

describe('counters page', () => {
  it('keeps bound counters in shared memory: updates are what a reader snapshots', () => {
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES + 4096);
    expect(readCountersPage(buffer, 4096)).toEqual({ ready: 0, counters: {} });
    const page = new CountersPage(buffer, 4096);
    const stats = page.bind('driver', { rxFrames: 2, drops: { queueFull: 0 }, name: 'x' });
    stats.rxFrames++;
    stats.drops.queueFull += 5;
    expect(readCountersPage(buffer, 4096)).toEqual({
      ready: 0,
      counters: { 'driver.rxFrames': 3, 'driver.drops.queueFull': 5 },
    });
    expect(stats.rxFrames).toBe(3);
    expect(Object.keys(stats)).toEqual(['rxFrames', 'drops', 'name']);
  });

  it('holds the counters of every component of a domain, bound in any interleaving, and counts ready ones', () => {
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
    const a = new CountersPage(buffer, 0);
    const b = new CountersPage(buffer, 0);
    const sa = a.bind('stack0.0', { rx: 0 });
    const sb = b.bind('kernel.driver', { tx: 0 });
    sa.rx = 7;
    sb.tx = 9;
    a.ready();
    b.ready();
    expect(readCountersPage(buffer, 0)).toEqual({
      ready: 2,
      counters: { 'stack0.0.rx': 7, 'kernel.driver.tx': 9 },
    });
  });

  it('a restarted component binding the same names again keeps their slots and values', () => {
    const buffer = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
    const before = new CountersPage(buffer, 0).bind('driver', { rxFrames: 0, restarts: 0 });
    before.rxFrames = 41;
    const after = new CountersPage(buffer, 0).bind('driver', { rxFrames: 0, restarts: 0 });
    after.rxFrames++;
    after.restarts++;
    expect(readCountersPage(buffer, 0).counters).toEqual({
      'driver.rxFrames': 42,
      'driver.restarts': 1,
    });
  });

  it('refuses a page outside its buffer and more counters than fit', () => {
    expect(() => new CountersPage(new SharedArrayBuffer(4096), 0)).toThrow(DataspaceError);
    const page = new CountersPage(new SharedArrayBuffer(COUNTERS_PAGE_BYTES), 0);
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`c${i}`, 0]));
    expect(() => page.bind('x', many)).toThrow(/too many counters/);
  });

  it('a reader on another thread never sees a half-written name table while a writer binds', async () => {
    const rounds = 300;
    const sab = new SharedArrayBuffer(rounds * COUNTERS_PAGE_BYTES);
    const go = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(new URL('../test/ts-worker.mjs', import.meta.url), {
      workerData: {
        entry: new URL('../test/counters-writer.ts', import.meta.url).href,
        sab,
        rounds,
        binds: 100,
        go,
      },
    });
    const exited = new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', resolve);
    });
    while (Atomics.load(go, 0) === 0) await new Promise((r) => setTimeout(r, 1));
    let reads = 0;
    let torn = 0;
    while (Atomics.load(go, 0) === 1) {
      const snap = readCountersPage(sab, Atomics.load(go, 1) * COUNTERS_PAGE_BYTES);
      // every name read carries its own value: component i counted i frames
      for (const [name, v] of Object.entries(snap.counters)) {
        const m = /component(\d+)\.frames$/.exec(name);
        if (m === null || Number(m[1]) !== v) torn++;
      }
      reads++;
    }
    await exited;
    expect(reads).toBeGreaterThan(100);
    expect(torn).toBe(0);
  }, 60_000);

  it('a page whose domain scribbled over the name table reads as no names, without throwing', () => {
    const sab = new SharedArrayBuffer(COUNTERS_PAGE_BYTES);
    const page = new CountersPage(sab, 0);
    page.bind('driver', { frames: 3 });
    expect(readCountersPage(sab, 0).counters).toEqual({ 'driver.frames': 3 });
    new Uint8Array(sab).fill(0x7b, 32, 40); // '{{{{…' over the table
    expect(readCountersPage(sab, 0).counters).toEqual({});
  });
});
