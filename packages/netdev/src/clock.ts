/**
 * The time base a wire model runs on: cycles of a clock of `hz` Hz, and an event scheduler.
 * The sim engine's machine satisfies it structurally; so can a real-time clock.
 *
 * @module
 */

/** A cancellable scheduled event. */
export interface Scheduled {
  /** Cancel the event if it has not run yet. */
  cancel(): void;
}

/** Virtual (or real) time in cycles, and a way to run code at a later time. */
export interface Clock {
  /** Cycles per second. */
  readonly hz: number;
  /** Current time in cycles. */
  now(): number;
  /** Run `fn` at absolute time `at` (cycles); events at equal times run in scheduling order. */
  schedule(at: number, fn: () => void): Scheduled;
}
