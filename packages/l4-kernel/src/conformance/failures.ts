/**
 * Conformance cases: a broken thread fails the run loudly (issue 12 item 11).
 *
 * @module
 */
import {
  type ConformanceCase,
  ConformanceError,
  component,
  expectMatch,
  runCatching,
  withEngine,
} from './harness.js';
import { Journal } from './journal.js';

/** The failure cases. */
export const FAILURE_CASES: readonly ConformanceCase[] = [
  {
    area: 'failures',
    name: 'a thread body that throws fails the run with THREAD_FAILED naming the thread',
    run: (make) =>
      withEngine(make, async (e) => {
        e.createThread({
          name: 'broken',
          space: e.createSpace('s'),
          component: component('throwAfterSleep'),
        });
        const err = await runCatching(e, 0.01);
        if (err === null) throw new ConformanceError('the run did not fail');
        expectMatch(err, { code: 'THREAD_FAILED', threadName: 'broken' }, 'error');
      }),
  },
  {
    area: 'failures',
    name: 'a kernel operation called without yield* fails the run with THREAD_FAILED naming the thread',
    run: (make) =>
      withEngine(make, async (e) => {
        const s = e.createSpace('s');
        const rx = e.createThread({
          name: 'rx',
          space: s,
          component: component('receiver', { journal: Journal.create().buffer, stream: 'got' }),
        });
        e.createThread({
          name: 'forgetful',
          space: s,
          component: component('forgetsYield', { to: rx }),
        });
        const err = await runCatching(e, 0.01);
        if (err === null) throw new ConformanceError('the run did not fail');
        expectMatch(err, { code: 'THREAD_FAILED', threadName: 'forgetful' }, 'error');
      }),
  },
];
