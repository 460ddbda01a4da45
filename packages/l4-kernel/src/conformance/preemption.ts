/**
 * Conformance cases: preemption control and its missed-wake-up latch (issue 11 item 1).
 *
 * The sleeper opens a window and then is busy (sleep-polling stands for "between announcing
 * sleep and blocking") while the waker's zero-timeout send fails. The two hand over through the
 * journal's cells rather than through sleeps of different lengths, so the order holds on real
 * threads too.
 *
 * @module
 */
import { type Timeout, ZERO } from '../sys.js';
import {
  type CaseEngine,
  type ConformanceCase,
  component,
  type EngineFactory,
  expectEqual,
  expectMatch,
  withEngine,
} from './harness.js';
import { Journal } from './journal.js';

const SHORT = 0.01;

/**
 * The sleeper/waker scenario on a fresh engine: `window` says whether the sleeper opens one,
 * `timeout` is the waker's send timeout, `reply` makes the waker reply instead of send.
 */
function latchScenario(
  make: EngineFactory,
  window: boolean,
  timeout: Timeout,
  check: (r: { seen: unknown[]; sent: unknown[]; sleeperId: number }) => void,
  reply = false,
): Promise<void> {
  return withEngine(make, async (e: CaseEngine) => {
    const j = Journal.create();
    const s = e.createSpace('s');
    const sleeperId = e.createThread({
      name: 'sleeper',
      space: s,
      component: component('latchSleeper', { journal: j.buffer, window }),
    });
    e.createThread({
      name: 'waker',
      space: s,
      component: component('latchWaker', { journal: j.buffer, to: sleeperId, timeout, reply }),
    });
    await e.run(SHORT);
    check({ seen: j.read('seen'), sent: j.read('sent'), sleeperId });
  });
}

/** The preemption-control cases. */
export const PREEMPTION_CASES: readonly ConformanceCase[] = [
  {
    area: 'preemption',
    name: 'latch: a zero-timeout send that fails on a thread inside a window makes preempted() true and its next receive abort',
    run: (make) =>
      latchScenario(make, true, ZERO, ({ seen, sent, sleeperId }) => {
        expectEqual(
          sent,
          [{ ok: false, error: 'timeout', phase: 'send', from: sleeperId }],
          'waker',
        );
        expectEqual(seen[0], true, 'preempted()');
        expectMatch(seen[1], { ok: false, error: 'aborted', phase: 'receive' }, 'next receive');
      }),
  },
  {
    area: 'preemption',
    name: 'latch: a failed reply (a zero-timeout send) latches too',
    run: (make) =>
      latchScenario(
        make,
        true,
        ZERO,
        ({ seen }) => {
          expectEqual(seen[0], true, 'preempted()');
          expectMatch(seen[1], { ok: false, error: 'aborted', phase: 'receive' }, 'next receive');
        },
        true,
      ),
  },
  {
    area: 'preemption',
    name: 'latch: the receive phase of call is not aborted (its send already reached the partner)',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const s = e.createSpace('s');
        const server = e.createThread({
          name: 'server',
          space: s,
          component: component('answerOnce'),
        });
        const client = e.createThread({
          name: 'client',
          space: s,
          component: component('latchedCaller', { journal: j.buffer, server }),
        });
        e.createThread({
          name: 'waker',
          space: s,
          component: component('zeroTimeoutWaker', { journal: j.buffer, to: client, times: 1 }),
        });
        await e.run(SHORT);
        const got = j.read('got');
        expectEqual(got[0], true, 'preempted() after the missed wake-up');
        expectMatch(got[1], { ok: true, from: server, msg: { label: 0, words: [7] } }, 'call');
      }),
  },
  {
    area: 'preemption',
    name: 'latch: without an open window a failed zero-timeout send latches nothing',
    run: (make) =>
      latchScenario(make, false, ZERO, ({ seen }) => {
        expectEqual(seen[0], false, 'preempted()');
        expectMatch(seen[1], { ok: false, error: 'timeout', phase: 'receive' }, 'receive');
      }),
  },
  {
    area: 'preemption',
    name: 'latch: a send with a non-zero timeout waits instead of latching, and is received',
    run: (make) =>
      latchScenario(make, true, Number.POSITIVE_INFINITY, ({ seen, sent }) => {
        expectEqual(seen[0], false, 'preempted()');
        expectMatch(seen[1], { ok: true }, 'receive');
        expectMatch(sent[0], { ok: true }, 'waker');
      }),
  },
  {
    area: 'preemption',
    name: 'begin() clears the latch; end() stops it arming',
    run: (make) =>
      withEngine(make, async (e) => {
        const j = Journal.create();
        const s = e.createSpace('s');
        const sleeper = e.createThread({
          name: 'sleeper',
          space: s,
          component: component('windowBookkeeping', { journal: j.buffer }),
        });
        e.createThread({
          name: 'waker',
          space: s,
          component: component('zeroTimeoutWaker', { journal: j.buffer, to: sleeper, times: 2 }),
        });
        await e.run(SHORT);
        expectEqual(
          j.read('seen'),
          [true, false, false],
          'preempted() after latch, after begin(), after a closed-window miss',
        );
      }),
  },
];
