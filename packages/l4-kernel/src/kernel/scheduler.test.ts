import { describe, expect, it } from 'vitest';
import { SimEngine } from '../engine.js';
import { ANY_THREAD, type IpcResult, NEVER, ZERO } from '../sys.js';

describe('scheduler', () => {
  it('runs the highest-priority ready thread first', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('s');
    const order: string[] = [];
    for (const [name, prio] of [
      ['low', 10],
      ['high', 200],
      ['mid', 100],
    ] as const) {
      sim.kernel.createThread({
        name,
        space: s,
        priority: prio,
        body: function* (sys) {
          order.push(name);
          sys.charge('User', 1000);
          yield* sys.sleep(NEVER);
        },
      });
    }
    sim.runFor(1e6);
    expect(order).toEqual(['high', 'mid', 'low']);
  });

  it('preempts charged computation and resumes it later without losing cycles', () => {
    const sim = new SimEngine({ timeslice: 1e12 });
    const s = sim.kernel.createSpace('s');
    let lowDone = 0;
    let highRan = 0;
    const low = sim.kernel.createThread({
      name: 'low',
      space: s,
      priority: 10,
      body: function* (sys) {
        sys.charge('User', 1_000_000);
        yield* sys.yieldCpu();
        lowDone = sim.now();
      },
    });
    sim.kernel.createThread({
      name: 'high',
      space: s,
      priority: 200,
      body: function* (sys) {
        yield* sys.sleep(300_000); // wakes in the middle of low's computation
        highRan = sim.now();
        sys.charge('Driver', 200_000);
        yield* sys.sleep(NEVER);
      },
    });
    sim.runFor(1e7);
    const w = sim.accounting.window();
    const lowCycles = w.byThread.find((t) => t.id === low)!;
    expect(lowCycles.byCategory.User).toBe(1_000_000);
    expect(highRan).toBeGreaterThanOrEqual(300_000);
    expect(highRan).toBeLessThan(320_000);
    // low finished after its own 1M cycles plus high's 200k cycles of work.
    expect(lowDone).toBeGreaterThan(1_200_000);
    expect(sim.counters.preemptions).toBeGreaterThanOrEqual(1);
  });

  it('round-robins equal priorities at timeslice ends', () => {
    const sim = new SimEngine({ timeslice: 10_000 });
    const s = sim.kernel.createSpace('s');
    const runs: string[] = [];
    for (const name of ['a', 'b']) {
      sim.kernel.createThread({
        name,
        space: s,
        body: function* (sys) {
          for (let i = 0; i < 3; i++) {
            runs.push(name);
            sys.charge('User', 10_000);
            yield* sys.ipc.receive(ANY_THREAD, ZERO); // a kernel call: where preemption shows
          }
        },
      });
    }
    sim.runFor(1e6);
    expect(runs.slice(0, 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('yieldCpu passes the CPU to an equal-priority thread', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('s');
    const runs: string[] = [];
    for (const name of ['a', 'b']) {
      sim.kernel.createThread({
        name,
        space: s,
        body: function* (sys) {
          for (let i = 0; i < 2; i++) {
            runs.push(name);
            yield* sys.yieldCpu();
          }
        },
      });
    }
    sim.runFor(1e6);
    expect(runs).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('preemption control (paper section 4.5)', () => {
  it('preempted() reports a preemption inside the window, and a receive then aborts', () => {
    const sim = new SimEngine({ timeslice: 1e12 });
    const s = sim.kernel.createSpace('s');
    const seen: boolean[] = [];
    const results: IpcResult[] = [];
    sim.kernel.createThread({
      name: 'sleeper',
      space: s,
      priority: 10,
      body: function* (sys) {
        // Window 1: nobody preempts.
        sys.preemption.begin();
        sys.charge('Notification', 1000);
        yield* sys.yieldCpu();
        seen.push(sys.preemption.preempted());
        sys.preemption.end();
        // Window 2: the interrupt-priority thread preempts between "mark inactive" and receive.
        sys.preemption.begin();
        sys.charge('Notification', 500_000);
        seen.push(sys.preemption.preempted()); // not yet: charge is consumed at the next call
        results.push(yield* sys.ipc.receive(ANY_THREAD, NEVER));
        seen.push(sys.preemption.preempted());
        sys.preemption.end();
        // Outside a window the same receive blocks normally (times out here).
        results.push(yield* sys.ipc.receive(ANY_THREAD, 1000));
      },
    });
    sim.kernel.createThread({
      name: 'preemptor',
      space: s,
      priority: 200,
      body: function* (sys) {
        yield* sys.sleep(200_000);
        sys.charge('Driver', 1000);
        yield* sys.sleep(NEVER);
      },
    });
    sim.runFor(1e7);
    expect(seen).toEqual([false, false, true]);
    expect(results.map((r) => (r.ok ? 'ok' : `${r.error}/${r.phase}`))).toEqual([
      'aborted/receive',
      'timeout/receive',
    ]);
  });
});

describe('global (kernel) spaces', () => {
  it('switching to a thread of a global space flushes no TLB; back to the same user space neither', async () => {
    const { SimEngine } = await import('../engine.js');
    const run = (global: boolean) => {
      const sim = new SimEngine();
      const k = sim.kernel;
      const user = k.createSpace('user');
      const kern = k.createSpace('kernel', { global });
      let server = 0;
      server = k.createThread({
        name: 'kernel-thread',
        space: kern,
        priority: 200,
        body: function* (sys) {
          let r = yield* sys.ipc.receive(-1);
          for (let i = 0; i < 10; i++)
            r = yield* sys.ipc.replyWait(r.ok ? r.from : 0, { label: 0, words: [] });
        },
      });
      k.createThread({
        name: 'user-thread',
        space: user,
        priority: 100,
        body: function* (sys) {
          for (let i = 0; i < 10; i++) yield* sys.ipc.call(server, { label: 1, words: [] });
        },
      });
      sim.runFor(1e6);
      return k.counters.addressSpaceSwitches;
    };
    expect(run(false)).toBeGreaterThanOrEqual(20);
    expect(run(true)).toBe(1);
  });
});
