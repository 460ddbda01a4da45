/**
 * Conformance cases: preemption control and its missed-wake-up latch (issue 11 item 1).
 *
 * @module
 */
import { ANY_THREAD, type IpcResult, type ThreadId, ZERO } from '../sys.js';
import { type ConformanceCase, expectEqual, expectMatch } from './harness.js';

const SHORT = 0.01;

/**
 * The sleeper opens a window and then is busy (sleeping stands for "between announcing sleep and
 * blocking"), the waker's zero-timeout send fails meanwhile; `window` says whether the sleeper
 * opened one, `timeout` is the waker's send timeout.
 */
function latchScenario(window: boolean, timeout: number, viaReply = false) {
  return async (make: () => import('./harness.js').ConformanceEngine) => {
    const e = make();
    const s = e.createSpace('s');
    const seen: (boolean | IpcResult)[] = [];
    const sent: IpcResult[] = [];
    let sleeperId: ThreadId = 0;
    sleeperId = e.createThread({
      name: 'sleeper',
      space: s,
      body: function* (sys) {
        if (window) sys.preemption.begin();
        yield* sys.sleep(sys.hz * 0.001); // the waker runs meanwhile
        seen.push(sys.preemption.preempted());
        seen.push(yield* sys.ipc.receive(ANY_THREAD, sys.hz * 0.002));
        if (window) sys.preemption.end();
      },
    });
    e.createThread({
      name: 'waker',
      space: s,
      body: function* (sys) {
        yield* sys.sleep(sys.hz * 0.0005);
        const m = { label: 1, words: [] };
        sent.push(
          viaReply
            ? yield* sys.ipc.reply(sleeperId, m)
            : yield* sys.ipc.send(sleeperId, m, timeout),
        );
      },
    });
    await e.run(SHORT);
    return { seen, sent, sleeperId };
  };
}

/** The preemption-control cases. */
export const PREEMPTION_CASES: readonly ConformanceCase[] = [
  {
    area: 'preemption',
    name: 'latch: a zero-timeout send that fails on a thread inside a window makes preempted() true and its next receive abort',
    async run(make) {
      const { seen, sent, sleeperId } = await latchScenario(true, ZERO)(make);
      expectEqual(sent, [{ ok: false, error: 'timeout', phase: 'send', from: sleeperId }], 'waker');
      expectEqual(seen[0], true, 'preempted()');
      expectMatch(seen[1], { ok: false, error: 'aborted', phase: 'receive' }, 'next receive');
    },
  },
  {
    area: 'preemption',
    name: 'latch: a failed reply (a zero-timeout send) latches too',
    async run(make) {
      const { seen } = await latchScenario(true, ZERO, true)(make);
      expectEqual(seen[0], true, 'preempted()');
      expectMatch(seen[1], { ok: false, error: 'aborted', phase: 'receive' }, 'next receive');
    },
  },
  {
    area: 'preemption',
    name: 'latch: the receive phase of call is not aborted (its send already reached the partner)',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const got: (boolean | IpcResult)[] = [];
      const server = e.createThread({
        name: 'server',
        space: s,
        body: function* (sys) {
          const r = yield* sys.ipc.receive(ANY_THREAD);
          if (r.ok) yield* sys.ipc.reply(r.from, { label: 0, words: [7] });
        },
      });
      const client = e.createThread({
        name: 'client',
        space: s,
        body: function* (sys) {
          sys.preemption.begin();
          yield* sys.sleep(sys.hz * 0.001); // the waker's zero-timeout send fails meanwhile
          got.push(sys.preemption.preempted());
          got.push(yield* sys.ipc.call(server, { label: 1, words: [] }));
          sys.preemption.end();
        },
      });
      e.createThread({
        name: 'waker',
        space: s,
        body: function* (sys) {
          yield* sys.sleep(sys.hz * 0.0005);
          yield* sys.ipc.send(client, { label: 1, words: [] }, ZERO);
        },
      });
      await e.run(SHORT);
      expectEqual(got[0], true, 'preempted() after the missed wake-up');
      expectMatch(got[1], { ok: true, from: server, msg: { label: 0, words: [7] } }, 'call');
    },
  },
  {
    area: 'preemption',
    name: 'latch: without an open window a failed zero-timeout send latches nothing',
    async run(make) {
      const { seen } = await latchScenario(false, ZERO)(make);
      expectEqual(seen[0], false, 'preempted()');
      expectMatch(seen[1], { ok: false, error: 'timeout', phase: 'receive' }, 'receive');
    },
  },
  {
    area: 'preemption',
    name: 'latch: a send with a non-zero timeout waits instead of latching, and is received',
    async run(make) {
      const e = await latchScenario(true, Number.POSITIVE_INFINITY)(make);
      expectEqual(e.seen[0], false, 'preempted()');
      expectMatch(e.seen[1], { ok: true }, 'receive');
      expectMatch(e.sent[0], { ok: true }, 'waker');
    },
  },
  {
    area: 'preemption',
    name: 'begin() clears the latch; end() stops it arming',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const seen: boolean[] = [];
      const sleeper = e.createThread({
        name: 'sleeper',
        space: s,
        body: function* (sys) {
          sys.preemption.begin();
          yield* sys.sleep(sys.hz * 0.001); // first zero-timeout send fails here: latched
          seen.push(sys.preemption.preempted());
          sys.preemption.begin();
          seen.push(sys.preemption.preempted());
          sys.preemption.end();
          yield* sys.sleep(sys.hz * 0.001); // second one fails here: window closed
          sys.preemption.begin();
          seen.push(sys.preemption.preempted());
          sys.preemption.end();
        },
      });
      e.createThread({
        name: 'waker',
        space: s,
        body: function* (sys) {
          yield* sys.sleep(sys.hz * 0.0005);
          yield* sys.ipc.send(sleeper, { label: 1, words: [] }, ZERO);
          yield* sys.sleep(sys.hz * 0.001);
          yield* sys.ipc.send(sleeper, { label: 1, words: [] }, ZERO);
        },
      });
      await e.run(SHORT);
      expectEqual(
        seen,
        [true, false, false],
        'preempted() after latch, after begin(), after a closed-window miss',
      );
    },
  },
];
