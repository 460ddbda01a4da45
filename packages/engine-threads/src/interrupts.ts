/**
 * Interrupts on the threads engine: a shared interrupt table (one state word and one handler
 * word per line) and the operations that deliver a line as IPC from its interrupt thread into
 * the handler's control block, without the main thread.
 *
 * Semantics (those of `@udf/l4-kernel`'s `sys.ts` and the sim's `kernel/interrupts.ts`):
 * - `sys.irq.attach(line)` makes the caller the line's handler and returns the line's interrupt
 *   thread id; an interrupt arrives as a message from that thread with label
 *   {@link INTERRUPT_LABEL} and the line number as its one word.
 * - A delivered line stays masked until the handler replies to the interrupt thread (a `reply`,
 *   `replyWait` or `call` to it); the reply unmasks it and, if the line is still asserted
 *   (level-triggered), delivers it again.
 * - A reply to an interrupt thread from a thread that is not its handler, or with no interrupt
 *   delivered and unacknowledged, fails with a send-phase `timeout` (X.2, as the sim).
 * - If the handler is not receiving, the interrupt thread waits in the handler's sender queue
 *   (state `queued`) and the handler's next receive from it or from any thread takes it.
 *
 * Concurrency: the asserted bit is flipped by any thread (device worker, main thread) with a
 * CAS; every other transition of a line (masked, queued, delivered, handler) happens under the
 * interrupt thread's control-block lock, which delivery also holds together with the handler's
 * (locks in id order, as every IPC). So a raise racing an acknowledgement delivers exactly once:
 * whichever of the two takes the lock second sees the other's effect.
 *
 * @module
 */
import {
  ANY_THREAD,
  INTERRUPT_LABEL,
  type IpcResult,
  NIL_THREAD,
  type ThreadId,
} from '@udf/l4-kernel';
import { type ControlBlocks, ResultCode, ThreadState } from './control-blocks.js';
import { ThreadsEngineError } from './errors.js';

/** Line state bit: a device asserts the line (level-triggered). */
export const IRQ_ASSERTED = 1;
/** Line state bit: masked (delivered or queued, and not yet acknowledged by the handler). */
export const IRQ_MASKED = 2;
/** Line state bit: the interrupt thread waits in the handler's sender queue. */
export const IRQ_QUEUED = 4;
/** Line state bit: the handler has received the interrupt and not replied yet. */
export const IRQ_DELIVERED = 8;

/** Most interrupt lines a table can have (the sim machine's range, 0–255). */
export const MAX_IRQ_LINES = 256;

const MAGIC = 0x55444649; // "UDFI"
const HEADER_WORDS = 16;
// header words
const H_MAGIC = 0;
const H_LINES = 1;
const H_BASE = 2;
const H_SPURIOUS = 3;
const H_DELIVERED = 4;
const H_RAISED = 5;
// per line: state, handler
const LINE_WORDS = 2;

/** Bytes of an interrupt table with `lines` lines. */
export function interruptTableBytes(lines: number): number {
  return (HEADER_WORDS + lines * LINE_WORDS) * 4;
}

/** Result of `sys.irq.attach` on this engine (the `Sys` contract's shape). */
export type AttachResult = { ok: true; irqThread: ThreadId } | { ok: false; error: string };

/** Counters kept in the shared table (all workers add to them). */
export interface InterruptCounters {
  /** Raises of an unmasked line with no handler (dropped, as the sim). */
  readonly spurious: number;
  /** Interrupt messages handed to a handler. */
  readonly delivered: number;
  /** Low-to-high transitions of any line. */
  readonly raised: number;
}

const EMPTY: readonly number[] = Object.freeze([]);

/**
 * The interrupt table plus the delivery operations over the control blocks. Every worker that
 * raises lines or runs handlers builds one over the same two shared buffers.
 */
export class InterruptTable {
  /** The shared table. */
  readonly buffer: SharedArrayBuffer;
  /** Number of lines (0 .. lines - 1). */
  readonly lines: number;
  /** Thread id of line 0's interrupt thread; line `n`'s is `base + n`. */
  readonly base: ThreadId;
  private readonly i32: Int32Array;
  private readonly blocks: ControlBlocks;
  private readonly words: number[] = [0];

  /**
   * Attach to a table; with `init`, lay it out (the engine does this once).
   *
   * @throws {@link ThreadsEngineError} `LAYOUT` if the buffer is not a table or too small
   */
  constructor(
    blocks: ControlBlocks,
    buffer: SharedArrayBuffer,
    init?: { readonly lines: number; readonly base: ThreadId },
  ) {
    this.blocks = blocks;
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    if (init !== undefined) {
      if (buffer.byteLength < interruptTableBytes(init.lines)) {
        throw new ThreadsEngineError('LAYOUT', 'interrupt table too small');
      }
      this.i32[H_MAGIC] = MAGIC;
      this.i32[H_LINES] = init.lines;
      this.i32[H_BASE] = init.base;
    } else if (this.i32[H_MAGIC] !== MAGIC) {
      throw new ThreadsEngineError('LAYOUT', 'not an interrupt table');
    }
    this.lines = this.i32[H_LINES]!;
    this.base = this.i32[H_BASE]!;
  }

  /** Whether `id` is an interrupt thread. */
  isIrqThread(id: ThreadId): boolean {
    return id >= this.base && id < this.base + this.lines;
  }

  /** The interrupt thread of `line`. */
  threadOf(line: number): ThreadId {
    return this.base + line;
  }

  /** A line's state word ({@link IRQ_ASSERTED} | {@link IRQ_MASKED} | ...). */
  state(line: number): number {
    return Atomics.load(this.i32, this.stateIndex(line));
  }

  /** A line's handler thread (0: none). */
  handler(line: number): ThreadId {
    return Atomics.load(this.i32, this.stateIndex(line) + 1);
  }

  /** Counters summed over every worker. */
  get counters(): InterruptCounters {
    return {
      spurious: Atomics.load(this.i32, H_SPURIOUS),
      delivered: Atomics.load(this.i32, H_DELIVERED),
      raised: Atomics.load(this.i32, H_RAISED),
    };
  }

  private stateIndex(line: number): number {
    return HEADER_WORDS + line * LINE_WORDS;
  }

  private validLine(line: number): boolean {
    return Number.isInteger(line) && line >= 0 && line < this.lines;
  }

  /** Assert `line` (a device's `InterruptLine.raise`); delivers it if unmasked. Bad lines are ignored. */
  raise(line: number): void {
    if (!this.validLine(line)) return;
    const w = this.stateIndex(line);
    for (;;) {
      const s = Atomics.load(this.i32, w);
      if ((s & IRQ_ASSERTED) !== 0) return; // level: already asserted
      if (Atomics.compareExchange(this.i32, w, s, s | IRQ_ASSERTED) === s) {
        Atomics.add(this.i32, H_RAISED, 1);
        if ((s & IRQ_MASKED) === 0) this.deliver(line);
        return;
      }
    }
  }

  /** De-assert `line`. An interrupt already queued or delivered stays so. */
  lower(line: number): void {
    if (!this.validLine(line)) return;
    Atomics.and(this.i32, this.stateIndex(line), ~IRQ_ASSERTED);
  }

  /**
   * Deliver `line` if it is asserted, unmasked and has a handler: straight into the handler's
   * control block if it is receiving from the interrupt thread or from any thread, else into
   * its sender queue.
   */
  private deliver(line: number): void {
    const b = this.blocks;
    const it = this.threadOf(line);
    const w = this.stateIndex(line);
    const i32 = this.i32;
    // the handler can change only under `it`'s lock: read, lock both, re-check
    for (;;) {
      const h = Atomics.load(i32, w + 1);
      if (h === NIL_THREAD) {
        b.lock(it);
        const again = Atomics.load(i32, w + 1);
        const s = Atomics.load(i32, w);
        b.unlock(it);
        if (again !== NIL_THREAD) continue;
        if ((s & (IRQ_ASSERTED | IRQ_MASKED)) === IRQ_ASSERTED) Atomics.add(i32, H_SPURIOUS, 1);
        return;
      }
      b.lock2(it, h);
      if (Atomics.load(i32, w + 1) !== h) {
        b.unlock2(it, h);
        continue;
      }
      const s = Atomics.load(i32, w);
      if ((s & (IRQ_ASSERTED | IRQ_MASKED)) !== IRQ_ASSERTED) {
        b.unlock2(it, h);
        return;
      }
      const hs = b.state(h);
      if (hs === ThreadState.Dead) {
        // the handler is gone: drop its claim, leave the line unmasked and pending
        Atomics.store(i32, w + 1, NIL_THREAD);
        Atomics.add(i32, H_SPURIOUS, 1);
        b.unlock2(it, h);
        return;
      }
      this.words[0] = line;
      if (hs === ThreadState.ReceiveBlocked) {
        const p = b.partner(h);
        if (p === ANY_THREAD || p === it) {
          Atomics.or(i32, w, IRQ_MASKED | IRQ_DELIVERED);
          b.writeMessage(h, INTERRUPT_LABEL, this.words);
          b.complete(h, ResultCode.ok, it);
          Atomics.add(i32, H_DELIVERED, 1);
          b.unlock2(it, h);
          b.ring(b.domainOf(h));
          return;
        }
      }
      Atomics.or(i32, w, IRQ_MASKED | IRQ_QUEUED);
      b.writeMessage(it, INTERRUPT_LABEL, this.words);
      b.setPartner(it, h);
      b.enqueueSender(h, it);
      b.setState(it, ThreadState.SendBlocked);
      b.unlock2(it, h);
      return;
    }
  }

  /**
   * The handler took the queued interrupt of interrupt thread `it` from its sender queue (both
   * locks held, `it` already dequeued and its message copied): mark it delivered.
   */
  taken(it: ThreadId): void {
    const w = this.stateIndex(it - this.base);
    Atomics.and(this.i32, w, ~IRQ_QUEUED);
    Atomics.or(this.i32, w, IRQ_DELIVERED);
    Atomics.add(this.i32, H_DELIVERED, 1);
    this.blocks.setState(it, ThreadState.Running);
  }

  /**
   * A send from `self` to interrupt thread `it` (the handler's reply): acknowledge, unmask, and
   * redeliver if the line is still asserted. A send-phase `timeout` unless `self` is the
   * handler and the interrupt is delivered and unacknowledged.
   */
  acknowledge(self: ThreadId, it: ThreadId): IpcResult {
    const b = this.blocks;
    const line = it - this.base;
    const w = this.stateIndex(line);
    b.lock2(it, self);
    const s = Atomics.load(this.i32, w);
    if (Atomics.load(this.i32, w + 1) !== self || (s & IRQ_DELIVERED) === 0) {
      b.unlock2(it, self);
      return { ok: false, error: 'timeout', phase: 'send', from: it };
    }
    Atomics.and(this.i32, w, ~(IRQ_DELIVERED | IRQ_MASKED));
    b.unlock2(it, self);
    if ((Atomics.load(this.i32, w) & IRQ_ASSERTED) !== 0) this.deliver(line);
    return { ok: true, from: it, msg: { label: 0, words: EMPTY } };
  }

  /** `sys.irq.attach(line)` by thread `self`. */
  attach(self: ThreadId, line: number): AttachResult {
    if (!this.validLine(line)) return { ok: false, error: 'invalid-line' };
    const b = this.blocks;
    const it = this.threadOf(line);
    const w = this.stateIndex(line);
    b.lock(it);
    const h = Atomics.load(this.i32, w + 1);
    if (h !== NIL_THREAD && h !== self && b.state(h) !== ThreadState.Dead) {
      b.unlock(it);
      return { ok: false, error: 'busy' };
    }
    Atomics.store(this.i32, w + 1, self);
    const s = Atomics.load(this.i32, w);
    // a line left masked by an earlier handler that never acknowledged is unmasked
    if ((s & IRQ_MASKED) !== 0 && (s & (IRQ_QUEUED | IRQ_DELIVERED)) === 0) {
      Atomics.and(this.i32, w, ~IRQ_MASKED);
    }
    b.unlock(it);
    this.deliver(line);
    return { ok: true, irqThread: it };
  }

  /** `sys.irq.detach(line)` by thread `self`: a queued interrupt is withdrawn. */
  detach(self: ThreadId, line: number): void {
    if (!this.validLine(line)) return;
    const b = this.blocks;
    const it = this.threadOf(line);
    const w = this.stateIndex(line);
    b.lock2(it, self);
    if (Atomics.load(this.i32, w + 1) === self) {
      if ((Atomics.load(this.i32, w) & IRQ_QUEUED) !== 0) {
        b.dequeueSender(self, it);
        b.setState(it, ThreadState.Running);
      }
      Atomics.and(this.i32, w, ~(IRQ_QUEUED | IRQ_DELIVERED));
      Atomics.store(this.i32, w + 1, NIL_THREAD);
    }
    b.unlock2(it, self);
  }

  /**
   * Thread `id` died: every line it handles loses its handler; a queued interrupt is withdrawn
   * and a delivered one forgotten, so the line is unmasked (and waits, if still asserted, for
   * the next handler to attach).
   */
  forgetHandler(id: ThreadId): void {
    const b = this.blocks;
    for (let line = 0; line < this.lines; line++) {
      const w = this.stateIndex(line);
      if (Atomics.load(this.i32, w + 1) !== id) continue;
      const it = this.threadOf(line);
      b.lock2(it, id);
      if (Atomics.load(this.i32, w + 1) === id) {
        if ((Atomics.load(this.i32, w) & IRQ_QUEUED) !== 0) {
          b.dequeueSender(id, it);
          b.setState(it, ThreadState.Running);
        }
        Atomics.and(this.i32, w, ~(IRQ_QUEUED | IRQ_DELIVERED | IRQ_MASKED));
        Atomics.store(this.i32, w + 1, NIL_THREAD);
      }
      b.unlock2(it, id);
    }
  }
}
