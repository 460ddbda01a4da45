/**
 * The machine as a device model sees it inside the device worker ("hardware"): real time in
 * cycles of the engine's clock, timers on the worker's event loop, the shared physical memory
 * for DMA, and interrupt lines that raise and lower lines of the shared interrupt table.
 *
 * @module
 */
import {
  type Cycles,
  type DeviceHost,
  type EventHandle,
  EventQueue,
  type InterruptLine,
  type PhysicalMemory,
} from '@udf/l4-kernel';
import type { CycleClock } from './clock.js';
import type { InterruptTable } from './interrupts.js';

/**
 * A {@link DeviceHost} in real time. Events are kept in time order (ties in scheduling order)
 * and run by {@link RealTimeHost.runDue}, which the device worker calls whenever it wakes; it
 * sleeps no longer than {@link RealTimeHost.nextDelayMs}. An event never runs before its time
 * and is late by however long the worker takes to wake.
 *
 * **Device time.** While an event runs, {@link RealTimeHost.now} is the time the event was due
 * (or the latest time the model has already seen, if that is later), not the wall clock: a
 * model that chains steps (a DMA burst done, the next one `now() + burst` later) keeps its
 * exact timing however late the worker woke, and every step of the chain that has come due by
 * the wall clock runs in the same {@link RealTimeHost.runDue}. Outside events (register
 * accesses, frames from the wire) `now()` is the wall clock. Device time never goes backwards.
 */
export class RealTimeHost implements DeviceHost {
  /** Clock rate in Hz. */
  readonly hz: number;
  /** Physical memory for DMA. */
  readonly memory: PhysicalMemory;
  /** Device-model exceptions caught while running events (a model bug; counted, not rethrown). */
  eventErrors = 0;
  private readonly clock: CycleClock;
  private readonly irqTable: InterruptTable | null;
  private readonly lines = new Map<number, InterruptLine>();
  /** Pending events by (time, scheduling order): the sim's own queue. */
  private readonly queue = new EventQueue();
  /** Latest time `now()` has returned (device time never goes backwards). */
  private seen = 0;
  /** Due time of the event running now; -1 outside events. */
  private running = -1;

  /**
   * @param clock - the engine's cycle clock
   * @param memory - the physical memory
   * @param irqTable - the shared interrupt table (null: lines go nowhere)
   */
  constructor(clock: CycleClock, memory: PhysicalMemory, irqTable: InterruptTable | null) {
    this.hz = clock.hz;
    this.clock = clock;
    this.memory = memory;
    this.irqTable = irqTable;
  }

  /** Current time in cycles: the wall clock, or inside an event the time it was due. */
  now(): Cycles {
    if (this.running >= 0) return this.running;
    const t = this.clock.now();
    if (t > this.seen) this.seen = t;
    return this.seen;
  }

  /** Run `fn` at time `at` (cycles) or as soon after as the worker gets to it. */
  schedule(at: Cycles, fn: () => void): EventHandle {
    return this.queue.push(at, fn);
  }

  /** Interrupt line `line` of the shared table. */
  irq(line: number): InterruptLine {
    let l = this.lines.get(line);
    if (l === undefined) {
      const t = this.irqTable;
      l = {
        number: line,
        raise: () => t?.raise(line),
        lower: () => t?.lower(line),
      };
      this.lines.set(line, l);
    }
    return l;
  }

  /**
   * Run every event due by the wall clock now, in time order, each in its own device time —
   * including events those events schedule, when they too are due by then. @returns events run
   */
  runDue(): number {
    let n = 0;
    const q = this.queue;
    const wall = this.clock.now();
    while (q.peekTime() <= wall) {
      const ev = q.pop()!;
      const fn = ev.fn!;
      ev.fn = null;
      n++;
      if (ev.at > this.seen) this.seen = ev.at;
      this.running = this.seen;
      try {
        fn();
      } catch {
        this.eventErrors++;
      } finally {
        this.running = -1;
      }
    }
    return n;
  }

  /** Milliseconds until the next event (Infinity: none; 0: due now). */
  nextDelayMs(): number {
    const at = this.queue.peekTime();
    if (at === Number.POSITIVE_INFINITY) return at;
    return Math.max(0, ((at - this.clock.now()) / this.hz) * 1000);
  }
}
