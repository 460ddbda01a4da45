/**
 * The machine as a device model sees it inside the device worker ("hardware"): real time in
 * cycles of the engine's clock, timers on the worker's event loop, the shared physical memory
 * for DMA, and interrupt lines that raise and lower lines of the shared interrupt table.
 *
 * @module
 */
import type {
  Cycles,
  DeviceHost,
  EventHandle,
  InterruptLine,
  PhysicalMemory,
} from '@udf/l4-kernel';
import type { CycleClock } from './clock.js';
import type { InterruptTable } from './interrupts.js';

interface TimerEvent {
  at: Cycles;
  seq: number;
  fn: (() => void) | null;
}

/**
 * A {@link DeviceHost} in real time. Events are kept in time order (ties in scheduling order)
 * and run by {@link RealTimeHost.runDue}, which the device worker calls whenever it wakes; it
 * sleeps no longer than {@link RealTimeHost.nextDelayMs}. An event is late by however long the
 * worker's event loop takes to come round (well under a millisecond when idle).
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
  private queue: TimerEvent[] = [];
  private seq = 0;

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

  /** Current time in cycles. */
  now(): Cycles {
    return this.clock.now();
  }

  /** Run `fn` at time `at` (cycles) or as soon after as the worker gets to it. */
  schedule(at: Cycles, fn: () => void): EventHandle {
    const ev: TimerEvent = { at, seq: this.seq++, fn };
    const q = this.queue;
    let i = q.length;
    while (i > 0 && (q[i - 1]!.at > at || (q[i - 1]!.at === at && q[i - 1]!.seq > ev.seq))) i--;
    q.splice(i, 0, ev);
    return {
      cancel: () => {
        ev.fn = null;
      },
    };
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

  /** Run every event that is due. @returns events run */
  runDue(): number {
    let n = 0;
    const q = this.queue;
    while (q.length > 0 && q[0]!.at <= this.clock.now()) {
      const ev = q.shift()!;
      const fn = ev.fn;
      if (fn === null) continue;
      ev.fn = null;
      n++;
      try {
        fn();
      } catch {
        this.eventErrors++;
      }
    }
    return n;
  }

  /** Milliseconds until the next event (Infinity: none; 0: due now). */
  nextDelayMs(): number {
    const q = this.queue;
    while (q.length > 0 && q[0]!.fn === null) q.shift();
    if (q.length === 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, ((q[0]!.at - this.clock.now()) / this.hz) * 1000);
  }
}
