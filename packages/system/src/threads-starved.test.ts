// The threads restarter's view of a driver the OS did not schedule (issue 16): the rule the
// device supervisor uses on threads to excuse a still heartbeat, on a fake /proc and clock.
import type { ThreadsEngine } from '@udf/engine-threads';
import { describe, expect, it } from 'vitest';
import { ThreadRunLedger } from './threads-cpu.js';
import {
  THREADS_MAX_STARVED_CHECKS,
  THREADS_STARVED_RUN_SHARE,
  THREADS_STARVED_SHARE,
  ThreadsDriverRestarter,
} from './threads-restart.js';

const DRIVER = 7;

function setup() {
  const sched = new Map<number, { run: number; wait: number }>([
    [10, { run: 1e6, wait: 1e6 }], // the driver's worker
    [20, { run: 1e6, wait: 1e6 }], // the device worker
    [30, { run: 1e6, wait: 1e6 }], // the manager's
  ]);
  const tids: Record<string, number> = { driver: 10, devices: 20, memory: 30 };
  const read = (path: string) => {
    const m = /task\/(\d+)\/schedstat$/.exec(path);
    const s = m ? sched.get(Number(m[1])) : undefined;
    if (s === undefined) throw new Error('ENOENT');
    return `${s.run} ${s.wait} 1\n`;
  };
  let now = 0;
  const restarter = new ThreadsDriverRestarter(
    {} as ThreadsEngine,
    [
      {
        thread: DRIVER,
        component: { module: 'x', export: 'y' },
        lines: [0],
        domain: 'driver',
        waitsOn: ['devices', 'memory'],
      },
    ],
    { ledger: new ThreadRunLedger(() => tids, read), moved: () => {}, now: () => now },
  );
  /** One 100 ms check interval in which `tid` waited and ran the given shares of it. */
  const interval = (who: Record<number, { wait: number; run: number }>) => {
    now += 100;
    for (const [tid, d] of Object.entries(who)) {
      const s = sched.get(Number(tid))!;
      s.wait += d.wait * 100e6;
      s.run += d.run * 100e6;
    }
  };
  return { restarter, interval, sched, tids };
}

describe('ThreadsDriverRestarter.starved', () => {
  it('the first check has nothing to compare; an interval with every thread scheduled is not starved', () => {
    const { restarter, interval } = setup();
    expect(restarter.starved(DRIVER)).toBe(false);
    interval({ 10: { wait: 0.05, run: 0.01 }, 20: { wait: 0.1, run: 0.3 } });
    expect(restarter.starved(DRIVER)).toBe(false);
    expect(restarter.stats.starvedChecks).toBe(0);
  });

  it('starved when the device worker (or the driver, or the manager) waited for a CPU most of the interval and hardly ran', () => {
    for (const tid of [10, 20, 30]) {
      const { restarter, interval } = setup();
      restarter.starved(DRIVER);
      interval({ [tid]: { wait: THREADS_STARVED_SHARE, run: 0.005 } });
      expect(restarter.starved(DRIVER), `tid ${tid}`).toBe(true);
    }
  });

  it('not starved: a thread that ran a tenth of the interval (a spinning driver) whatever it waited, or waited less than the share', () => {
    const { restarter, interval } = setup();
    restarter.starved(DRIVER);
    interval({ 10: { wait: 0.8, run: THREADS_STARVED_RUN_SHARE } });
    expect(restarter.starved(DRIVER)).toBe(false);
    interval({ 20: { wait: THREADS_STARVED_SHARE - 0.05, run: 0 } });
    expect(restarter.starved(DRIVER)).toBe(false);
    // a driver blocked for good (no run, no wait: asleep) is not starved either
    interval({});
    expect(restarter.starved(DRIVER)).toBe(false);
  });

  it(`at most ${THREADS_MAX_STARVED_CHECKS} checks in a row are excused`, () => {
    const { restarter, interval } = setup();
    restarter.starved(DRIVER);
    const answers: boolean[] = [];
    for (let i = 0; i < THREADS_MAX_STARVED_CHECKS + 2; i++) {
      interval({ 20: { wait: 1, run: 0 } });
      answers.push(restarter.starved(DRIVER));
    }
    expect(answers).toEqual([
      ...Array.from({ length: THREADS_MAX_STARVED_CHECKS }, () => true),
      false,
      false,
    ]);
    expect(restarter.stats.starvedChecks).toBe(THREADS_MAX_STARVED_CHECKS);
    // a scheduled interval ends the run; the next starved one is excused again
    interval({});
    expect(restarter.starved(DRIVER)).toBe(false);
    interval({ 20: { wait: 1, run: 0 } });
    expect(restarter.starved(DRIVER)).toBe(true);
  });

  it('a new thread for a name (a fresh worker) is not compared with the dead one', () => {
    const { restarter, interval, sched, tids } = setup();
    restarter.starved(DRIVER);
    sched.set(11, { run: 0, wait: 900e6 });
    tids.driver = 11;
    interval({});
    expect(restarter.starved(DRIVER)).toBe(false);
  });

  it('unknown driver or no CPU view: never starved', () => {
    const { restarter } = setup();
    expect(restarter.starved(99)).toBe(false);
    const bare = new ThreadsDriverRestarter({} as ThreadsEngine, [
      { thread: DRIVER, component: { module: 'x', export: 'y' }, lines: [0] },
    ]);
    expect(bare.starved(DRIVER)).toBe(false);
    expect(bare.starved(DRIVER)).toBe(false);
  });
});
