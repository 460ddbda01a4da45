import { describe, expect, it } from 'vitest';
import { SimEngine } from '../engine.js';
import { INTERRUPT_LABEL, type Sys, type ThreadId } from '../sys.js';

/** An ISR that records delivery times and replies after `work` cycles (lowering the line first if asked). */
function isr(sim: SimEngine, line: number, log: number[], work: number, lower: boolean) {
  return function* (sys: Sys) {
    const a = yield* sys.irq.attach(line);
    if (!a.ok) throw new Error(a.error);
    let r = yield* sys.ipc.receive(a.irqThread);
    for (;;) {
      if (r.ok && r.msg.label === INTERRUPT_LABEL && r.from === a.irqThread) {
        log.push(sys.now());
        sys.charge('Driver', work);
        if (lower) sim.machine.irq(line).lower();
      }
      r = yield* sys.ipc.replyWait(a.irqThread, { label: 0, words: [] });
    }
  };
}

describe('interrupts as IPC', () => {
  it('delivers an IPC from the interrupt thread with label INTERRUPT_LABEL and the line number', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('drv');
    let from: ThreadId = 0;
    let words: readonly number[] = [];
    let irqThread: ThreadId = -1;
    sim.kernel.createThread({
      name: 'isr',
      space: s,
      body: function* (sys) {
        const a = yield* sys.irq.attach(9);
        if (a.ok) irqThread = a.irqThread;
        const r = yield* sys.ipc.receive(irqThread);
        if (r.ok) {
          from = r.from;
          words = r.msg.words;
        }
      },
    });
    sim.machine.schedule(10_000, () => sim.machine.irq(9).raise());
    sim.runFor(1e6);
    expect(irqThread).toBe(sim.kernel.interruptThread(9));
    expect(from).toBe(irqThread);
    expect(words).toEqual([9]);
  });

  it('masks the line until the handler replies; an assertion while masked is delivered after the reply', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('drv');
    const log: number[] = [];
    sim.kernel.createThread({ name: 'isr', space: s, body: isr(sim, 3, log, 100_000, true) });
    const line = sim.machine.irq(3);
    sim.machine.schedule(10_000, () => line.raise());
    let maskedDuringWork = false;
    sim.machine.schedule(50_000, () => {
      maskedDuringWork = line.masked;
      line.raise(); // device asserts again while the handler works
    });
    sim.runFor(1e6);
    expect(maskedDuringWork).toBe(true);
    expect(log.length).toBe(2);
    // The second delivery happens only after the first reply (handler work 100k cycles).
    expect(log[1]! - log[0]!).toBeGreaterThan(100_000);
    expect(line.masked).toBe(false);
  });

  it('redelivers when the line is still asserted at unmask (level-triggered)', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('drv');
    const log: number[] = [];
    // The handler never lowers the line: each reply triggers another delivery.
    sim.kernel.createThread({ name: 'isr', space: s, body: isr(sim, 4, log, 10_000, false) });
    sim.machine.schedule(1000, () => sim.machine.irq(4).raise());
    sim.runFor(200_000);
    expect(log.length).toBeGreaterThan(5);
    expect(sim.machine.irq(4).raises).toBe(1);
  });

  it('an interrupt raised before any handler attaches is delivered on attach', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('drv');
    const log: number[] = [];
    sim.machine.irq(6).raise();
    sim.kernel.createThread({ name: 'isr', space: s, body: isr(sim, 6, log, 10, true) });
    sim.runFor(1e5);
    expect(log.length).toBe(1);
  });

  it('a second handler cannot attach to a taken line; invalid lines are refused', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('drv');
    const errors: string[] = [];
    for (const line of [1, 1, 999]) {
      sim.kernel.createThread({
        name: `h${line}`,
        space: s,
        body: function* (sys) {
          const a = yield* sys.irq.attach(line);
          errors.push(a.ok ? 'ok' : a.error);
          yield* sys.sleep(1e9);
        },
      });
    }
    sim.runFor(1e5);
    expect(errors).toEqual(['ok', 'busy', 'invalid-line']);
  });

  it('preempts a lower-priority thread and charges the kernel path to Kernel and the IPC to IPC', () => {
    const sim = new SimEngine();
    const s = sim.kernel.createSpace('drv');
    const app = sim.kernel.createSpace('app');
    const log: number[] = [];
    sim.kernel.createThread({
      name: 'isr',
      space: s,
      priority: 200,
      body: isr(sim, 2, log, 0, true),
    });
    sim.kernel.createThread({
      name: 'echo',
      space: app,
      priority: 100,
      body: function* (sys) {
        for (;;) {
          sys.charge('IP', 1e6);
          yield* sys.yieldCpu();
        }
      },
    });
    sim.machine.schedule(500_000, () => sim.machine.irq(2).raise());
    sim.runFor(100_000); // past start-up (attach, first dispatches)
    const before = sim.accounting.snapshot();
    sim.runFor(2e6);
    const w = sim.accounting.window(before);
    const c = sim.costs;
    // Delivered promptly in the middle of echo's charged computation.
    expect(log.length).toBe(1);
    expect(log[0]! - 500_000).toBeLessThan(10_000);
    const irqT = w.byThread.find((t) => t.name === 'irq-2')!;
    expect(irqT.byCategory.Kernel).toBe(c.interruptEntry + c.interruptMaskAck);
    expect(irqT.byCategory.IPC).toBe(c.ipc);
    const isrT = w.byThread.find((t) => t.name === 'isr')!;
    expect(isrT.byCategory.Kernel).toBe(c.interruptUnmask);
    // The switch into the driver's space is part of the IPC path: ISR pays its replyWait + switch.
    expect(isrT.byCategory.IPC).toBe(c.ipc + c.addressSpaceSwitch);
  });
});
