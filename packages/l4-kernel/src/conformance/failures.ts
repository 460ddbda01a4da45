/**
 * Conformance cases: a broken thread fails the run loudly (issue 12 item 11).
 *
 * @module
 */
import { ANY_THREAD } from '../sys.js';
import { type ConformanceCase, ConformanceError, expectMatch, runCatching } from './harness.js';

/** The failure cases. */
export const FAILURE_CASES: readonly ConformanceCase[] = [
  {
    area: 'failures',
    name: 'a thread body that throws fails the run with THREAD_FAILED naming the thread',
    async run(make) {
      const e = make();
      e.createThread({
        name: 'broken',
        space: e.createSpace('s'),
        body: function* (sys) {
          yield* sys.sleep(sys.hz * 0.0001);
          throw new Error('bug');
        },
      });
      const err = await runCatching(e, 0.01);
      if (err === null) throw new ConformanceError('the run did not fail');
      expectMatch(err, { code: 'THREAD_FAILED', threadName: 'broken' }, 'error');
    },
  },
  {
    area: 'failures',
    name: 'a kernel operation called without yield* fails the run with THREAD_FAILED naming the thread',
    async run(make) {
      const e = make();
      const s = e.createSpace('s');
      const rx = e.createThread({
        name: 'rx',
        space: s,
        body: function* (sys) {
          yield* sys.ipc.receive(ANY_THREAD);
        },
      });
      e.createThread({
        name: 'forgetful',
        space: s,
        body: function* (sys) {
          sys.ipc.send(rx, { label: 0, words: [] });
          yield* sys.sleep(sys.hz * 0.0001);
        },
      });
      const err = await runCatching(e, 0.01);
      if (err === null) throw new ConformanceError('the run did not fail');
      expectMatch(err, { code: 'THREAD_FAILED', threadName: 'forgetful' }, 'error');
    },
  },
];
