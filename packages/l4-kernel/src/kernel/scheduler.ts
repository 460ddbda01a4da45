import { type Cycles, NIL_THREAD } from '../sys.js';
import { KernelCpu } from './cpu.js';
import type { Thread } from './thread.js';

/** The scheduler (internal layer of the kernel). */
export abstract class KernelScheduler extends KernelCpu {
  // ---------------------------------------------------------------- scheduler

  protected topPriority(): number {
    const b = this.rqBits;
    for (let w = 7; w >= 0; w--) {
      const x = b[w]!;
      if (x !== 0) return w * 32 + 31 - Math.clz32(x);
    }
    return -1;
  }

  protected rqPushTail(t: Thread): void {
    const p = t.priority;
    t.rqNext = null;
    t.rqPrev = this.rqTail[p]!;
    if (t.rqPrev === null) this.rqHead[p] = t;
    else t.rqPrev.rqNext = t;
    this.rqTail[p] = t;
    t.queued = true;
    this.rqBits[p >> 5]! |= 1 << (p & 31);
  }

  protected rqPushHead(t: Thread): void {
    const p = t.priority;
    t.rqPrev = null;
    t.rqNext = this.rqHead[p]!;
    if (t.rqNext === null) this.rqTail[p] = t;
    else t.rqNext.rqPrev = t;
    this.rqHead[p] = t;
    t.queued = true;
    this.rqBits[p >> 5]! |= 1 << (p & 31);
  }

  protected rqRemove(t: Thread): void {
    const p = t.priority;
    if (t.rqPrev === null) this.rqHead[p] = t.rqNext;
    else t.rqPrev.rqNext = t.rqNext;
    if (t.rqNext === null) this.rqTail[p] = t.rqPrev;
    else t.rqNext.rqPrev = t.rqPrev;
    t.rqNext = null;
    t.rqPrev = null;
    t.queued = false;
    if (this.rqHead[p] === null) this.rqBits[p >> 5]! &= ~(1 << (p & 31));
  }

  protected makeReady(t: Thread): void {
    t.state = 'ready';
    this.rqPushTail(t);
    const cur = this.current;
    if (cur !== null && t.priority > cur.priority) this.needResched = true;
  }

  protected preempt(cur: Thread, cost: Cycles): void {
    cur.state = 'ready';
    cur.pcPreempted = true;
    this.rqPushHead(cur);
    this.current = null;
    this.counters.preemptions++;
    this.switchCost = cost;
    this.tracer?.record(this.machine.clock, 'preempt', cur.id, NIL_THREAD, 0);
  }

  /** Pick the next thread (the IPC partner hint first when it is eligible) and switch to it. */
  protected dispatch(): Thread | null {
    let next: Thread | null = null;
    const h = this.hint;
    this.hint = null;
    const top = this.topPriority();
    if (top < 0) return null;
    if (h?.queued && h.priority >= top) next = h;
    else next = this.rqHead[top]!;
    this.rqRemove(next);
    next.state = 'running';
    this.current = next;
    this.counters.contextSwitches++;
    if (this.tracer !== null) this.tracer.record(this.machine.clock, 'switch', next.id, 0, 0);
    const cost = this.switchCost;
    this.switchCost = 0;
    if (cost > 0) this.spend(next, this.cKernel, cost);
    // Only user threads are dispatched and they always have a space; a space-less (idle or
    // interrupt) thread, like a global space, would borrow the loaded page table.
    const space = next.space;
    if (space !== null && space !== this.loadedSpace && !space.global) {
      this.loadedSpace = space;
      this.counters.addressSpaceSwitches++;
      this.spend(next, this.switchCat, this.costs.addressSpaceSwitch);
    }
    this.switchCat = this.cIPC;
    return next;
  }
}
