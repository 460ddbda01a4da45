/**
 * A deterministic event queue: a binary min-heap on (time, insertion sequence), so events at the
 * same virtual time run in the order they were scheduled. Cancelled events stay in the heap and
 * are skipped when they reach the top (lazy deletion keeps `cancel` O(1)).
 *
 * @module
 */
import type { Cycles } from '../sys.js';
import type { EventHandle } from './device-host.js';

/** One scheduled event. It is its own {@link EventHandle}. */
export class ScheduledEvent implements EventHandle {
  /** Absolute virtual time at which the event fires. */
  readonly at: Cycles;
  /** Insertion sequence number: the tie-breaker for equal times. */
  readonly seq: number;
  /** The callback; null once fired or cancelled. */
  fn: (() => void) | null;

  /**
   * @param at - absolute firing time
   * @param seq - insertion sequence
   * @param fn - callback
   */
  constructor(at: Cycles, seq: number, fn: () => void) {
    this.at = at;
    this.seq = seq;
    this.fn = fn;
  }

  /** Cancel the event; harmless if it already fired or was cancelled. */
  cancel(): void {
    this.fn = null;
  }
}

/** Binary min-heap of {@link ScheduledEvent}s ordered by (at, seq). */
export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private seq = 0;

  /** Number of entries in the heap, cancelled ones included. */
  get size(): number {
    return this.heap.length;
  }

  /** Schedule `fn` at absolute time `at`. */
  push(at: Cycles, fn: () => void): ScheduledEvent {
    const ev = new ScheduledEvent(at, this.seq++, fn);
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (pe.at < at || (pe.at === at && pe.seq < ev.seq)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = ev;
    return ev;
  }

  /** Time of the earliest live event, or `Infinity` if none. Drops cancelled events from the top. */
  peekTime(): Cycles {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      if (top.fn !== null) return top.at;
      this.popTop();
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Remove and return the earliest live event, or null. */
  pop(): ScheduledEvent | null {
    const h = this.heap;
    while (h.length > 0) {
      const top = this.popTop();
      if (top.fn !== null) return top;
    }
    return null;
  }

  private popTop(): ScheduledEvent {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let ce = h[l]!;
        if (r < n) {
          const re = h[r]!;
          if (re.at < ce.at || (re.at === ce.at && re.seq < ce.seq)) {
            c = r;
            ce = re;
          }
        }
        if (last.at < ce.at || (last.at === ce.at && last.seq < ce.seq)) break;
        h[i] = ce;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
