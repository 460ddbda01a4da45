/**
 * Thread lifecycle: death (partners get non-existing-partner, interrupt lines are detached) and
 * the lookups of spaces and user threads.
 *
 * @module
 */
import { KernelError } from '../errors.js';
import { ANY_THREAD, type ThreadId } from '../sys.js';
import { KernelFaults } from './faults.js';
import { THREAD_EXIT_LABEL } from './kernel-state.js';
import type { AddressSpace, SpaceId } from './space.js';
import { IRQ_DELIVERED, IRQ_IDLE, IRQ_QUEUED, type Thread } from './thread.js';

/** Thread lifecycle (internal layer of the kernel). */
export abstract class KernelLifecycle extends KernelFaults {
  protected die(t: Thread, error: unknown): void {
    if (t.queued) this.rqRemove(t);
    if (t.state === 'send-blocked') this.sqRemove(t);
    this.unsuspend(t);
    t.state = 'dead';
    t.error = error;
    t.call = null;
    t.sendMsg = null;
    t.pCat.length = 0;
    t.pCyc.length = 0;
    t.pHead = 0;
    t.pTotal = 0;
    const gen = t.gen;
    t.gen = null;
    if (this.current === t) this.current = null;
    if (this.hint === t) this.hint = null;
    this.tracer?.record(this.machine.clock, 'exit', t.id, 0, error === undefined ? 0 : 1);
    // Senders waiting for the dead thread.
    let s = t.sqHead;
    while (s !== null) {
      const next = s.sqNext;
      this.sqRemove(s);
      if (s.kind === 'interrupt') {
        s.irqState = IRQ_IDLE;
      } else {
        this.unsuspend(s);
        s.sendMsg = null;
        this.result(s, 'non-existing-partner', 'send', t.id);
        this.makeReady(s);
      }
      s = next;
    }
    // Receivers waiting specifically for the dead thread (including callers awaiting its reply).
    for (const r of this.threads) {
      if (r !== undefined && r.state === 'receive-blocked' && r.recvFrom === t.id) {
        this.unsuspend(r);
        this.result(r, 'non-existing-partner', 'receive', t.id);
        this.makeReady(r);
      }
    }
    for (const it of this.irqThreads) {
      if (it !== undefined && it.handler === t) {
        it.handler = null;
        it.irqState = IRQ_IDLE;
      }
    }
    if (gen !== null && error === undefined) {
      try {
        gen.return(undefined);
      } catch {
        // A finally block that throws while the thread is torn down changes nothing.
      }
    }
  }

  /**
   * Tell a dead supervised thread's supervisor, by IPC from the thread's exit notifier (label
   * `THREAD_EXIT_LABEL`, words `[thread, how]`), delivered like an interrupt: at once if the
   * supervisor waits for it, else queued (one pending notice per thread).
   */
  protected notifyExit(t: Thread, how: number): void {
    const n = t.exitNotifier;
    const h = n?.handler ?? null;
    if (n === null || h === null || h.state === 'dead' || n.irqState === IRQ_QUEUED) return;
    this.counters.exitsNotified++;
    n.irqMsg = { label: THREAD_EXIT_LABEL, words: [t.id, how] };
    if (h.state === 'receive-blocked' && (h.recvFrom === ANY_THREAD || h.recvFrom === n.id)) {
      n.irqState = IRQ_DELIVERED;
      this.counters.ipcMessages++;
      h.resume = { ok: true, from: n.id, msg: n.irqMsg };
      this.tracer?.record(this.machine.clock, 'ipc', n.id, h.id, THREAD_EXIT_LABEL);
      this.wake(h);
    } else {
      n.irqState = IRQ_QUEUED;
      this.sqPush(h, n);
    }
  }

  protected space(id: SpaceId): AddressSpace {
    const s = this.spaces[id];
    if (s === undefined) throw new KernelError('NO_SUCH_SPACE', `no address space ${id}`);
    return s;
  }

  protected userThread(id: ThreadId): Thread {
    const t = this.threads[id];
    if (t === undefined || t.kind !== 'user') {
      throw new KernelError('NO_SUCH_THREAD', `no user thread ${id}`);
    }
    return t;
  }
}
