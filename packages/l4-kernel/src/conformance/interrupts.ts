/**
 * Conformance cases: interrupts delivered as IPC (paper section 4.1, L4 X.2 interrupt threads).
 *
 * @module
 */
import { ANY_THREAD, INTERRUPT_LABEL, type IpcResult, type ThreadId } from '../sys.js';
import { type ConformanceCase, expectEqual, expectMatch } from './harness.js';

const STEP = 0.002;

/** The interrupt cases. */
export const INTERRUPT_CASES: readonly ConformanceCase[] = [
  {
    area: 'interrupts',
    name: "an interrupt arrives as IPC from the line's interrupt thread; the line stays masked until the handler replies",
    async run(make) {
      const e = make();
      const line = e.interruptLine(5);
      const got: IpcResult[] = [];
      let irqThread: ThreadId = 0;
      e.createThread({
        name: 'isr',
        space: e.createSpace('drv'),
        body: function* (sys) {
          const a = yield* sys.irq.attach(5);
          if (!a.ok) return;
          irqThread = a.irqThread;
          let r = yield* sys.ipc.receive(a.irqThread);
          for (;;) {
            got.push(r);
            line.lower();
            r = yield* sys.ipc.replyWait(a.irqThread, { label: 0, words: [] });
          }
        },
      });
      await e.run(STEP);
      line.raise();
      await e.run(STEP);
      expectEqual(got.length, 1, 'interrupts delivered after one raise');
      expectMatch(
        got[0],
        { ok: true, from: irqThread, msg: { label: INTERRUPT_LABEL, words: [5] } },
        'message',
      );
      line.raise();
      await e.run(STEP);
      expectEqual(
        got.length,
        2,
        'interrupts delivered after the second raise (unmasked by the reply)',
      );
    },
  },
  {
    area: 'interrupts',
    name: 'a reply to an interrupt thread with no interrupt outstanding, or from a thread that is not its handler, fails with a send-phase timeout (issue 12 item 6)',
    async run(make) {
      const e = make();
      e.interruptLine(6);
      const rs: IpcResult[] = [];
      let irqThread: ThreadId = 0;
      const s = e.createSpace('drv');
      e.createThread({
        name: 'handler',
        space: s,
        body: function* (sys) {
          const a = yield* sys.irq.attach(6);
          if (!a.ok) return;
          irqThread = a.irqThread;
          rs.push(yield* sys.ipc.reply(a.irqThread, { label: 0, words: [] }));
          yield* sys.ipc.receive(ANY_THREAD, sys.hz * STEP);
        },
      });
      e.createThread({
        name: 'stranger',
        space: s,
        priority: 90,
        body: function* (sys) {
          while (irqThread === 0) yield* sys.sleep(sys.hz * 0.0001);
          rs.push(yield* sys.ipc.reply(irqThread, { label: 0, words: [] }));
        },
      });
      await e.run(STEP);
      expectEqual(
        rs,
        [
          { ok: false, error: 'timeout', phase: 'send', from: irqThread },
          { ok: false, error: 'timeout', phase: 'send', from: irqThread },
        ],
        'handler without an interrupt, then a stranger',
      );
    },
  },
];
