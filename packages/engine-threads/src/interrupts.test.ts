import { Worker } from 'node:worker_threads';
import { INTERRUPT_LABEL } from '@udf/l4-kernel';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadsEngine } from './engine.js';
import { IRQ_ASSERTED, IRQ_DELIVERED, IRQ_MASKED } from './interrupts.js';

const COMPONENTS = new URL('../test/irq-components.ts', import.meta.url).href;
const ref = (exp: string, config?: unknown) => ({ module: COMPONENTS, export: exp, config });

/** Poll `cond` every 2 ms; fail (not hang) after `limitMs`. */
async function until(what: string, cond: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A worker that raises and lowers lines in the shared interrupt table. */
class Raiser {
  private readonly w: Worker;
  private readonly ready: Promise<void>;
  constructor(shared: { kernel: SharedArrayBuffer; irqTable: SharedArrayBuffer | null }) {
    this.w = new Worker(new URL('../test/ts-worker.mjs', import.meta.url), {
      execArgv: ['--conditions=@udf/source'],
      workerData: {
        entry: new URL('../test/irq-raiser.mjs', import.meta.url).href,
        engine: new URL('./index.ts', import.meta.url).href,
        ...shared,
      },
    });
    this.ready = new Promise((res) => this.w.once('message', () => res()));
  }
  async do(op: 'raise' | 'lower', line: number, extra?: object): Promise<void> {
    await this.ready;
    const done = new Promise<void>((res) => this.w.once('message', () => res()));
    this.w.postMessage({ op, line, ...extra });
    await done;
  }
  async stress(line: number, events: number, pending: SharedArrayBuffer): Promise<void> {
    await this.do('stress' as 'raise', line, { events, pending });
  }
  async close(): Promise<void> {
    await this.w.terminate();
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('interrupts on the threads engine', () => {
  it(
    'a line raised from another worker arrives as IPC from its interrupt thread, stays masked until the reply, is redelivered while asserted, and not after detach',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: 1e9, interruptLines: 16 });
      const d = e.createDomain('driver');
      const s = e.createDomain('stranger');
      const out = new SharedArrayBuffer(8 * 16);
      const gate = new SharedArrayBuffer(4 * 4);
      const line = 5;
      const h = e.createThread({
        domain: d,
        name: 'isr',
        component: ref('isr', { line, rounds: 3, out, gate }),
      });
      const sOut = new SharedArrayBuffer(8 * 4);
      e.createThread({
        domain: s,
        name: 'stranger',
        component: ref('stranger', { line, out: sOut, gate }),
      });
      await e.start();
      cleanup.push(() => e.stop());
      const raiser = new Raiser(e.shared);
      cleanup.push(() => raiser.close());
      const o = new Float64Array(out);
      const g = new Int32Array(gate);
      const table = e.interrupts!;

      await until('attached', () => o[0] !== 0);
      const it = o[0]!;
      expect(it).toBe(table.threadOf(line));
      expect(table.handler(line)).toBe(h);
      expect(o[8]).toBe(2); // reply with nothing outstanding: send-phase timeout

      // a thread that is not the handler cannot acknowledge, nor attach the busy line
      Atomics.store(g, 3, it);
      Atomics.store(g, 2, 1);
      await until('stranger done', () => new Float64Array(sOut)[1] !== 0);
      expect(new Float64Array(sOut)[0]).toBe(2); // timeout, send phase
      expect(new Float64Array(sOut)[1]).toBe(2); // attach refused (busy)

      // 1: delivered straight into the waiting handler's control block
      await raiser.do('raise', line);
      await until('first delivery', () => o[1] === 1);
      expect(o[2]).toBe(INTERRUPT_LABEL);
      expect(o[3]).toBe(line);
      expect(o[4]).toBe(it);
      expect(table.state(line)).toBe(IRQ_ASSERTED | IRQ_MASKED | IRQ_DELIVERED);
      // lowered and raised again while masked: nothing new is delivered yet
      await raiser.do('lower', line);
      await raiser.do('raise', line);
      expect(table.state(line)).toBe(IRQ_ASSERTED | IRQ_MASKED | IRQ_DELIVERED);
      expect(o[1]).toBe(1);

      // 2: the reply unmasks; the line is still asserted, so it is redelivered (level-triggered)
      Atomics.store(g, 0, 1);
      await until('redelivery', () => o[1] === 2);
      expect(o[5]).toBe(1);

      // 3: lowered, then acknowledged: unmasked and idle
      await raiser.do('lower', line);
      Atomics.store(g, 0, 2);
      await until('second ack', () => o[5] === 2);
      await until('line idle', () => table.state(line) === 0);
      await raiser.do('raise', line);
      await until('third delivery', () => o[1] === 3);
      await raiser.do('lower', line);
      Atomics.store(g, 0, 3);

      // detach: a raise finds no handler (spurious) and the handler's receive times out
      await until('detached', () => o[6] === 1);
      expect(table.handler(line)).toBe(0);
      const spurious = table.counters.spurious;
      await raiser.do('raise', line);
      expect(table.counters.spurious).toBe(spurious + 1);
      Atomics.store(g, 1, 1);
      await e.join([h], 10_000);
      expect(o[7]).toBe(102); // timeout, receive phase
      expect(o[1]).toBe(3);
      expect(o[5]).toBe(3);
      expect(table.counters.delivered).toBe(3);
      expect(e.failures).toEqual([]);
    },
  );

  it(
    'a handler that dies with an interrupt unacknowledged releases the line; the next handler gets the still-asserted line and acknowledges with call',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ hz: 1e9, interruptLines: 8 });
      const d1 = e.createDomain('first');
      const d2 = e.createDomain('second');
      const line = 7;
      const o1 = new SharedArrayBuffer(8 * 4);
      const o2 = new SharedArrayBuffer(8 * 8);
      const gate = new SharedArrayBuffer(4 * 4);
      const first = e.createThread({
        domain: d1,
        name: 'one-shot',
        component: ref('oneShot', { line, out: o1 }),
      });
      const second = e.createThread({
        domain: d2,
        name: 'late',
        component: ref('lateIsr', { line, out: o2, gate }),
      });
      await e.start();
      cleanup.push(() => e.stop());
      const table = e.interrupts!;
      const irq = e.interruptLine(line);
      await until('first attached', () => table.handler(line) === first);
      irq.raise();
      await e.join([first], 10_000);
      expect(new Float64Array(o1)[0]).toBe(1);
      // dead handler: the line is free, unmasked, still asserted
      expect(table.handler(line)).toBe(0);
      expect(table.state(line)).toBe(IRQ_ASSERTED);
      Atomics.store(new Int32Array(gate), 0, 1);
      const r = new Float64Array(o2);
      await until('second handler got the pending interrupt', () => r[2] !== 0);
      expect(r[1]).toBe(1);
      expect(r[2]).toBe(line);
      // its call acknowledges and waits; the line is still asserted, so the answer is the next interrupt
      await e.join([second], 10_000);
      expect(r[3]).toBe(0);
      expect(table.handler(line)).toBe(0); // exited: released again
      expect(e.failures).toEqual([]);
    },
  );

  it(
    'stress: a device worker raising 300 000 causes against a handler that consumes and acknowledges loses none (no interrupt left undelivered)',
    { timeout: 60_000 },
    async () => {
      const e = new ThreadsEngine({ interruptLines: 4 });
      const d = e.createDomain('driver');
      const out = new SharedArrayBuffer(8 * 4);
      const pending = new SharedArrayBuffer(8);
      const events = 300_000;
      const line = 1;
      const h = e.createThread({
        domain: d,
        name: 'consumer',
        component: ref('consumer', { line, events, out, pending }),
      });
      await e.start();
      cleanup.push(() => e.stop());
      const raiser = new Raiser(e.shared);
      cleanup.push(() => raiser.close());
      const o = new Float64Array(out);
      await until('attached', () => o[0] !== 0);
      await raiser.stress(line, events, pending);
      await e.join([h], 20_000);
      expect(o[1]).toBe(events);
      expect(o[2]).toBeGreaterThan(0);
      expect(e.interrupts!.counters.delivered).toBe(o[2]);
      expect(e.failures).toEqual([]);
    },
  );
});
