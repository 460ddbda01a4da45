/**
 * The IPC fast path: L4 X.2 send / receive / call over the shared control blocks, executed in
 * the caller's own worker. No main-thread involvement: a delivery writes the receiver's block
 * under the locks of both partners and rings the receiver's domain doorbell last.
 *
 * Invariants (all under the block locks, taken in id order):
 * - A thread is queued on `r`'s sender queue iff it is `SendBlocked` with partner `r`.
 * - A sender delivers only to a receiver that is `ReceiveBlocked` from it or from any thread.
 * - `call` puts the caller into `ReceiveBlocked` from its partner in the same locked section as
 *   the delivery (or, if it had to queue, the receiver does so when it takes the message), so
 *   the reply can never find the caller not yet waiting.
 * - Nobody starts waiting on a `Dead` thread: liveness is checked under the partner's lock, and
 *   {@link IpcPath.kill} marks the thread dead under its lock before it fails the waiters.
 *
 * @module
 */
import {
  ANY_THREAD,
  type Fpage,
  type IpcErrorCode,
  type IpcResult,
  MAX_MESSAGE_WORDS,
  type MapGrantItem,
  type Message,
  NIL_THREAD,
  type ThreadId,
} from '@udf/l4-kernel';
import { sharedNowMs } from './clock.js';
import {
  type ControlBlocks,
  FLAG_CALL,
  FLAG_ITEM_SENDER,
  FLAG_MISSED,
  FLAG_OVERFLOW,
  FLAG_SLEEPING,
  FLAG_WINDOW,
  RESULT_RECEIVE_PHASE,
  ResultCode,
  ThreadState,
} from './control-blocks.js';
import type { InterruptTable } from './interrupts.js';
import type { SlowPath } from './kernel-link.js';

/** Returned by an operation that left the caller blocked; its domain resumes it later. */
export const BLOCKED: unique symbol = Symbol('blocked');
/** {@link BLOCKED}'s type. */
export type Blocked = typeof BLOCKED;

const EMPTY_WORDS: readonly number[] = Object.freeze([]);
/** The message a successful send resumes with. */
export const EMPTY_MESSAGE: Message = Object.freeze({ label: 0, words: EMPTY_WORDS });

const ERROR_BY_CODE: IpcErrorCode[] = [];
for (const [name, code] of Object.entries(ResultCode)) {
  if (code !== 0) ERROR_BY_CODE[code] = name as IpcErrorCode;
}

/** Counters of an {@link IpcPath} (per worker). */
export interface IpcCounters {
  /** Messages delivered by this worker's threads (either direction of the queue). */
  messages: number;
  /** Zero-timeout sends that latched MISSED on a target inside its preemption window. */
  latched: number;
  /** Zero-timeout sends that failed because the target was not receiving. */
  missedSends: number;
}

/** A failed IPC result. */
export function ipcError(
  error: IpcErrorCode,
  phase: 'send' | 'receive',
  from: ThreadId,
): IpcResult {
  return { ok: false, error, phase, from };
}

/** The fast-path IPC operations over a kernel region. */
export class IpcPath {
  /** The control blocks operated on. */
  readonly blocks: ControlBlocks;
  /** Whether zero-timeout sends latch MISSED on a windowed target (off only for negative controls). */
  readonly latch: boolean;
  /** Counters of this worker. */
  readonly counters: IpcCounters = { messages: 0, latched: 0, missedSends: 0 };

  /** The interrupt table (null: the system has no interrupt lines). */
  readonly irq: InterruptTable | null;

  /**
   * The kernel slow path that transfers map/grant items (null: none, so a message with items
   * fails with `message-overflow` as if the receiver had no window).
   */
  slow: SlowPath | null = null;

  /**
   * @param blocks - the shared control blocks
   * @param latch - enable the preemption latch (default true)
   * @param irq - the interrupt table, if the system has interrupt lines
   */
  constructor(blocks: ControlBlocks, latch = true, irq: InterruptTable | null = null) {
    this.blocks = blocks;
    this.latch = latch;
    this.irq = irq;
  }

  /**
   * Send `label`/`words` (and map/grant `items`) from `self` to `to`. With `call`, a
   * successful delivery leaves `self` receive-blocked on `to` with `recvTimeoutMs` and the
   * receive window `window`. `timeoutMs`: 0 fails at once if `to` is not waiting; `Infinity`
   * never expires. A message of more words (items count two) than the message registers hold
   * overflows at transfer time, as in X.2: both partners get `message-overflow` (the sender in
   * its send phase, the receiver in its receive phase) when they meet, whichever came first.
   */
  send(
    self: ThreadId,
    to: ThreadId,
    label: number,
    words: readonly number[],
    timeoutMs: number,
    call: boolean,
    recvTimeoutMs: number,
    items?: readonly MapGrantItem[],
    window?: Fpage,
  ): IpcResult | Blocked {
    const b = this.blocks;
    if (!b.isThread(to) || to === self) return ipcError('non-existing-partner', 'send', to);
    const irq = this.irq;
    if (irq?.isIrqThread(to)) {
      // a send to an interrupt thread is its handler's acknowledgement (never blocks)
      const r = irq.acknowledge(self, to);
      if (!r.ok || !call) return r;
      if (recvTimeoutMs === 0) return ipcError('timeout', 'receive', to);
      return this.receive(self, to, recvTimeoutMs, false, window);
    }
    const overflow =
      words.length + (items === undefined ? 0 : 2 * items.length) > MAX_MESSAGE_WORDS;
    b.lock2(self, to);
    b.setWindow(self, window);
    const st = b.state(to);
    if (st === ThreadState.Dead) {
      b.unlock2(self, to);
      return ipcError('non-existing-partner', 'send', to);
    }
    if (st === ThreadState.ReceiveBlocked) {
      const p = b.partner(to);
      if (p === ANY_THREAD || p === self) {
        if (overflow) return this.failBoth(self, to);
        if (items !== undefined && items.length > 0) {
          return this.deliverItems(self, to, label, words, items, call, recvTimeoutMs);
        }
        b.writeMessage(to, label, words);
        // a zero receive timeout cannot wait for the reply (L4: the receive phase fails at once)
        const wait = call && recvTimeoutMs !== 0;
        if (wait) this.enterReceive(self, to, sharedNowMs() + recvTimeoutMs);
        b.complete(to, ResultCode.ok, self);
        b.unlock2(self, to);
        b.ring(b.domainOf(to));
        this.counters.messages++;
        if (wait) return BLOCKED;
        return call
          ? ipcError('timeout', 'receive', to)
          : { ok: true, from: to, msg: EMPTY_MESSAGE };
      }
    }
    if (timeoutMs === 0) {
      this.counters.missedSends++;
      if (this.latch && (b.flags(to) & FLAG_WINDOW) !== 0) {
        b.setFlags(to, FLAG_MISSED);
        this.counters.latched++;
      }
      b.unlock2(self, to);
      return ipcError('timeout', 'send', to);
    }
    if (overflow) {
      // the words do not fit the registers: none are kept; the receiver that takes this
      // sender reports the overflow to both (FLAG_OVERFLOW is clear while not send-blocked)
      b.writeMessage(self, label, EMPTY_WORDS);
      b.setFlags(self, FLAG_OVERFLOW);
    } else b.writeMessage(self, label, words, items);
    b.setPartner(self, to);
    if (call) b.setFlags(self, FLAG_CALL);
    else b.clearFlags(self, FLAG_CALL);
    b.setReceiveTimeout(self, recvTimeoutMs);
    b.setDeadline(self, sharedNowMs() + timeoutMs);
    b.enqueueSender(to, self);
    b.setState(self, ThreadState.SendBlocked);
    b.unlock2(self, to);
    return BLOCKED;
  }

  /**
   * Deliver a message with map/grant items to `to`, which is receive-blocked from `self` or
   * from any thread (both locks held on entry, none on return). The receiver is held in
   * {@link ThreadState.Transferring} while the kernel (main thread) transfers the items with
   * no lock held, then completed: the items are in place before its receive returns.
   */
  private deliverItems(
    self: ThreadId,
    to: ThreadId,
    label: number,
    words: readonly number[],
    items: readonly MapGrantItem[],
    call: boolean,
    recvTimeoutMs: number,
  ): IpcResult | Blocked {
    const b = this.blocks;
    const log2 = b.windowLog2(to);
    const slow = this.slow;
    // X.2: items sent to a receiver that accepts none fail the IPC on both sides
    if (log2 === 0 || slow === null) return this.failBoth(self, to);
    const base = b.windowBase(to);
    b.writeMessage(to, label, words, items);
    b.setPartner(to, self); // the deliverer, should its worker die mid-transfer (failTransfers)
    b.clearFlags(to, FLAG_ITEM_SENDER);
    b.setState(to, ThreadState.Transferring);
    b.setDeadline(to, Number.POSITIVE_INFINITY);
    b.unlock2(self, to);
    slow.transfer(self, to, items, base, log2);
    const wait = call && recvTimeoutMs !== 0;
    b.lock2(self, to);
    const alive = b.state(to) === ThreadState.Transferring;
    if (alive) b.complete(to, ResultCode.ok, self);
    if (wait && alive) this.enterReceive(self, to, sharedNowMs() + recvTimeoutMs);
    b.unlock2(self, to);
    b.ring(b.domainOf(to));
    this.counters.messages++;
    if (!alive) return ipcError('non-existing-partner', call ? 'receive' : 'send', to);
    if (wait) return BLOCKED;
    return call ? ipcError('timeout', 'receive', to) : { ok: true, from: to, msg: EMPTY_MESSAGE };
  }

  /**
   * X.2 transfer error (message overflow) between sender `self` and `to`, which is
   * receive-blocked from it or from any thread (both locks held on entry, none on return): the
   * receiver wakes with `message-overflow` in its receive phase, the sender gets it in its send
   * phase (a call does not go on to receive).
   */
  private failBoth(self: ThreadId, to: ThreadId): IpcResult {
    const b = this.blocks;
    b.complete(to, ResultCode['message-overflow'] | RESULT_RECEIVE_PHASE, self);
    b.unlock2(self, to);
    b.ring(b.domainOf(to));
    return ipcError('message-overflow', 'send', to);
  }

  /**
   * Take the message of queued sender `s`, which carries map/grant items (locks of `self` and
   * `other` held on entry, none on return; `s` already dequeued). The sender is held in
   * {@link ThreadState.Transferring} while the kernel transfers the items, then completed.
   */
  private takeItems(
    self: ThreadId,
    s: ThreadId,
    other: ThreadId,
    window: Fpage | undefined,
  ): IpcResult {
    const b = this.blocks;
    const slow = this.slow;
    if (window === undefined || slow === null) {
      b.clearFlags(s, FLAG_CALL);
      b.complete(s, ResultCode['message-overflow'], self);
      this.release(self, other);
      b.ring(b.domainOf(s));
      return ipcError('message-overflow', 'receive', s);
    }
    b.copyMessage(s, self);
    const items = b.readItems(self);
    const msg: Message = { label: b.label(self), words: b.readWords(self), items };
    b.setFlags(s, FLAG_ITEM_SENDER); // (its partner is already `self`, the deliverer)
    b.setState(s, ThreadState.Transferring);
    b.setDeadline(s, Number.POSITIVE_INFINITY);
    this.release(self, other);
    slow.transfer(s, self, items, window.base, window.sizeLog2);
    b.lock(s);
    if (b.state(s) === ThreadState.Transferring) {
      b.clearFlags(s, FLAG_ITEM_SENDER);
      if ((b.flags(s) & FLAG_CALL) !== 0) {
        const wait = b.receiveTimeout(s);
        if (wait !== 0) this.enterReceive(s, self, sharedNowMs() + wait);
        else {
          b.clearFlags(s, FLAG_CALL);
          b.complete(s, ResultCode.timeout | RESULT_RECEIVE_PHASE, self);
        }
      } else {
        b.writeMessage(s, 0, EMPTY_WORDS);
        b.complete(s, ResultCode.ok, self);
      }
    }
    b.unlock(s);
    b.ring(b.domainOf(s));
    this.counters.messages++;
    return { ok: true, from: s, msg };
  }

  /** `self` waits for a message from `from` (lock of `self` held). */
  private enterReceive(self: ThreadId, from: ThreadId, deadlineMs: number): void {
    const b = this.blocks;
    b.setPartner(self, from);
    b.clearFlags(self, FLAG_CALL | FLAG_SLEEPING);
    b.setDeadline(self, deadlineMs);
    b.setState(self, ThreadState.ReceiveBlocked);
  }

  /**
   * Receive from `from` (a thread or {@link ANY_THREAD}). With `checkLatch`, a thread whose
   * preemption window is open and MISSED is latched gets `aborted` instead — checked in the same
   * locked section that would block it, so a wake-up cannot slip between check and block.
   */
  receive(
    self: ThreadId,
    from: ThreadId,
    timeoutMs: number,
    checkLatch: boolean,
    window?: Fpage,
  ): IpcResult | Blocked {
    const b = this.blocks;
    // From nil: nobody can send, so this only waits for the timeout (L4's sleep idiom).
    const named = from !== ANY_THREAD && from !== NIL_THREAD;
    if (named && (!b.isThread(from) || from === self)) {
      return ipcError('non-existing-partner', 'receive', from);
    }
    // `other`: a second block whose lock this attempt holds (the named partner, or a sender
    // found in the queue on an earlier attempt).
    let other = named ? from : NIL_THREAD;
    for (;;) {
      if (other === NIL_THREAD) b.lock(self);
      else b.lock2(self, other);
      const f = b.flags(self);
      if (checkLatch && (f & (FLAG_WINDOW | FLAG_MISSED)) === (FLAG_WINDOW | FLAG_MISSED)) {
        this.release(self, other);
        return ipcError('aborted', 'receive', from);
      }
      if (named && b.state(from) === ThreadState.Dead) {
        this.release(self, other);
        return ipcError('non-existing-partner', 'receive', from);
      }
      let s = from === NIL_THREAD ? NIL_THREAD : b.firstSender(self);
      if (named) while (s !== NIL_THREAD && s !== from) s = b.nextSender(s);
      if (s !== NIL_THREAD && s !== other) {
        if (other === NIL_THREAD && s > self) {
          b.lock(s);
          other = s;
        } else {
          this.release(self, other);
          other = s;
          continue;
        }
      }
      if (s !== NIL_THREAD) {
        b.dequeueSender(self, s);
        // (an overflowing sender kept no words and no items: it takes this path, see below)
        if (b.itemCount(s) > 0) return this.takeItems(self, s, other, window);
        b.copyMessage(s, self);
        const msg: Message = { label: b.label(self), words: b.readWords(self) };
        if (this.irq?.isIrqThread(s)) {
          this.irq.taken(s);
          this.release(self, other);
          this.counters.messages++;
          return { ok: true, from: s, msg };
        }
        const sf = b.flags(s);
        if ((sf & FLAG_OVERFLOW) !== 0) {
          // X.2: the transfer overflows; both partners see it, the sender in its send phase
          b.clearFlags(s, FLAG_CALL | FLAG_OVERFLOW);
          b.complete(s, ResultCode['message-overflow'], self);
          this.release(self, other);
          b.ring(b.domainOf(s));
          return ipcError('message-overflow', 'receive', s);
        }
        if ((sf & FLAG_CALL) !== 0) {
          const wait = b.receiveTimeout(s);
          if (wait !== 0) this.enterReceive(s, self, sharedNowMs() + wait);
          else {
            b.clearFlags(s, FLAG_CALL);
            b.complete(s, ResultCode.timeout | RESULT_RECEIVE_PHASE, self);
          }
        } else {
          b.writeMessage(s, 0, EMPTY_WORDS);
          b.complete(s, ResultCode.ok, self);
        }
        this.release(self, other);
        b.ring(b.domainOf(s));
        this.counters.messages++;
        return { ok: true, from: s, msg };
      }
      if (timeoutMs === 0) {
        this.release(self, other);
        return ipcError('timeout', 'receive', from);
      }
      b.setWindow(self, window);
      this.enterReceive(self, from, sharedNowMs() + timeoutMs);
      this.release(self, other);
      return BLOCKED;
    }
  }

  private release(self: ThreadId, other: ThreadId): void {
    if (other === NIL_THREAD) this.blocks.unlock(self);
    else this.blocks.unlock2(self, other);
  }

  /** Block `self` receiving from nil (a sleep) for `timeoutMs` (> 0). */
  sleep(self: ThreadId, timeoutMs: number): Blocked {
    const b = this.blocks;
    b.lock(self);
    b.setPartner(self, NIL_THREAD);
    b.clearFlags(self, FLAG_CALL);
    b.setFlags(self, FLAG_SLEEPING);
    b.setDeadline(self, sharedNowMs() + timeoutMs);
    b.setState(self, ThreadState.ReceiveBlocked);
    b.unlock(self);
    return BLOCKED;
  }

  /**
   * Fail thread `id`'s blocked IPC with `code` (a timeout if its deadline has passed at
   * `nowMs`, or `canceled`/`aborted` at once). Resolved under the locks, so a concurrent
   * delivery either completed first (nothing to do) or finds the thread no longer waiting.
   *
   * @returns whether the thread was blocked and is now {@link ThreadState.Done}
   */
  interrupt(id: ThreadId, code: 'timeout' | 'canceled' | 'aborted', nowMs = 0): boolean {
    const b = this.blocks;
    for (;;) {
      const st = b.state(id);
      if (st === ThreadState.SendBlocked) {
        const owner = b.partner(id);
        b.lock2(id, owner);
        if (b.state(id) !== ThreadState.SendBlocked || b.partner(id) !== owner) {
          b.unlock2(id, owner);
          continue;
        }
        if (code === 'timeout' && nowMs < b.deadline(id)) {
          b.unlock2(id, owner);
          return false;
        }
        b.dequeueSender(owner, id);
        b.clearFlags(id, FLAG_CALL | FLAG_OVERFLOW);
        b.complete(id, ResultCode[code], owner);
        b.unlock2(id, owner);
        b.ring(b.domainOf(id));
        return true;
      }
      if (st === ThreadState.ReceiveBlocked) {
        b.lock(id);
        if (b.state(id) !== ThreadState.ReceiveBlocked) {
          b.unlock(id);
          continue;
        }
        if (code === 'timeout' && nowMs < b.deadline(id)) {
          b.unlock(id);
          return false;
        }
        b.complete(id, ResultCode[code] | RESULT_RECEIVE_PHASE, b.partner(id));
        b.unlock(id);
        b.ring(b.domainOf(id));
        return true;
      }
      return false;
    }
  }

  /**
   * Take the result of thread `id`'s completed IPC (state {@link ThreadState.Done}) and mark it
   * running again. Resumes a sleep with `undefined`.
   */
  takeResult(id: ThreadId): IpcResult | undefined {
    const b = this.blocks;
    b.lock(id);
    const code = b.result(id);
    const from = b.from(id);
    const sleeping = (b.flags(id) & FLAG_SLEEPING) !== 0;
    let r: IpcResult | undefined;
    if (sleeping) {
      b.clearFlags(id, FLAG_SLEEPING);
      r = undefined;
    } else if (code === ResultCode.ok) {
      if (b.itemCount(id) > 0) {
        r = {
          ok: true,
          from,
          msg: { label: b.label(id), words: b.readWords(id), items: b.readItems(id) },
        };
      } else {
        r = { ok: true, from, msg: { label: b.label(id), words: b.readWords(id) } };
        if (r.msg.words.length === 0 && r.msg.label === 0) {
          r = { ok: true, from, msg: EMPTY_MESSAGE };
        }
      }
    } else {
      const phase = (code & RESULT_RECEIVE_PHASE) !== 0 ? 'receive' : 'send';
      r = ipcError(ERROR_BY_CODE[code & ~RESULT_RECEIVE_PHASE]!, phase, from);
    }
    b.setState(id, ThreadState.Running);
    b.unlock(id);
    return r;
  }

  /**
   * The worker of `dead` threads died: a thread left `Transferring` by one of them (it died
   * between taking the partner's message and completing the transfer) fails with
   * `non-existing-partner` — in the send phase if it was the sender, else the receive phase.
   */
  failTransfers(dead: ReadonlySet<ThreadId>): void {
    const b = this.blocks;
    for (let x = 1; x <= b.threads; x++) {
      if (b.state(x) !== ThreadState.Transferring) continue;
      b.lock(x);
      const p = b.partner(x);
      if (b.state(x) === ThreadState.Transferring && dead.has(p)) {
        const sender = (b.flags(x) & FLAG_ITEM_SENDER) !== 0;
        b.clearFlags(x, FLAG_CALL | FLAG_ITEM_SENDER);
        b.complete(x, ResultCode['non-existing-partner'] | (sender ? 0 : RESULT_RECEIVE_PHASE), p);
        b.unlock(x);
        b.ring(b.domainOf(x));
      } else b.unlock(x);
    }
  }

  /**
   * Thread `id` exited or failed: mark it dead, take it out of any sender queue, and fail every
   * thread waiting on it (its queued senders: send phase; threads receiving from it, including
   * callers waiting for its reply: receive phase) with `non-existing-partner`.
   */
  kill(id: ThreadId): void {
    const b = this.blocks;
    for (;;) {
      const st = b.state(id);
      if (st === ThreadState.SendBlocked) {
        const owner = b.partner(id);
        b.lock2(id, owner);
        if (b.state(id) !== ThreadState.SendBlocked || b.partner(id) !== owner) {
          b.unlock2(id, owner);
          continue;
        }
        b.dequeueSender(owner, id);
        b.setDeadline(id, Number.POSITIVE_INFINITY);
        b.setState(id, ThreadState.Dead);
        b.unlock2(id, owner);
        break;
      }
      b.lock(id);
      if (b.state(id) === ThreadState.SendBlocked) {
        b.unlock(id);
        continue;
      }
      b.setDeadline(id, Number.POSITIVE_INFINITY);
      b.setState(id, ThreadState.Dead);
      b.unlock(id);
      break;
    }
    // (after the thread is dead: a racing delivery sees that and drops the handler itself)
    this.irq?.forgetHandler(id);
    for (let x = 1; x <= b.threads; x++) {
      if (x === id) continue;
      b.lock2(id, x);
      const st = b.state(x);
      if (b.partner(x) === id && st === ThreadState.SendBlocked) {
        b.dequeueSender(id, x);
        b.clearFlags(x, FLAG_CALL | FLAG_OVERFLOW);
        b.complete(x, ResultCode['non-existing-partner'], id);
        b.unlock2(id, x);
        b.ring(b.domainOf(x));
      } else if (
        b.partner(x) === id &&
        st === ThreadState.ReceiveBlocked &&
        (b.flags(x) & FLAG_SLEEPING) === 0
      ) {
        b.complete(x, ResultCode['non-existing-partner'] | RESULT_RECEIVE_PHASE, id);
        b.unlock2(id, x);
        b.ring(b.domainOf(x));
      } else {
        b.unlock2(id, x);
      }
    }
  }
}
