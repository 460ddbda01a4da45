import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { Switch } from './switch.js';
import { wireSeconds } from './wire.js';

class TestClock implements Clock {
  readonly hz = 1e9;
  private t = 0;
  private events: { at: number; seq: number; fn: () => void; dead: boolean }[] = [];
  private seq = 0;
  now() {
    return this.t;
  }
  schedule(at: number, fn: () => void) {
    const e = { at, seq: this.seq++, fn, dead: false };
    this.events.push(e);
    return {
      cancel: () => {
        e.dead = true;
      },
    };
  }
  run() {
    while (this.events.length) {
      this.events.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const e = this.events.shift()!;
      this.t = e.at;
      if (!e.dead) e.fn();
    }
  }
}

const frame = (dst: number, src: number, len = 1066) => {
  const f = new Uint8Array(len);
  f[5] = dst;
  f[11] = src;
  if (dst === 0xff) f.fill(0xff, 0, 6);
  return f;
};

describe('switch', () => {
  it('floods unknown destinations, then forwards to the learned port only', () => {
    const clock = new TestClock();
    const sw = new Switch({ clock, ports: 3 });
    const got: number[][] = [[], [], []];
    for (let p = 0; p < 3; p++) sw.connect(p, { receive: (f) => got[p]!.push(f[11]!) });
    sw.port(1).receive(frame(9, 1)); // unknown 9: flood to 0 and 2
    clock.run();
    expect(got.map((g) => g.length)).toEqual([1, 0, 1]);
    sw.port(0).receive(frame(1, 9)); // 1 was learned on port 1
    clock.run();
    expect(got.map((g) => g.length)).toEqual([1, 1, 1]);
  });

  it('serialises an egress port at line rate and drops past its queue', () => {
    const clock = new TestClock();
    const sw = new Switch({ clock, ports: 3, queueFrames: 4 });
    const arrivals: number[] = [];
    sw.connect(0, { receive: () => arrivals.push(clock.now()) });
    sw.port(0).receive(frame(2, 0)); // learn port 0 for MAC ...:00
    clock.run();
    for (let i = 0; i < 10; i++) sw.port(1 + (i % 2)).receive(frame(0, 1 + (i % 2)));
    clock.run();
    // One on the wire plus four queued are sent; five are dropped.
    expect(arrivals.length).toBe(5);
    expect(sw.stats(0).txQueueDrops).toBe(5);
    const gap = wireSeconds(1066, 1e9) * 1e9;
    for (let i = 1; i < arrivals.length; i++)
      expect(arrivals[i]! - arrivals[i - 1]!).toBeCloseTo(gap, 6);
    expect(gap).toBeCloseTo((((1066 + 24) * 8) / 1e9) * 1e9, 6);
  });

  it('rejects nonsense configurations', () => {
    expect(() => new Switch({ clock: new TestClock(), ports: 1 })).toThrow(/ports/);
    expect(() => new Switch({ clock: new TestClock(), ports: 2 }).port(5)).toThrow(/no port 5/);
  });
});
