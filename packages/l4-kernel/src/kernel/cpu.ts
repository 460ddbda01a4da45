/**
 * The sim CPU loop: runs the current thread's generator to its next kernel call, consumes its
 * charged cycles (preemptible by events), passes non-preemptible kernel time and idles.
 *
 * @module
 */
import { KernelError, ThreadFailedError } from '../errors.js';
import { type Cycles, NIL_THREAD } from '../sys.js';
import { EXIT_FAILED, EXIT_RETURNED, KernelState } from './kernel-state.js';
import type { CallRecord, Thread } from './thread.js';

/** The sim CPU loop (internal layer of the kernel). */
export abstract class KernelCpu extends KernelState {
  // ---------------------------------------------------------------- the run loop

  /** Run the CPU until virtual time `limit`. */
  runUntil(limit: Cycles): void {
    if (this.running) throw new KernelError('CONFIG', 'runUntil called re-entrantly');
    if (Number.isNaN(limit)) throw new KernelError('CONFIG', 'runUntil limit is NaN');
    this.running = true;
    try {
      this.loop(limit);
    } finally {
      this.running = false;
    }
  }

  protected loop(limit: Cycles): void {
    const m = this.machine;
    for (;;) {
      if (this.irqQueue.length > 0) this.serviceInterrupts();
      let cur = this.current;
      if (this.needResched) {
        this.needResched = false;
        if (cur !== null && cur.state === 'running' && this.topPriority() > cur.priority) {
          this.preempt(cur, this.switchCat === this.cIPC ? 0 : this.costs.contextSwitch);
          cur = null;
        }
      }
      if (cur === null) {
        cur = this.dispatch();
        if (cur === null) {
          const next = m.events.peekTime();
          if (next > limit) {
            if (limit > m.clock) this.idleTo(limit);
            return;
          }
          if (next > m.clock) this.idleTo(next);
          this.fireOne();
          continue;
        }
        continue;
      }
      if (cur.pTotal > 0) {
        if (m.clock >= limit) return;
        this.consume(cur, limit);
        continue;
      }
      if (m.clock >= limit) return;
      const call = cur.call;
      if (cur.hung) {
        // Fault injection: the thread stops here, receiving from nobody, forever.
        cur.call = null;
        this.block(cur, NIL_THREAD, Number.POSITIVE_INFINITY, undefined, false);
        continue;
      }
      if (call !== null) {
        cur.call = null;
        this.exec(cur, call);
        continue;
      }
      this.step(cur);
    }
  }

  protected step(t: Thread): void {
    let r: IteratorResult<unknown, void>;
    const resume = t.resume;
    t.resume = undefined;
    try {
      r = t.gen!.next(resume);
    } catch (e) {
      this.fail(t, e);
      return;
    }
    if (t.unstarted !== 0) {
      // A Sys operation was called without `yield*`: its kernel call would silently not happen.
      t.unstarted = 0;
      this.counters.badCalls++;
      this.fail(
        t,
        new KernelError('CONFIG', `thread ${t.name} called a kernel operation without yield*`),
      );
      return;
    }
    if (r.done) {
      this.counters.threadsExited++;
      this.die(t, undefined);
      this.notifyExit(t, EXIT_RETURNED);
      return;
    }
    const v = r.value as CallRecord;
    if (v === null || typeof v !== 'object' || typeof v.op !== 'string' || !Array.isArray(v.args)) {
      this.counters.badCalls++;
      this.fail(
        t,
        new KernelError('CONFIG', `thread ${t.name} yielded something that is not a kernel call`),
      );
      return;
    }
    t.call = v;
  }

  /**
   * A thread died of `error`: tear it down (partners get `non-existing-partner`). A supervised
   * thread's supervisor is told by IPC and the run goes on; any other death is recorded and,
   * unless failures are only recorded, stops the run loudly with a {@link ThreadFailedError}.
   */
  protected fail(t: Thread, error: unknown): void {
    this.counters.threadsFailed++;
    const at = this.machine.clock;
    if (t.exitNotifier !== null) {
      // A supervised thread: its supervisor hears of the death and decides; the run goes on.
      this.supervisedFailures.push({ id: t.id, name: t.name, error, at });
      this.die(t, error);
      this.notifyExit(t, EXIT_FAILED);
      return;
    }
    this.failures.push({ id: t.id, name: t.name, error, at });
    this.die(t, error);
    if (this.throwOnFailure) throw new ThreadFailedError(t.id, t.name, at, error);
  }

  /** Consume the current thread's charged cycles until done, preempted, slice end or `limit`. */
  protected consume(t: Thread, limit: Cycles): void {
    const m = this.machine;
    let end = m.clock + t.pTotal;
    const sliceEnd = m.clock + t.sliceLeft;
    if (sliceEnd < end) end = sliceEnd;
    if (limit < end) end = limit;
    if (end <= m.clock && limit > m.clock) {
      // What is left (of the charge or of the slice) is below the clock's floating-point
      // resolution at this time: no time can pass for it, so finish it here instead of looping.
      if (m.clock + t.pTotal <= m.clock) this.settle(t);
      if (m.clock + t.sliceLeft <= m.clock) t.sliceLeft = 0;
    }
    for (;;) {
      const next = m.events.peekTime();
      if (next > end) break;
      if (next > m.clock) this.burn(t, next - m.clock);
      this.fireOne();
      if (this.irqQueue.length > 0 || this.needResched) return;
    }
    if (end > m.clock) this.burn(t, end - m.clock);
    if (t.sliceLeft <= 0) {
      t.sliceLeft = this.timeslice;
      if (this.rqHead[t.priority] !== null) {
        // Round robin: the slice is used up and a peer of equal priority is ready.
        this.current = null;
        t.state = 'ready';
        t.pcPreempted = true;
        this.counters.preemptions++;
        this.rqPushTail(t);
        this.switchCat = this.cKernel;
        this.switchCost = this.costs.contextSwitch;
        this.tracer?.record(m.clock, 'preempt', t.id, NIL_THREAD, 0);
      }
    }
  }

  /** ipc.ts */
  protected abstract block(
    t: Thread,
    from: number,
    timeout: number,
    window: undefined,
    sleeping: boolean,
  ): boolean;

  /** Pass `cycles` of the thread's charged compute (time advances, accounting charged FIFO). */
  protected burn(t: Thread, cycles: Cycles): void {
    const m = this.machine;
    m.clock += cycles;
    t.sliceLeft -= cycles;
    let left = cycles;
    const acct = this.accounting;
    while (left > 0 && t.pHead < t.pCyc.length) {
      const seg = t.pCyc[t.pHead]!;
      if (seg <= left) {
        acct.add(t.id, t.pCat[t.pHead]!, seg);
        left -= seg;
        t.pHead++;
      } else {
        acct.add(t.id, t.pCat[t.pHead]!, left);
        t.pCyc[t.pHead] = seg - left;
        left = 0;
      }
    }
    if (t.pHead >= t.pCyc.length || t.pTotal - cycles < 1e-6) {
      t.pCat.length = 0;
      t.pCyc.length = 0;
      t.pHead = 0;
      t.pTotal = 0;
    } else {
      t.pTotal -= cycles;
    }
  }

  /** Account a thread's remaining (sub-resolution) charge without advancing the clock. */
  protected settle(t: Thread): void {
    for (let i = t.pHead; i < t.pCyc.length; i++) this.accounting.add(t.id, t.pCat[i]!, t.pCyc[i]!);
    t.pCat.length = 0;
    t.pCyc.length = 0;
    t.pHead = 0;
    t.pTotal = 0;
  }

  /** Non-preemptible kernel time: `cycles` pass, charged to (thread, category). */
  protected spend(t: Thread, cat: number, cycles: Cycles): void {
    if (cycles <= 0) return;
    const m = this.machine;
    const target = m.clock + cycles;
    while (m.events.peekTime() <= target) this.fireOne();
    m.clock = target;
    this.accounting.add(t.id, cat, cycles);
  }

  protected idleTo(t: Cycles): void {
    const m = this.machine;
    this.accounting.add(this.idle.id, this.cIdle, t - m.clock);
    m.clock = t;
  }

  protected fireOne(): void {
    const m = this.machine;
    const ev = m.events.pop();
    if (ev === null) return;
    if (ev.at > m.clock) m.clock = ev.at;
    const fn = ev.fn!;
    ev.fn = null;
    m.eventsFired++;
    fn();
  }
}
