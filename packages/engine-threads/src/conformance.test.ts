import type { InterruptLine, ThreadId } from '@udf/l4-kernel';
import {
  type ConformanceCase,
  type ConformanceEngine,
  SYS_CONFORMANCE,
} from '@udf/l4-kernel/conformance';
import { describe, expect, it } from 'vitest';
import { ControlBlocks, ThreadState } from './control-blocks.js';
import { ThreadsEngine } from './engine.js';

// The very list of cases the sim engine passes (`@udf/l4-kernel/conformance`), on real workers.
// Each case's thread bodies are components of that module, built inside the domain workers
// from `{ module: '@udf/l4-kernel/conformance', export, config }`; what they observe comes back
// through the case's journal in shared memory.

/** A run gives up waiting for the threads to settle after this long (then the case's checks report). */
const SETTLE_LIMIT_MS = 3_000;
/** How often the main thread looks at the threads' states while a run settles. */
const POLL_MS = 1;
/** Consecutive identical looks (states and doorbells) that count as settled. */
const STABLE_LOOKS = 3;

/**
 * The threads engine as the conformance suite drives it. A space is a domain (a worker); the
 * first `run` starts the workers, every `run` then waits — in real time, however long the
 * virtual span it names — until every thread has exited or is blocked for good (no timeout
 * pending: nothing can happen any more without the main thread), or until the case's `until`
 * holds, within {@link SETTLE_LIMIT_MS}. A failed thread rejects the run with the engine's
 * `ThreadFailedError` (`THREAD_FAILED`, `threadName`).
 */
function threadsEngine(latch = true): ConformanceEngine {
  const engine = new ThreadsEngine({ startTimeoutMs: 20_000, latch });
  const threads: ThreadId[] = [];
  let domains = 0;
  let started = false;
  return {
    hz: engine.hz,
    createSpace: (name) => {
      domains++;
      return engine.createDomain(name);
    },
    createThread: ({ name, space, priority, pager, component }) => {
      const id = engine.createThread({
        domain: space,
        name,
        ...(priority === undefined ? {} : { priority }),
        ...(pager === undefined ? {} : { pager }),
        component,
      });
      threads.push(id);
      return id;
    },
    mapAnonymous: (space, vaddr, bytes, rights) => {
      engine.mapAnonymous(space, vaddr, bytes, rights);
    },
    // the line exists once the engine has started; cases take it before their first run
    interruptLine: (line): InterruptLine => ({
      number: line,
      raise: () => engine.interruptLine(line).raise(),
      lower: () => engine.interruptLine(line).lower(),
    }),
    run: async (_seconds, until) => {
      if (!started) {
        started = true;
        await engine.start();
      }
      await settle(engine, threads, domains, until);
    },
    close: () => engine.stop(),
  };
}

/** Wait until the threads have settled (see {@link threadsEngine}) or `until()` holds. */
async function settle(
  engine: ThreadsEngine,
  threads: readonly ThreadId[],
  domains: number,
  until: (() => boolean) | undefined,
): Promise<void> {
  const blocks = new ControlBlocks(engine.shared.kernel);
  const bells = () => {
    let s = '';
    for (let d = 0; d < domains; d++)
      s += `${Atomics.load(blocks.words, blocks.doorbellIndex(d))},`;
    return s;
  };
  const settled = (id: ThreadId) => {
    const state = blocks.state(id);
    // a dead thread counts once the main thread has its exit report (and so any failure)
    if (state === ThreadState.Dead) return engine.hasExited(id);
    const blocked = state === ThreadState.SendBlocked || state === ThreadState.ReceiveBlocked;
    return blocked && blocks.deadline(id) === Number.POSITIVE_INFINITY;
  };
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  let stable = 0;
  let last = '';
  for (;;) {
    const failure = engine.failures[0];
    if (failure !== undefined) throw failure;
    if (until?.() === true) return;
    // a waker changes its target's state before it rings the doorbell: if every thread looks
    // settled and no doorbell moved around the look, no wake-up was in flight during it
    const before = bells();
    const all = threads.every(settled);
    const after = bells();
    stable = all && before === after && after === last ? stable + 1 : all ? 1 : 0;
    last = after;
    if (stable >= STABLE_LOOKS) {
      const f = engine.failures[0];
      if (f !== undefined) throw f;
      return;
    }
    if (performance.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Cases this engine does not pass yet, each with why (what it returns where the sim differs).
 * They run as `it.fails`, so one that starts passing turns the suite red until it is moved out
 * of this list.
 */
const NOT_YET: Readonly<Record<string, string>> = {};

const TIMEOUT_MS = 30_000;

function title(c: ConformanceCase): string {
  return `${c.area}: ${c.name}`;
}

describe('Sys conformance on the threads engine', () => {
  it('lists only cases that exist as not passing yet', () => {
    const names = new Set(SYS_CONFORMANCE.map((c) => c.name));
    expect(Object.keys(NOT_YET).filter((n) => !names.has(n))).toEqual([]);
  });
  it('runs every case of the suite as passing (none not yet)', () => {
    expect(SYS_CONFORMANCE.filter((c) => NOT_YET[c.name] === undefined).length).toBe(
      SYS_CONFORMANCE.length,
    );
  });
  for (const c of SYS_CONFORMANCE) {
    const why = NOT_YET[c.name];
    if (why === undefined) it(title(c), { timeout: TIMEOUT_MS }, () => c.run(threadsEngine));
    else
      it.fails(`${title(c)} — not yet: ${why}`, { timeout: TIMEOUT_MS }, () =>
        c.run(threadsEngine),
      );
  }
});

// Negative control: the same cases can fail on this engine. With the preemption latch switched
// off, every case that needs the latch must fail (the two that expect no latching still pass).
const NEEDS_LATCH = SYS_CONFORMANCE.filter(
  (c) => c.area === 'preemption' && !/without an open window|non-zero timeout/.test(c.name),
);

describe('negative control: the latch cases on the threads engine with the latch off', () => {
  it('covers four cases', () => expect(NEEDS_LATCH.length).toBe(4));
  for (const c of NEEDS_LATCH) {
    it(title(c), { timeout: TIMEOUT_MS }, async () => {
      await expect(c.run(() => threadsEngine(false))).rejects.toMatchObject({
        code: 'CONFORMANCE',
        message: expect.stringMatching(/^preempted\(\)/),
      });
    });
  }
});
