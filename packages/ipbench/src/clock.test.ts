import { describe, expect, it } from 'vitest';
import { EventClock, RealClock } from './clock.js';

describe('EventClock', () => {
  it('runs events in time order, ties in scheduling order, and skips cancelled ones', () => {
    const c = new EventClock(1000);
    const seen: string[] = [];
    c.schedule(30, () => seen.push('c'));
    c.schedule(10, () => seen.push('a'));
    c.schedule(10, () => seen.push('b'));
    c.schedule(20, () => seen.push('x')).cancel();
    c.runUntilIdle();
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(c.now()).toBe(30);
  });

  it('runTo stops at the given time', () => {
    const c = new EventClock(1000);
    let n = 0;
    c.schedule(5, () => n++);
    c.schedule(15, () => n++);
    c.runTo(10);
    expect([n, c.now()]).toEqual([1, 10]);
  });
});

describe('RealClock', () => {
  it('is monotonic and fires no earlier than asked', async () => {
    const c = new RealClock();
    const at = c.now() + 2e6;
    const fired = await new Promise<number>((r) => c.schedule(at, () => r(c.now())));
    expect(fired).toBeGreaterThanOrEqual(at);
  });
});
