import type { ScheduledEvent } from '../machine/event-queue.js';
import { PAGE_SIZE } from '../machine/memory.js';
import {
  ANY_THREAD,
  type Fpage,
  INTERRUPT_LABEL,
  type IpcErrorCode,
  type IpcResult,
  type Message,
  NIL_THREAD,
  type ThreadId,
} from '../sys.js';
import {
  EMPTY_MSG,
  MAX_MESSAGE_WORDS,
  msgWords,
  timeoutCycles,
  validFpage,
} from './kernel-state.js';
import { KernelScheduler } from './scheduler.js';
import { grantFrom, mapFrom, rightsBits } from './space.js';
import { IRQ_DELIVERED, type Thread } from './thread.js';

/** IPC (internal layer of the kernel). */
export abstract class KernelIpc extends KernelScheduler {
  protected spendIpc(t: Thread, words: number): void {
    this.spend(t, this.cIPC, this.costs.ipc + words * this.costs.ipcPerWord);
  }

  protected result(
    t: Thread,
    error: IpcErrorCode,
    phase: 'send' | 'receive',
    from: ThreadId,
  ): IpcResult {
    const r: IpcResult = { ok: false, error, phase, from };
    t.resume = r;
    return r;
  }

  protected ipcSend(
    s: Thread,
    toId: ThreadId,
    msg: Message,
    timeout: number,
    isCall: boolean,
    recvTimeout: number,
    window: Fpage | undefined,
  ): void {
    const words = msgWords(msg);
    this.spendIpc(s, words < 0 ? 0 : words);
    const ok = this.trySend(s, toId, msg, words);
    if (ok === true) {
      if (isCall) {
        const dst = this.threads[toId]!;
        if (dst.kind === 'interrupt') {
          this.ipcReceive(s, toId, recvTimeout, window, false);
        } else {
          this.hint = dst;
          this.block(s, toId, recvTimeout, window, false);
        }
      }
      return;
    }
    if (ok !== null) return; // error result already set
    // Partner not ready.
    const to = timeoutCycles(timeout);
    if (to === 0) {
      this.missedWakeup(toId);
      this.result(s, 'timeout', 'send', toId);
      return;
    }
    const dst = this.threads[toId]!;
    s.sendMsg = msg;
    s.sendIsCall = isCall;
    s.callRecvTimeout = recvTimeout;
    s.recvWindow = window;
    this.sqPush(dst, s);
    s.state = 'send-blocked';
    this.suspend(s, to);
  }

  /**
   * Try to deliver `msg` from `s` to `toId` right now. Returns true (delivered; `s.resume` set for
   * a plain send), an IpcResult (failed; set), or null (partner not waiting).
   */
  protected trySend(
    s: Thread,
    toId: ThreadId,
    msg: Message,
    words: number,
  ): true | IpcResult | null {
    const dst = typeof toId === 'number' ? this.threads[toId] : undefined;
    if (dst === undefined || dst.state === 'dead' || dst.kind === 'idle' || dst === s) {
      return this.result(s, 'non-existing-partner', 'send', toId);
    }
    // A malformed message is a programming error udf can detect early (sender only); too many
    // words is reported at transfer time to both partners, as in X.2 (see transfer()).
    if (words === -1) return this.result(s, 'malformed-item', 'send', toId);
    if (dst.kind === 'interrupt') {
      // X.2: an interrupt thread waits for its handler's reply only while an interrupt is
      // delivered and unacknowledged; otherwise it is not receiving and a reply (zero timeout)
      // fails with a send-phase timeout (Pistachio `kernel/src/api/v4/interrupt.cc`: the
      // interrupt thread is halted until delivery, then waits for the handler's ack IPC).
      if (dst.handler !== s || dst.irqState !== IRQ_DELIVERED) {
        return this.result(s, 'timeout', 'send', toId);
      }
      this.acknowledge(s, dst);
      s.resume = { ok: true, from: dst.id, msg: EMPTY_MSG };
      return true;
    }
    if (
      dst.state !== 'receive-blocked' ||
      !(dst.recvFrom === ANY_THREAD || dst.recvFrom === s.id)
    ) {
      return null;
    }
    const err = this.transfer(s, dst, msg, dst.recvWindow);
    if (err !== null) {
      // X.2: a transfer error is reported to both partners and the receiver wakes up.
      this.result(dst, err, 'receive', s.id);
      this.wake(dst);
      return this.result(s, err, 'send', toId);
    }
    this.wake(dst);
    s.resume = { ok: true, from: dst.id, msg: EMPTY_MSG };
    return true;
  }

  /**
   * The preemption latch: a zero-timeout send to `toId` failed because it was not receiving.
   * If its preemption window is open, its next receive aborts and `preempted()` turns true, so
   * a thread between "announce sleep" and "block" cannot sleep through the wake-up it missed.
   */
  protected missedWakeup(toId: ThreadId): void {
    const dst = this.threads[toId];
    if (dst?.pcOpen && !dst.pcMissed) {
      dst.pcMissed = true;
      this.counters.wakeupsLatched++;
    }
  }

  protected ipcReplyWait(
    t: Thread,
    toId: ThreadId,
    msg: Message,
    timeout: number,
    window: Fpage | undefined,
  ): void {
    if (toId === NIL_THREAD) {
      // X.2 IPC: a nil `to` means no send phase; only the receive phase runs (reference manual,
      // "IPC" system call; Pistachio `kernel/src/api/v4/ipc.cc` skips the send part for nilthread).
      this.spendIpc(t, 0);
      this.ipcReceive(t, ANY_THREAD, timeout, window, true);
      return;
    }
    const words = msgWords(msg);
    this.spendIpc(t, words < 0 ? 0 : words);
    const ok = this.trySend(t, toId, msg, words);
    if (ok !== true) {
      if (ok === null) {
        this.missedWakeup(toId);
        this.result(t, 'timeout', 'send', toId);
      }
      return;
    }
    this.ipcReceive(t, ANY_THREAD, timeout, window, true);
  }

  protected ipcReceive(
    r: Thread,
    fromId: ThreadId,
    timeout: number,
    window: Fpage | undefined,
    pcCheck: boolean,
  ): void {
    if (pcCheck && r.pcOpen && (r.pcPreempted || r.pcMissed)) {
      this.result(r, 'aborted', 'receive', fromId);
      return;
    }
    if (window !== undefined && !validFpage(window)) {
      this.result(r, 'malformed-item', 'receive', fromId);
      return;
    }
    if (fromId !== ANY_THREAD && fromId !== NIL_THREAD) {
      const src = typeof fromId === 'number' ? this.threads[fromId] : undefined;
      if (src === undefined || src.state === 'dead' || src.kind === 'idle' || src === r) {
        this.result(r, 'non-existing-partner', 'receive', fromId);
        return;
      }
    }
    // Look for a matching sender already waiting.
    let s = r.sqHead;
    while (s !== null) {
      const nextS = s.sqNext;
      if (fromId === ANY_THREAD || s.id === fromId) {
        this.sqRemove(s);
        if (s.kind === 'interrupt') {
          s.irqState = IRQ_DELIVERED;
          this.counters.ipcMessages++;
          this.counters.interrupts++;
          r.resume = { ok: true, from: s.id, msg: s.irqMsg! };
          this.tracer?.record(this.machine.clock, 'ipc', s.id, r.id, INTERRUPT_LABEL);
          return;
        }
        const msg = s.sendMsg!;
        s.sendMsg = null;
        const err = this.transfer(s, r, msg, window);
        this.unsuspend(s);
        if (err !== null) {
          // X.2: both partners see the transfer error; the receiver does not wait on.
          this.result(s, err, 'send', r.id);
          this.makeReady(s);
          this.result(r, err, 'receive', s.id);
          return;
        } else {
          if (s.sendIsCall) {
            if (!this.block(s, r.id, s.callRecvTimeout, s.recvWindow, false)) this.makeReady(s);
          } else {
            s.resume = { ok: true, from: r.id, msg: EMPTY_MSG };
            this.makeReady(s);
          }
          return;
        }
      }
      s = nextS;
    }
    this.block(r, fromId, timeout, window, false);
  }

  /**
   * Block `t` receiving from `from` with a timeout (zero timeout: no block, `t.resume` stays
   * undefined so the caller can fill in the error).
   */
  protected block(
    t: Thread,
    from: ThreadId,
    timeout: number,
    window: Fpage | undefined,
    sleeping: boolean,
  ): boolean {
    const to = timeoutCycles(timeout);
    if (to === 0) {
      if (sleeping) t.resume = undefined;
      else this.result(t, 'timeout', 'receive', from);
      return false;
    }
    t.recvFrom = from;
    t.recvWindow = window;
    t.sleeping = sleeping;
    t.state = 'receive-blocked';
    this.suspend(t, to);
    return true;
  }

  /** Take `t` off the CPU and arm its timeout. */
  protected suspend(t: Thread, timeout: number): void {
    if (this.current === t) this.current = null;
    t.blockSeq++;
    if (timeout !== Number.POSITIVE_INFINITY) {
      const seq = t.blockSeq;
      t.timeoutEv = this.machine.events.push(this.machine.clock + timeout, () =>
        this.onTimeout(t, seq),
      );
    }
  }

  protected unsuspend(t: Thread): void {
    t.blockSeq++;
    const ev: ScheduledEvent | null = t.timeoutEv;
    if (ev !== null) {
      ev.fn = null;
      t.timeoutEv = null;
    }
  }

  /** A receive-blocked thread got its message (`resume` set by transfer): make it ready. */
  protected wake(t: Thread): void {
    this.unsuspend(t);
    t.sleeping = false;
    this.makeReady(t);
  }

  protected onTimeout(t: Thread, seq: number): void {
    if (t.blockSeq !== seq) return;
    t.timeoutEv = null;
    if (t.state === 'send-blocked') {
      const owner = t.sqOwner?.id ?? NIL_THREAD;
      this.sqRemove(t);
      t.sendMsg = null;
      this.result(t, 'timeout', 'send', owner);
    } else if (t.state === 'receive-blocked') {
      if (t.sleeping) t.resume = undefined;
      else this.result(t, 'timeout', 'receive', t.recvFrom);
      t.sleeping = false;
    } else {
      return;
    }
    t.blockSeq++;
    this.switchCat = this.cKernel;
    this.makeReady(t);
  }

  protected interruptIpc(t: Thread, error: 'canceled' | 'aborted'): void {
    if (t.state === 'send-blocked') {
      const owner = t.sqOwner?.id ?? NIL_THREAD;
      this.sqRemove(t);
      t.sendMsg = null;
      this.unsuspend(t);
      this.result(t, error, 'send', owner);
      this.makeReady(t);
    } else if (t.state === 'receive-blocked') {
      this.unsuspend(t);
      if (t.sleeping) t.resume = undefined;
      else this.result(t, error, 'receive', t.recvFrom);
      t.sleeping = false;
      this.makeReady(t);
    }
  }

  /** Copy a message from `s` to `r`, applying map/grant items in `r`'s window. */
  protected transfer(
    s: Thread,
    r: Thread,
    msg: Message,
    window: Fpage | undefined,
  ): IpcErrorCode | null {
    const items = msg.items;
    const n = msg.words.length + (items === undefined ? 0 : 2 * items.length);
    // X.2: u + t above 63 registers overflows; reported to both partners at transfer time.
    if (n > MAX_MESSAGE_WORDS) return 'message-overflow';
    let pages = 0;
    if (items !== undefined && items.length > 0) {
      // X.2 (reference manual, IPC error codes, "message overflow"): map/grant items sent to a
      // receiver that accepts none (no receive window) fail the IPC on both sides.
      if (window === undefined || r.space === null || s.space === null) return 'message-overflow';
      const wsize = 2 ** window.sizeLog2;
      for (const it of items) {
        const f = it.fpage;
        let size = 2 ** f.sizeLog2;
        let srcBase = f.base;
        let dstBase: number;
        if (size <= wsize) {
          // The fpage lands inside the window where the send base (mod window size) points,
          // rounded down to the fpage's size.
          dstBase = window.base + Math.floor((it.sendBase % wsize) / size) * size;
        } else {
          // X.2 "MapItem"/"GrantItem": a send fpage larger than the receive window maps the
          // window-sized part of it that the send base selects (Pistachio
          // `kernel/src/generic/linear_ptab_walker.cc`, map_fpage: the send fpage is cut down
          // to the receive fpage's size around snd_base).
          srcBase = f.base + Math.floor((it.sendBase % size) / wsize) * wsize;
          size = wsize;
          dstBase = window.base;
        }
        const n = size / PAGE_SIZE;
        const sp = srcBase / PAGE_SIZE;
        const dp = dstBase / PAGE_SIZE;
        // X.2: a receive window (acceptor) carries no access rights; only the item's rights
        // (intersected with the sender's own) limit the mapping.
        const ibits = rightsBits(f.rights);
        const grant = it.kind === 'grant';
        for (let i = 0; i < n; i++) {
          const src = s.space.pages.get(sp + i);
          if (src === undefined) continue;
          const bits = src.rights & ibits;
          if (bits === 0) continue;
          if (s.space === r.space && sp + i === dp + i) continue;
          pages +=
            1 +
            (grant ? grantFrom(src, r.space, dp + i, bits) : mapFrom(src, r.space, dp + i, bits));
        }
      }
      if (pages > 0) this.spend(s, this.cIPC, pages * this.costs.mapPage);
    }
    this.counters.ipcMessages++;
    const copy: Message =
      items === undefined
        ? { label: msg.label, words: msg.words.slice() }
        : { label: msg.label, words: msg.words.slice(), items };
    r.resume = { ok: true, from: s.id, msg: copy };
    this.tracer?.record(this.machine.clock, 'ipc', s.id, r.id, msg.label);
    return null;
  }

  protected sqPush(r: Thread, s: Thread): void {
    s.sqOwner = r;
    s.sqNext = null;
    s.sqPrev = r.sqTail;
    if (r.sqTail === null) r.sqHead = s;
    else r.sqTail.sqNext = s;
    r.sqTail = s;
  }

  protected sqRemove(s: Thread): void {
    const r = s.sqOwner;
    if (r === null) return;
    if (s.sqPrev === null) r.sqHead = s.sqNext;
    else s.sqPrev.sqNext = s.sqNext;
    if (s.sqNext === null) r.sqTail = s.sqPrev;
    else s.sqNext.sqPrev = s.sqPrev;
    s.sqNext = null;
    s.sqPrev = null;
    s.sqOwner = null;
  }
}
