import { UdfError } from '@udf/lockfree';
import { describe, expect, it } from 'vitest';
import { SimEngine } from '../engine.js';
import { KernelError } from '../errors.js';
import { ANY_THREAD, NEVER, type Sys } from '../sys.js';
import { COST_NAMES, CostModel, MODERN_X86_3_0, PENTIUM4_XEON_2_66 } from './costs.js';
import { EventQueue } from './event-queue.js';
import { RegionMemory } from './memory.js';

describe('event queue', () => {
  it('orders by time, ties by insertion; cancelled events never run', () => {
    const q = new EventQueue();
    const out: string[] = [];
    q.push(20, () => out.push('c'));
    q.push(10, () => out.push('a'));
    const x = q.push(10, () => out.push('x'));
    q.push(10, () => out.push('b'));
    x.cancel();
    x.cancel();
    for (let e = q.pop(); e !== null; e = q.pop()) e.fn!();
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('stays ordered under many random pushes', () => {
    const q = new EventQueue();
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % 1000;
    };
    for (let i = 0; i < 5000; i++) q.push(rnd(), () => {});
    let last = -1;
    let lastSeq = -1;
    for (let e = q.pop(); e !== null; e = q.pop()) {
      expect(e.at > last || (e.at === last && e.seq > lastSeq)).toBe(true);
      last = e.at;
      lastSeq = e.seq;
    }
  });
});

describe('physical memory', () => {
  it('allocates aligned contiguous frames, never frame 0, and bounds-checks', () => {
    const m = new RegionMemory(1 << 20);
    const a = m.allocate(100);
    const b = m.allocate(8192, 16384);
    expect(a).toBe(4096);
    expect(b % 16384).toBe(0);
    expect(m.contains(m.size - 4, 4)).toBe(true);
    expect(m.contains(m.size - 2, 4)).toBe(false);
    m.write32(a, 0xdeadbeef);
    expect(m.read32(a)).toBe(0xdeadbeef);
    const first = new Uint8Array(1);
    m.copyOut(a, first);
    expect(first[0]).toBe(0xef); // little-endian
    expect(() => m.allocate(1 << 21)).toThrow(KernelError);
    try {
      m.allocate(1 << 21);
    } catch (e) {
      expect(e).toBeInstanceOf(UdfError);
      expect((e as KernelError).code).toBe('OUT_OF_MEMORY');
      expect((e as KernelError).name).toBe('KernelError');
    }
  });
});

describe('cost model', () => {
  it('every entry of both tables has cycles and a source', () => {
    for (const table of [PENTIUM4_XEON_2_66, MODERN_X86_3_0]) {
      for (const name of COST_NAMES) {
        const e = table.entries[name];
        expect(e.cycles).toBeGreaterThanOrEqual(0);
        expect(e.source.length).toBeGreaterThan(10);
        if (e.estimate) expect(e.source).toMatch(/^Estimate/);
      }
    }
  });

  it('scales entries for sensitivity studies and rejects bad factors', () => {
    const base = new CostModel();
    const twice = base.scaled({ ipc: 2 });
    expect(twice.ipc).toBe(2 * base.ipc);
    expect(twice.scaled({ ipc: 0.25 }).ipc).toBe(base.ipc / 2);
    expect(twice.syscall).toBe(base.syscall);
    expect(() => new CostModel(PENTIUM4_XEON_2_66, { ipc: -1 })).toThrow(KernelError);
  });

  it('an engine with IPC x2 spends exactly twice the IPC cycles on a ping-pong', () => {
    const run = (ipc: number) => {
      const sim = new SimEngine({ costScale: { ipc } });
      const s = sim.kernel.createSpace('s');
      const srv = sim.kernel.createThread({
        name: 'srv',
        space: s,
        body: function* (sys) {
          let r = yield* sys.ipc.receive(ANY_THREAD);
          for (;;) r = yield* sys.ipc.replyWait(r.from, { label: 0, words: [] });
        },
      });
      sim.kernel.createThread({
        name: 'cli',
        space: s,
        body: function* (sys) {
          for (let i = 0; i < 100; i++) yield* sys.ipc.call(srv, { label: 0, words: [] });
          yield* sys.sleep(NEVER);
        },
      });
      sim.runFor(1e7);
      return sim.accounting.window().byCategory.IPC!;
    };
    expect(run(2)).toBe(2 * run(1));
  });
});

/** A small system with IPC, interrupts, compute and preemption for determinism/accounting tests. */
function system(seed: number) {
  const sim = new SimEngine({ trace: true, seed });
  const k = sim.kernel;
  const drv = k.createSpace('driver');
  const app = k.createSpace('app');
  const server = k.createThread({
    name: 'stack',
    space: app,
    priority: 100,
    body: function* (sys: Sys) {
      let r = yield* sys.ipc.receive(ANY_THREAD);
      for (;;) {
        sys.charge('IP', 3000);
        r = yield* sys.ipc.replyWait(r.from, { label: 0, words: [] });
      }
    },
  });
  k.createThread({
    name: 'isr',
    space: drv,
    priority: 200,
    body: function* (sys: Sys) {
      const a = yield* sys.irq.attach(1);
      if (!a.ok) return;
      let r = yield* sys.ipc.receive(a.irqThread);
      for (;;) {
        sys.charge('Driver', 2000);
        sim.machine.irq(1).lower();
        yield* sys.ipc.call(server, { label: 1, words: [r.ok ? 1 : 0] });
        r = yield* sys.ipc.replyWait(a.irqThread, { label: 0, words: [] });
      }
    },
  });
  const tick = () => {
    sim.machine.irq(1).raise();
    sim.machine.after(20_000 + Math.floor(sim.random() * 40_000), tick);
  };
  sim.machine.schedule(1000, tick);
  return sim;
}

describe('determinism', () => {
  it('two runs with the same seed produce identical traces and accounting', () => {
    const a = system(42);
    const b = system(42);
    a.runFor(5e6);
    b.runFor(5e6);
    expect(a.trace.length).toBeGreaterThan(100);
    expect(b.trace).toEqual(a.trace);
    expect(b.accounting.window()).toEqual(a.accounting.window());
    const c = system(43);
    c.runFor(5e6);
    expect(c.trace).not.toEqual(a.trace);
  });
});

describe('accounting', () => {
  it('every cycle of a window is charged once: the window total equals its duration', () => {
    const sim = system(1);
    sim.runFor(1e6);
    const s0 = sim.accounting.snapshot();
    sim.runFor(3e6);
    const w = sim.accounting.window(s0);
    // runFor stops at the first scheduling point at or after the limit (a kernel path is atomic).
    expect(w.start).toBe(s0.at);
    expect(w.end).toBe(sim.now());
    expect(w.end - 4e6).toBeLessThan(20_000);
    expect(w.total).toBeCloseTo(w.end - w.start, 3);
    const p = sim.accounting.profile(w);
    const sum = Object.values(p).reduce((x, y) => x + y, 0);
    expect(sum).toBeCloseTo(100, 6);
    expect(p.Idle).toBeGreaterThan(0);
    expect(p.Driver).toBeGreaterThan(0);
    expect(p.IPC).toBeGreaterThan(0);
    expect(p.Kernel).toBeGreaterThan(0);
  });

  it('a window excludes warm-up: the same steady state gives the same profile twice', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('s');
    sim.kernel.createThread({
      name: 'w',
      space: s,
      body: function* (sys) {
        sys.charge('Buffer', 5e6); // warm-up burst
        for (;;) {
          sys.charge('User', 1000);
          yield* sys.sleep(3000);
        }
      },
    });
    sim.runFor(6e6);
    const s1 = sim.accounting.snapshot();
    sim.runFor(4e6);
    const s2 = sim.accounting.snapshot();
    sim.runFor(4e6);
    const w1 = sim.accounting.window(s1, s2);
    const w2 = sim.accounting.window(s2);
    expect(w1.byCategory.Buffer).toBeUndefined();
    expect(sim.accounting.profile(w1).User).toBeCloseTo(sim.accounting.profile(w2).User!, 0);
    expect(sim.accounting.window().byCategory.Buffer).toBe(5e6);
  });

  it('idle time is charged to the idle thread as Idle', () => {
    const sim = new SimEngine();
    sim.runFor(1000);
    const w = sim.accounting.window();
    expect(w.byThread).toEqual([{ id: 1, name: 'idle', byCategory: { Idle: 1000 }, total: 1000 }]);
  });
});
