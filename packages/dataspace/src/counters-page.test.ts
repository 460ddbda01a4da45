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
});
