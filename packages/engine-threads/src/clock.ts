/**
 * Wall time for the threads engine. Every worker reads the same monotonic clock
 * (`performance.timeOrigin + performance.now()`, in milliseconds), so a deadline written by one
 * domain means the same instant in another. Components keep thinking in cycles: a timeout of
 * `c` cycles lasts `c / hz` seconds, and `Sys.now()` is monotonic time × `hz`, so a component's
 * timeouts mean the same seconds on both engines.
 *
 * @module
 */
import { NEVER, type Timeout } from '@udf/l4-kernel';

/** Milliseconds on the clock shared by all workers of the process. */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Converts between the components' cycles and wall milliseconds at a clock rate `hz`. */
export class CycleClock {
  /** Cycles per second. */
  readonly hz: number;
  /** Shared-clock milliseconds at which cycle 0 falls (the engine's start). */
  readonly epochMs: number;
  private readonly cyclesPerMs: number;

  /**
   * @param hz - cycles per second
   * @param epochMs - {@link sharedNowMs} at cycle 0
   */
  constructor(hz: number, epochMs: number) {
    this.hz = hz;
    this.epochMs = epochMs;
    this.cyclesPerMs = hz / 1000;
  }

  /** Cycles since the epoch. */
  now(): number {
    return (sharedNowMs() - this.epochMs) * this.cyclesPerMs;
  }

  /**
   * A timeout in cycles as milliseconds, as the sim kernel reads timeouts: `undefined` and
   * {@link NEVER} are `Infinity`; zero, negative and NaN are the zero timeout.
   */
  timeoutMs(timeout: Timeout | undefined): number {
    if (timeout === undefined || timeout === NEVER) return Number.POSITIVE_INFINITY;
    if (!(timeout > 0)) return 0;
    return timeout / this.cyclesPerMs;
  }
}
