import { describe, expect, it } from 'vitest';
import type { CycleClock } from './clock.js';
import { RealTimeHost } from './device-host.js';
import { SharedPhysicalMemory } from './physical-memory.js';

/** A wall clock the test moves by hand (cycles). */
function fakeClock(hz = 1_000_000) {
  const c = { hz, t: 0, now: () => c.t };
  return c;
}

function host(c: ReturnType<typeof fakeClock>) {
  return new RealTimeHost(c as unknown as CycleClock, new SharedPhysicalMemory([]), null);
}

describe('RealTimeHost device time', () => {
  it('never runs an event before its time', () => {
    const c = fakeClock();
    const h = host(c);
    const ran: number[] = [];
    h.schedule(100, () => ran.push(h.now()));
    c.t = 99;
    expect(h.runDue()).toBe(0);
    expect(h.nextDelayMs()).toBeCloseTo(1 / 1000);
    c.t = 100;
    expect(h.runDue()).toBe(1);
    expect(ran).toEqual([100]);
    expect(h.nextDelayMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it('runs a late chain in one pass, each step at its own due time, and stops at the wall clock', () => {
    const c = fakeClock();
    const h = host(c);
    const seen: number[] = [];
    // a DMA-like chain: each step schedules the next 7 cycles after the time it sees
    const step = () => {
      seen.push(h.now());
      h.schedule(h.now() + 7, step);
    };
    h.schedule(10, step);
    c.t = 40; // the worker woke late: 10, 17, 24, 31, 38 are due, 45 is not
    expect(h.runDue()).toBe(5);
    expect(seen).toEqual([10, 17, 24, 31, 38]);
    expect(h.nextDelayMs()).toBeCloseTo(5 / 1000); // 45 - 40 cycles at 1 MHz
    expect(h.now()).toBe(40); // outside events: the wall clock
  });

  it('keeps device time monotonic: an overdue event after a later wall-clock access sees that time', () => {
    const c = fakeClock();
    const h = host(c);
    let at = -1;
    h.schedule(20, () => {
      at = h.now();
    });
    c.t = 30;
    expect(h.now()).toBe(30); // e.g. a register access at 30 ran before the event at 20
    h.runDue();
    expect(at).toBe(30);
    c.t = 25; // a wall clock read that went backwards (never, but device time would not)
    expect(h.now()).toBe(30);
  });

  it('orders ties by scheduling, skips cancelled events and counts a throwing event', () => {
    const c = fakeClock();
    const h = host(c);
    const order: string[] = [];
    h.schedule(5, () => order.push('a'));
    const b = h.schedule(5, () => order.push('b'));
    h.schedule(5, () => {
      throw new Error('model bug');
    });
    h.schedule(5, () => order.push('d'));
    b.cancel();
    c.t = 5;
    expect(h.runDue()).toBe(3);
    expect(order).toEqual(['a', 'd']);
    expect(h.eventErrors).toBe(1);
    expect(h.now()).toBe(5);
  });
});
