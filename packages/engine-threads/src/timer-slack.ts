/**
 * Linux timer slack for the engine's workers. A thread's timed sleeps (`Atomics.wait` with a
 * timeout) may end up to its timer slack late; the default is 50 µs, and a worker inherits the
 * slack of the thread that creates it. The engine creates its workers with a smaller slack so a
 * short timed wait — the device worker waiting for its next NIC event — does not overshoot by
 * tens of microseconds.
 *
 * Source of the default: `pnpm --filter @udf/system bench -- --ab slack:1000` (isolated echo at
 * 2 datagrams in flight, slack 1 µs against the default 50 µs, measured side by side in one run:
 * 1.26× the echoes/s, 0.87× the CPU per echo, median round trip 470 → 383 µs; neutral at 32 in
 * flight).
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Timer slack, in nanoseconds, the engine's workers are created with by default (1 µs). */
export const DEFAULT_WORKER_TIMER_SLACK_NS = 1000;

// The thread group leader's (the main thread's): the engine creates its workers there.
const PATH = '/proc/self/timerslack_ns';

/**
 * Run `create` (which starts threads) with the main thread's timer slack set to `ns`, then
 * restore it. Where the slack cannot be read or set (not Linux, no `/proc`), `create` runs
 * unchanged. `ns` undefined: run `create` unchanged.
 */
export function withTimerSlack<T>(ns: number | undefined, create: () => T): T {
  if (ns === undefined) return create();
  let old: string | null = null;
  try {
    old = readFileSync(PATH, 'utf8').trim();
    writeFileSync(PATH, String(ns));
  } catch {
    old = null;
  }
  try {
    return create();
  } finally {
    if (old !== null) {
      try {
        writeFileSync(PATH, old);
      } catch {
        // restoring is best effort, as setting was
      }
    }
  }
}
