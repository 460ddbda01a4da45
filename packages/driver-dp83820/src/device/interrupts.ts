/**
 * Interrupt logic of the DP83820: ISR, IMR, IER and the IHR hold-off timer.
 *
 * Semantics implemented (the datasheet describes IHR as a hold-off in 100 µs units; gem5's model
 * omits it, and the paper's 0 µs vs 100 µs results depend on it):
 *
 * - A cause sets its bit in ISR (`ISR |= cause`), whether or not it is masked.
 * - The interrupt is *pending* when `ISR & IMR` is non-zero and IER.IE is set.
 * - IHR = 0: the line is raised as soon as an interrupt is pending.
 * - IHR = n > 0: the first cause that makes an interrupt pending while the line is low and no
 *   timer runs *arms* a timer of n × 100 µs. Further causes coalesce into it. When it fires, the
 *   line is raised if an interrupt is still pending (nothing happens if the driver has polled ISR
 *   empty meanwhile). The timer is not restarted by later causes, so the first event of a burst
 *   is delayed by at most n × 100 µs.
 * - Reading ISR returns it and clears it (clear-on-read), which lowers the line. ISR's bits live
 *   in a `StatusWord`: the host's, if it offers one (the threads engine: a word of shared memory
 *   the driver reads and clears directly, lowering the line with it; the device learns of the
 *   read later, `afterRead`, and raises the line again for causes posted since), else a plain
 *   field. Causes posted between such a read and `afterRead` raise the line (or arm the hold-off
 *   timer) at `afterRead`, not at once: later by the time the device takes to learn of the read.
 * - Writing IMR or IER re-evaluates: the line is lowered if nothing is pending any more, and a
 *   newly pending interrupt is raised (IHR = 0) or arms the timer (IHR > 0).
 * - Writing IHR = 0 while a timer runs cancels it and raises at once if pending. IHCTL (bit 8) is
 *   stored and read back but does not change these semantics.
 *
 * @module
 */
import {
  type DeviceHost,
  type EventHandle,
  type InterruptLine,
  localStatusWord,
  type StatusWord,
} from '@udf/l4-kernel';
import { IER_IE, IHR, IHR_UNIT_SECONDS } from './registers.js';

/** ISR/IMR/IER/IHR and the interrupt line of one device. */
export class InterruptLogic {
  /** Where ISR's bits live (the host's shared word, or a plain field). */
  readonly status: StatusWord;
  /** Mask (IMR). */
  imr = 0;
  /** Enable (IER). */
  ier = 0;
  /** Hold-off register (IHR). */
  ihr = 0;
  /** Times the line was raised. */
  raises = 0;
  private lineUp = false;
  private timer: EventHandle | null = null;
  private readonly host: Pick<DeviceHost, 'hz' | 'now' | 'schedule'>;
  private readonly line: InterruptLine;
  private readonly counters: { interrupts: number };
  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.pending()) this.raise();
  };

  /**
   * @param host - clock and scheduler
   * @param line - the interrupt line this device drives
   * @param counters - where to count line raises (`interrupts` field)
   * @param status - where ISR's bits live (default a plain field)
   */
  constructor(
    host: Pick<DeviceHost, 'hz' | 'now' | 'schedule'>,
    line: InterruptLine,
    counters?: { interrupts: number },
    status?: StatusWord,
  ) {
    this.host = host;
    this.line = line;
    this.counters = counters ?? { interrupts: 0 };
    this.status = status ?? localStatusWord();
  }

  /** Pending causes (ISR), without clearing them. */
  get isr(): number {
    return this.status.load();
  }

  /** True when the line is asserted. */
  get asserted(): boolean {
    return this.lineUp;
  }

  /** Set cause bits in ISR and update the line. */
  post(cause: number): void {
    this.status.or(cause);
    this.update();
  }

  /** Read ISR: returns the causes and clears them, lowering the line. */
  readIsr(): number {
    const v = this.status.take();
    this.update();
    return v;
  }

  /**
   * A CPU read and cleared ISR in its status word, without the device, and the host lowered the
   * line with the read: the line is low now; causes posted since the read raise it again (or
   * arm the hold-off timer), as they would have after an ordinary read.
   */
  afterRead(): void {
    this.lineUp = false;
    this.update();
  }

  /** Write IMR. */
  writeImr(v: number): void {
    this.imr = v >>> 0;
    this.update();
  }

  /** Write IER. */
  writeIer(v: number): void {
    this.ier = v >>> 0;
    this.update();
  }

  /** Write IHR. */
  writeIhr(v: number): void {
    this.ihr = v & (IHR.HOLDOFF_MASK | IHR.HOLDCTL);
    if (this.holdoffCycles() === 0 && this.timer) {
      this.timer.cancel();
      this.timer = null;
    }
    this.update();
  }

  /** Back to the reset state: everything clear, line low, timer cancelled. */
  reset(): void {
    this.timer?.cancel();
    this.timer = null;
    this.status.store(0);
    this.imr = 0;
    this.ier = 0;
    this.ihr = 0;
    this.update();
  }

  /** The hold-off time in CPU cycles. */
  holdoffCycles(): number {
    return Math.round((this.ihr & IHR.HOLDOFF_MASK) * IHR_UNIT_SECONDS * this.host.hz);
  }

  private pending(): boolean {
    return (this.status.load() & this.imr) !== 0 && (this.ier & IER_IE) !== 0;
  }

  private update(): void {
    if (!this.pending()) {
      if (this.lineUp) {
        this.lineUp = false;
        this.line.lower();
      }
      return;
    }
    if (this.lineUp || this.timer) return;
    const hold = this.holdoffCycles();
    if (hold === 0) this.raise();
    else this.timer = this.host.schedule(this.host.now() + hold, this.onTimer);
  }

  private raise(): void {
    this.lineUp = true;
    this.raises++;
    this.counters.interrupts++;
    this.line.raise();
  }
}
