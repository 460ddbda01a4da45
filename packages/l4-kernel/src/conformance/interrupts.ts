/**
 * Conformance cases: interrupts delivered as IPC (paper section 4.1, L4 X.2 interrupt threads).
 *
 * @module
 */
import { INTERRUPT_LABEL } from '../sys.js';
import { INTERRUPT_ACK_CELL, INTERRUPT_THREAD_CELL } from './bodies.js';
import {
  type ConformanceCase,
  component,
  expectEqual,
  expectMatch,
  withEngine,
} from './harness.js';
import { Journal } from './journal.js';

const STEP = 0.002;

/** The interrupt cases. */
export const INTERRUPT_CASES: readonly ConformanceCase[] = [
  {
    area: 'interrupts',
    name: "an interrupt arrives as IPC from the line's interrupt thread; the line stays masked until the handler replies",
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const line = e.interruptLine(5);
        // The handler keeps each interrupt until the device (this thread) has lowered the line.
        e.createThread({
          name: 'isr',
          space: e.createSpace('drv'),
          component: component('interruptHandler', { journal: j.buffer, line: 5 }),
        });
        await e.run(STEP);
        line.raise();
        await e.run(STEP, () => j.count('irq') >= 1);
        const got = j.read('irq');
        expectEqual(got.length, 1, 'interrupts delivered after one raise');
        expectMatch(
          got[0],
          {
            ok: true,
            from: j.get(INTERRUPT_THREAD_CELL),
            msg: { label: INTERRUPT_LABEL, words: [5] },
          },
          'message',
        );
        line.lower();
        j.set(INTERRUPT_ACK_CELL, 1);
        await e.run(STEP);
        expectEqual(j.count('irq'), 1, 'interrupts delivered after the reply to a lowered line');
        line.raise();
        await e.run(STEP, () => j.count('irq') >= 2);
        expectEqual(
          j.count('irq'),
          2,
          'interrupts delivered after the second raise (unmasked by the reply)',
        );
      }),
  },
  {
    area: 'interrupts',
    name: 'a reply to an interrupt thread with no interrupt outstanding, or from a thread that is not its handler, fails with a send-phase timeout (issue 12 item 6)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        e.interruptLine(6);
        const s = e.createSpace('drv');
        e.createThread({
          name: 'handler',
          space: s,
          component: component('idleHandler', { journal: j.buffer, line: 6 }),
        });
        e.createThread({
          name: 'stranger',
          space: s,
          priority: 90,
          component: component('strangerReply', { journal: j.buffer }),
        });
        await e.run(STEP);
        const irqThread = j.get(INTERRUPT_THREAD_CELL);
        expectEqual(
          j.read('rs'),
          [
            { ok: false, error: 'timeout', phase: 'send', from: irqThread },
            { ok: false, error: 'timeout', phase: 'send', from: irqThread },
          ],
          'handler without an interrupt, then a stranger',
        );
      }),
  },
];
