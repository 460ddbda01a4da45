import type { Clock, Scheduled } from '@udf/netdev';

/**
 * The time source a load client paces itself on (`@udf/netdev`'s `Clock`: times in cycles of
 * `hz`). The sim machine's scheduler satisfies it, so clients run in virtual time on the sim
 * engine and in real time on {@link RealClock}.
 */
export type { Clock, Scheduled };

/** Real time in nanoseconds (`hz` = 1e9) from `process.hrtime`, with `setTimeout` wake-ups. */
export class RealClock implements Clock {
  /** Nanoseconds per second. */
  readonly hz = 1e9;
  readonly #origin = process.hrtime.bigint();

  /** Nanoseconds since this clock was created. */
  now(): number {
    return Number(process.hrtime.bigint() - this.#origin);
  }

  /** Wakes `fn` no earlier than `at` (timer granularity is about a millisecond). */
  schedule(at: number, fn: () => void): Scheduled {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      const waitMs = (at - this.now()) / 1e6;
      timer = setTimeout(() => (this.now() >= at ? fn() : arm()), Math.max(0, Math.ceil(waitMs)));
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  }
}

/**
 * A minimal discrete-event clock: virtual time advances only by running events.
 *
 * @remarks For tests, examples and benchmarks that have no sim machine. Events at the same time
 * run in the order they were scheduled.
 */
export class EventClock implements Clock {
  /** Cycles per second. */
  readonly hz: number;
  #now = 0;
  #seq = 0;
  readonly #heap: { at: number; seq: number; fn: (() => void) | null }[] = [];

  /** @param hz - cycles per second (default 2.66e9, the paper's 2.66 GHz Xeon) */
  constructor(hz = 2.66e9) {
    this.hz = hz;
  }

  /** The current virtual time in cycles. */
  now(): number {
    return this.#now;
  }

  /** Number of events still queued (cancelled ones included until they surface). */
  get pending(): number {
    return this.#heap.length;
  }

  /** Queues `fn` at `at` (clamped to now). */
  schedule(at: number, fn: () => void): Scheduled {
    const ev = { at: Math.max(at, this.#now), seq: this.#seq++, fn: fn as (() => void) | null };
    this.#push(ev);
    return {
      cancel: () => {
        ev.fn = null;
      },
    };
  }

  /** Runs events in time order while `predicate()` is false and events remain. */
  runUntil(predicate: () => boolean, limitEvents = Number.POSITIVE_INFINITY): void {
    let n = 0;
    while (!predicate() && this.#heap.length > 0 && n++ < limitEvents) this.#step();
  }

  /** Runs every event up to and including time `at`, then sets the clock to `at`. */
  runTo(at: number): void {
    while (this.#heap.length > 0 && this.#heap[0]!.at <= at) this.#step();
    if (at > this.#now) this.#now = at;
  }

  /** Runs until no events remain. */
  runUntilIdle(limitEvents = Number.POSITIVE_INFINITY): void {
    this.runUntil(() => false, limitEvents);
  }

  #step(): void {
    const ev = this.#pop();
    this.#now = ev.at;
    ev.fn?.();
  }

  #less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(ev: { at: number; seq: number; fn: (() => void) | null }): void {
    const h = this.#heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): { at: number; seq: number; fn: (() => void) | null } {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
