/**
 * The L4 X.2-style kernel on the simulated machine: scheduler, IPC, map/grant/unmap, interrupts
 * as IPC, page faults as IPC to the pager, preemption control — and the privileged setup API the
 * system assembler uses (the role of sigma0 and the root task).
 *
 * Execution model: one CPU. A thread runs its generator until it yields a kernel call. Cycles it
 * `charge()`d are consumed as CPU time before that call executes; events (device activity,
 * timeouts) that fire meanwhile may preempt it, saving the remaining cycles. A kernel call takes
 * effect atomically at the instant it executes, then its cost passes as non-preemptible kernel
 * time (interrupts arriving meanwhile are serviced right after).
 *
 * @module
 */
import { KernelError, ThreadFailedError } from '../errors.js';
import type { Accounting } from '../machine/accounting.js';
import type { CostModel } from '../machine/costs.js';
import type { MemoryRegion, MmioDevice } from '../machine/device-host.js';
import type { ScheduledEvent } from '../machine/event-queue.js';
import type { Line, Machine } from '../machine/machine.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../machine/memory.js';
import {
  ANY_THREAD,
  type Category,
  type Cycles,
  type Fpage,
  INTERRUPT_LABEL,
  type IpcErrorCode,
  type IpcResult,
  type Message,
  NIL_THREAD,
  PAGE_FAULT_LABEL,
  type Rights,
  type Sys,
  type ThreadBody,
  type ThreadId,
} from '../sys.js';
import {
  AddressSpace,
  grantFrom,
  Mapping,
  mapFrom,
  revoke,
  revokeRights,
  rightsBits,
  type SpaceId,
} from './space.js';
import {
  type CallRecord,
  IRQ_DELIVERED,
  IRQ_IDLE,
  IRQ_QUEUED,
  Thread,
  type ThreadState,
} from './thread.js';
import type { Tracer } from './trace.js';

/**
 * Most message words (untyped words plus two per typed item) an IPC carries: L4 X.2 has 64
 * message registers and MR0 holds the tag, so u + t ≤ 63 (X.2 reference manual, "Message
 * Registers" and "MsgTag"; Pistachio `kernel/src/api/v4/ipc.cc`, IPC_NUM_MR).
 */
export const MAX_MESSAGE_WORDS = 63;
/** Default timeslice: 10 ms at the paper's 2.66 GHz (L4's default timeslice length). */
export const DEFAULT_TIMESLICE_SECONDS = 0.01;

const ADDRESS_LIMIT = 2 ** 32;
const EMPTY_WORDS: readonly number[] = Object.freeze([]);
const EMPTY_MSG: Message = Object.freeze({ label: 0, words: EMPTY_WORDS });
/** The receive window the kernel uses for page-fault replies: the whole address space. */
const WHOLE_SPACE: Fpage = Object.freeze({
  base: 0,
  sizeLog2: 32,
  rights: Object.freeze({ read: true, write: true, execute: true }),
});

/** Options to create a thread through the privileged API. */
export interface ThreadOptions {
  /** Name for traces and reports. */
  readonly name: string;
  /** Address space the thread runs in. */
  readonly space: SpaceId;
  /** Priority 0–255 (higher runs first); default 100. */
  readonly priority?: number;
  /** Pager that receives the thread's page faults; default none. */
  readonly pager?: ThreadId;
  /** The thread's body. */
  readonly body: ThreadBody;
}

/** A public view of one thread's state. */
export interface ThreadInfo {
  /** Id. */
  readonly id: ThreadId;
  /** Name. */
  readonly name: string;
  /** Kernel state. */
  readonly state: ThreadState;
  /** Priority. */
  readonly priority: number;
  /** Space id (-1 for idle and interrupt threads). */
  readonly space: SpaceId;
  /** The exception that killed it, if any. */
  readonly error: unknown;
}

/** A thread that died of an exception. */
export interface ThreadFailure {
  /** Thread id. */
  readonly id: ThreadId;
  /** Thread name. */
  readonly name: string;
  /** The exception. */
  readonly error: unknown;
  /** When. */
  readonly at: Cycles;
}

/** Event counters of the kernel. */
export interface KernelCounters {
  /** Kernel calls executed. */
  kernelCalls: number;
  /** IPC messages transferred (including interrupt and page-fault messages). */
  ipcMessages: number;
  /** Interrupts delivered as IPC. */
  interrupts: number;
  /** Interrupts raised on lines with no handler. */
  spuriousInterrupts: number;
  /** Page faults turned into IPC. */
  pageFaults: number;
  /** Thread dispatches that changed the running thread. */
  contextSwitches: number;
  /** Address-space switches (TLB flushes). */
  addressSpaceSwitches: number;
  /** Involuntary preemptions. */
  preemptions: number;
  /** Failed zero-timeout sends latched on a target inside a preemption window. */
  wakeupsLatched: number;
  /** Threads that returned from their body. */
  threadsExited: number;
  /** Threads killed by an exception. */
  threadsFailed: number;
  /** Threads killed through the privileged API. */
  threadsKilled: number;
  /** Yields of something that is not a kernel call (the thread is killed). */
  badCalls: number;
  /** Register accesses outside a device window (read as all-ones, write dropped). */
  badMmio: number;
  /** `charge()` calls with a negative, NaN or infinite amount (ignored). */
  badCharges: number;
}

/** The kernel. Created by the sim engine; its public methods are the privileged setup API. */
export class Kernel {
  /** The machine under the kernel. */
  readonly machine: Machine;
  /** Cycle accounting. */
  readonly accounting: Accounting;
  /** The cost model. */
  readonly costs: CostModel;
  /** Counters. */
  readonly counters: KernelCounters = {
    kernelCalls: 0,
    ipcMessages: 0,
    interrupts: 0,
    spuriousInterrupts: 0,
    pageFaults: 0,
    contextSwitches: 0,
    addressSpaceSwitches: 0,
    preemptions: 0,
    wakeupsLatched: 0,
    threadsExited: 0,
    threadsFailed: 0,
    threadsKilled: 0,
    badCalls: 0,
    badMmio: 0,
    badCharges: 0,
  };
  /** Threads that died of an exception, in order. */
  readonly failures: ThreadFailure[] = [];
  /** Timeslice length in cycles. */
  readonly timeslice: Cycles;
  /**
   * When true (the engine's default), a thread that dies of an exception stops `runUntil` with a
   * {@link ThreadFailedError}; when false it is only recorded in {@link Kernel.failures}.
   */
  throwOnFailure = true;

  private readonly threads: (Thread | undefined)[] = [undefined];
  private readonly spaces: AddressSpace[] = [];
  private readonly irqThreads: (Thread | undefined)[] = [];
  private readonly idle: Thread;
  private current: Thread | null = null;
  private hint: Thread | null = null;
  private loadedSpace: AddressSpace | null = null;
  private needResched = false;
  private readonly irqQueue: Line[] = [];
  private running = false;
  private readonly tracer: Tracer | null;
  private switchCat: number;
  private switchCost = 0;

  // Ready queues: one intrusive list per priority plus a bitmap of non-empty priorities.
  private readonly rqHead: (Thread | null)[] = new Array(256).fill(null);
  private readonly rqTail: (Thread | null)[] = new Array(256).fill(null);
  private readonly rqBits = new Uint32Array(8);

  // Interned categories.
  private readonly cIPC: number;
  private readonly cKernel: number;
  private readonly cIdle: number;

  /**
   * @param machine - the machine
   * @param accounting - accounting to charge
   * @param costs - cost model
   * @param timeslice - timeslice in cycles
   * @param tracer - trace sink or null
   */
  constructor(
    machine: Machine,
    accounting: Accounting,
    costs: CostModel,
    timeslice: Cycles,
    tracer: Tracer | null,
  ) {
    this.machine = machine;
    this.accounting = accounting;
    this.costs = costs;
    this.timeslice = timeslice;
    this.tracer = tracer;
    this.cIPC = accounting.categoryIndex('IPC');
    this.cKernel = accounting.categoryIndex('Kernel');
    this.cIdle = accounting.categoryIndex('Idle');
    this.switchCat = this.cKernel;
    this.idle = this.addThread('idle', 'idle', null, 0, NIL_THREAD);
  }

  // ---------------------------------------------------------------- privileged setup API

  /**
   * Create an address space; returns its id. With `options.global` the space is the kernel's
   * own, present in every address space: dispatching its threads switches no page table (see
   * {@link AddressSpace.global}).
   */
  createSpace(name: string, options: { readonly global?: boolean } = {}): SpaceId {
    const s = new AddressSpace(this.spaces.length, name);
    s.global = options.global === true;
    this.spaces.push(s);
    return s.id;
  }

  /**
   * Create a thread, ready to run. Its generator starts on its first dispatch.
   * @throws KernelError `NO_SUCH_SPACE`, `CONFIG` (bad priority or body)
   */
  createThread(options: ThreadOptions): ThreadId {
    const space = this.space(options.space);
    const prio = options.priority ?? 100;
    if (!Number.isInteger(prio) || prio < 0 || prio > 255) {
      throw new KernelError('CONFIG', `priority must be an integer in [0, 255], got ${prio}`);
    }
    if (typeof options.body !== 'function') {
      throw new KernelError('CONFIG', `thread ${options.name}: body must be a generator function`);
    }
    const pager = options.pager ?? NIL_THREAD;
    const t = this.addThread(options.name, 'user', space, prio, pager);
    const sys = this.makeSys(t);
    t.sys = sys;
    const gen = options.body(sys);
    if (gen === null || typeof gen !== 'object' || typeof gen.next !== 'function') {
      throw new KernelError('CONFIG', `thread ${options.name}: body must return a generator`);
    }
    t.gen = gen;
    t.sliceLeft = this.timeslice;
    this.makeReady(t);
    return t.id;
  }

  /** Set a thread's pager (e.g. after creating the pager thread). */
  setPager(thread: ThreadId, pager: ThreadId): void {
    this.userThread(thread).pager = pager;
  }

  /** Change a thread's priority (0–255). */
  setPriority(thread: ThreadId, priority: number): void {
    const t = this.userThread(thread);
    if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
      throw new KernelError('CONFIG', `priority must be an integer in [0, 255], got ${priority}`);
    }
    if (t.queued) {
      this.rqRemove(t);
      t.priority = priority;
      this.rqPushTail(t);
    } else {
      t.priority = priority;
    }
    this.needResched = true;
  }

  /**
   * Allocate physically contiguous frames; returns the physical address.
   * @throws KernelError `OUT_OF_MEMORY`
   */
  allocateFrames(bytes: number, align = PAGE_SIZE): number {
    return this.machine.memory.allocate(bytes, align);
  }

  /**
   * Allocate a new memory region (its own buffer in the `'separate'` layout): one per dataspace
   * and per translation table, so sharing one never exposes another.
   * @throws KernelError `OUT_OF_MEMORY`, `CONFIG`
   */
  allocateRegion(bytes: number, align = PAGE_SIZE): { paddr: number; region: MemoryRegion } {
    return this.machine.memory.allocateRegion(bytes, align);
  }

  /**
   * Map physical memory into a space as roots of the mapping tree (sigma0's role). Existing
   * mappings at the destination are revoked first.
   * @throws KernelError `ALIGNMENT` (addresses or size not page-aligned), `RANGE`, `NO_SUCH_SPACE`
   */
  mapPhysical(space: SpaceId, vaddr: number, paddr: number, bytes: number, rights: Rights): void {
    const s = this.space(space);
    checkPageRange(vaddr, bytes, 'vaddr');
    if (paddr % PAGE_SIZE !== 0 || !Number.isInteger(paddr)) {
      throw new KernelError('ALIGNMENT', `paddr ${paddr} is not page-aligned`);
    }
    if (!this.machine.memory.contains(paddr, bytes)) {
      throw new KernelError('RANGE', `physical range ${paddr}+${bytes} outside backed memory`);
    }
    const bits = rightsBits(rights);
    const vp = vaddr >>> PAGE_SHIFT;
    const fp = paddr / PAGE_SIZE;
    for (let i = 0; i < bytes / PAGE_SIZE; i++) {
      const old = s.pages.get(vp + i);
      if (old !== undefined) revoke(old, true);
      s.pages.set(vp + i, new Mapping(s, vp + i, fp + i, bits, null));
    }
  }

  /**
   * Allocate frames and map them at `vaddr`: anonymous memory for a space. Returns the physical
   * address.
   */
  mapAnonymous(space: SpaceId, vaddr: number, bytes: number, rights: Rights): number {
    const paddr = this.allocateFrames(bytes);
    this.mapPhysical(space, vaddr, paddr, Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE, rights);
    return paddr;
  }

  /**
   * Map a device's register window into a space at `vaddr`, so `sys.mem.registers(vaddr)` works
   * there. `device` is the device or the name it was attached under.
   * @throws KernelError `ALIGNMENT`, `OVERLAP`, `CONFIG` (unknown device name)
   */
  mapDevice(space: SpaceId, vaddr: number, device: MmioDevice | string): void {
    const s = this.space(space);
    const dev = typeof device === 'string' ? this.machine.devices.get(device) : device;
    if (dev === undefined) throw new KernelError('CONFIG', `no device named ${String(device)}`);
    const size = Math.ceil(dev.mmioSize / PAGE_SIZE) * PAGE_SIZE;
    checkPageRange(vaddr, size, 'vaddr');
    for (const m of s.mmio) {
      if (vaddr < m.base + m.size && m.base < vaddr + size) {
        throw new KernelError('OVERLAP', `device window at ${vaddr} overlaps one at ${m.base}`);
      }
    }
    s.mmio.push({ base: vaddr, size: dev.mmioSize, device: dev });
  }

  /**
   * Unmap `[vaddr, vaddr + bytes)` of a space: revoke every mapping derived from those pages,
   * recursively; with `self`, remove the space's own mappings too. Returns pages removed.
   */
  unmap(space: SpaceId, vaddr: number, bytes: number, self = false): number {
    const s = this.space(space);
    checkPageRange(vaddr, bytes, 'vaddr');
    return this.unmapRange(s, vaddr >>> PAGE_SHIFT, bytes / PAGE_SIZE, self);
  }

  /** Translate a virtual address of a space: physical address and rights, or null if unmapped. */
  lookup(space: SpaceId, vaddr: number): { paddr: number; rights: number } | null {
    const s = this.space(space);
    const m = s.pages.get(Math.floor(vaddr / PAGE_SIZE));
    if (m === undefined) return null;
    return { paddr: m.frame * PAGE_SIZE + (vaddr % PAGE_SIZE), rights: m.rights };
  }

  /** State of a thread, or null for an unknown id. */
  threadInfo(id: ThreadId): ThreadInfo | null {
    const t = this.threads[id];
    if (t === undefined) return null;
    return {
      id: t.id,
      name: t.name,
      state: t.state,
      priority: t.priority,
      space: t.space?.id ?? -1,
      error: t.error,
    };
  }

  /** Every thread's state, by id (the idle thread included). */
  allThreads(): ThreadInfo[] {
    const out: ThreadInfo[] = [];
    for (const t of this.threads) if (t !== undefined) out.push(this.threadInfo(t.id)!);
    return out;
  }

  /** The interrupt thread id of a line (created if needed). */
  interruptThread(line: number): ThreadId {
    return this.irqThreadFor(this.machine.irq(line)).id;
  }

  /** Kill a thread: IPC partners get `non-existing-partner`. */
  kill(id: ThreadId): void {
    const t = this.userThread(id);
    if (t.state === 'dead') return;
    this.counters.threadsKilled++;
    this.die(t, undefined);
  }

  /** Cancel a blocked IPC of a thread: it returns `canceled` (L4 ExchangeRegisters). */
  cancelIpc(id: ThreadId): void {
    this.interruptIpc(this.userThread(id), 'canceled');
  }

  /**
   * Abort a blocked IPC of a thread (L4 ExchangeRegisters with the abort flag). udf transfers
   * messages atomically, so a blocked IPC has never started and, as in X.2, it returns
   * `canceled`; X.2's `aborted` is for a transfer in progress, which udf never has (udf uses
   * `aborted` only for the preemption-control rollback, see `SysIpc`). X.2 reference manual,
   * "ExchangeRegisters" (control bits) and the IPC error codes.
   */
  abortIpc(id: ThreadId): void {
    this.interruptIpc(this.userThread(id), 'canceled');
  }

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

  private loop(limit: Cycles): void {
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
      if (call !== null) {
        cur.call = null;
        this.exec(cur, call);
        continue;
      }
      this.step(cur);
    }
  }

  private step(t: Thread): void {
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
   * A thread died of `error`: record it, tear it down (partners get `non-existing-partner`) and,
   * unless failures are only recorded, stop the run loudly with a {@link ThreadFailedError}.
   */
  private fail(t: Thread, error: unknown): void {
    this.counters.threadsFailed++;
    const at = this.machine.clock;
    this.failures.push({ id: t.id, name: t.name, error, at });
    this.die(t, error);
    if (this.throwOnFailure) throw new ThreadFailedError(t.id, t.name, at, error);
  }

  /** Consume the current thread's charged cycles until done, preempted, slice end or `limit`. */
  private consume(t: Thread, limit: Cycles): void {
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

  /** Pass `cycles` of the thread's charged compute (time advances, accounting charged FIFO). */
  private burn(t: Thread, cycles: Cycles): void {
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
  private settle(t: Thread): void {
    for (let i = t.pHead; i < t.pCyc.length; i++) this.accounting.add(t.id, t.pCat[i]!, t.pCyc[i]!);
    t.pCat.length = 0;
    t.pCyc.length = 0;
    t.pHead = 0;
    t.pTotal = 0;
  }

  /** Non-preemptible kernel time: `cycles` pass, charged to (thread, category). */
  private spend(t: Thread, cat: number, cycles: Cycles): void {
    if (cycles <= 0) return;
    const m = this.machine;
    const target = m.clock + cycles;
    while (m.events.peekTime() <= target) this.fireOne();
    m.clock = target;
    this.accounting.add(t.id, cat, cycles);
  }

  private idleTo(t: Cycles): void {
    const m = this.machine;
    this.accounting.add(this.idle.id, this.cIdle, t - m.clock);
    m.clock = t;
  }

  private fireOne(): void {
    const m = this.machine;
    const ev = m.events.pop();
    if (ev === null) return;
    if (ev.at > m.clock) m.clock = ev.at;
    const fn = ev.fn!;
    ev.fn = null;
    m.eventsFired++;
    fn();
  }

  // ---------------------------------------------------------------- scheduler

  private topPriority(): number {
    const b = this.rqBits;
    for (let w = 7; w >= 0; w--) {
      const x = b[w]!;
      if (x !== 0) return w * 32 + 31 - Math.clz32(x);
    }
    return -1;
  }

  private rqPushTail(t: Thread): void {
    const p = t.priority;
    t.rqNext = null;
    t.rqPrev = this.rqTail[p]!;
    if (t.rqPrev === null) this.rqHead[p] = t;
    else t.rqPrev.rqNext = t;
    this.rqTail[p] = t;
    t.queued = true;
    this.rqBits[p >> 5]! |= 1 << (p & 31);
  }

  private rqPushHead(t: Thread): void {
    const p = t.priority;
    t.rqPrev = null;
    t.rqNext = this.rqHead[p]!;
    if (t.rqNext === null) this.rqTail[p] = t;
    else t.rqNext.rqPrev = t;
    this.rqHead[p] = t;
    t.queued = true;
    this.rqBits[p >> 5]! |= 1 << (p & 31);
  }

  private rqRemove(t: Thread): void {
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

  private makeReady(t: Thread): void {
    t.state = 'ready';
    this.rqPushTail(t);
    const cur = this.current;
    if (cur !== null && t.priority > cur.priority) this.needResched = true;
  }

  private preempt(cur: Thread, cost: Cycles): void {
    cur.state = 'ready';
    cur.pcPreempted = true;
    this.rqPushHead(cur);
    this.current = null;
    this.counters.preemptions++;
    this.switchCost = cost;
    this.tracer?.record(this.machine.clock, 'preempt', cur.id, NIL_THREAD, 0);
  }

  /** Pick the next thread (the IPC partner hint first when it is eligible) and switch to it. */
  private dispatch(): Thread | null {
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

  // ---------------------------------------------------------------- kernel calls

  private exec(t: Thread, c: CallRecord): void {
    this.counters.kernelCalls++;
    const a = c.args;
    const a0 = a[0];
    const a1 = a[1];
    const a2 = a[2];
    const a3 = a[3];
    a[0] = a[1] = a[2] = a[3] = undefined;
    this.switchCat = this.cIPC;
    switch (c.op) {
      case 'send':
        this.ipcSend(t, a0 as ThreadId, a1 as Message, a2 as number, false, 0, undefined);
        return;
      case 'call':
        this.ipcSend(
          t,
          a0 as ThreadId,
          a1 as Message,
          a2 as number,
          true,
          a2 as number,
          a3 as Fpage,
        );
        return;
      case 'reply':
        this.ipcSend(t, a0 as ThreadId, a1 as Message, 0, false, 0, undefined);
        return;
      case 'replyWait':
        this.ipcReplyWait(t, a0 as ThreadId, a1 as Message, a2 as number, a3 as Fpage);
        return;
      case 'receive':
        this.spendIpc(t, 0);
        this.ipcReceive(t, a0 as ThreadId, a1 as number, a2 as Fpage, true);
        return;
      case 'sleep':
        this.spend(t, this.cKernel, this.costs.syscall);
        t.resume = undefined;
        this.block(t, NIL_THREAD, a0 as number, undefined, true);
        return;
      case 'yield':
        this.spend(t, this.cKernel, this.costs.syscall);
        t.resume = undefined;
        if (this.current === t && this.rqHead[t.priority] !== null) {
          t.state = 'ready';
          this.rqPushTail(t);
          this.current = null;
          this.switchCat = this.cKernel;
          this.switchCost = this.costs.contextSwitch;
        }
        return;
      case 'attach':
        this.spend(t, this.cKernel, this.costs.syscall);
        t.resume = this.attach(t, a0 as number);
        return;
      case 'detach':
        this.spend(t, this.cKernel, this.costs.syscall);
        this.detach(t, a0 as number);
        t.resume = undefined;
        return;
      case 'fault':
        this.pageFault(t, a0 as number, a1 as number);
        return;
      case 'unmap': {
        const f = a0 as Fpage;
        let n = 0;
        if (t.space !== null && validFpage(f)) {
          n = this.unmapRange(
            t.space,
            f.base >>> PAGE_SHIFT,
            2 ** (f.sizeLog2 - PAGE_SHIFT),
            a1 === true,
            rightsBits(f.rights),
          );
        }
        this.spend(t, this.cKernel, this.costs.syscall + n * this.costs.unmapPage);
        t.resume = n;
        return;
      }
      default:
        this.counters.badCalls++;
        t.resume = undefined;
    }
  }

  private spendIpc(t: Thread, words: number): void {
    this.spend(t, this.cIPC, this.costs.ipc + words * this.costs.ipcPerWord);
  }

  private result(
    t: Thread,
    error: IpcErrorCode,
    phase: 'send' | 'receive',
    from: ThreadId,
  ): IpcResult {
    const r: IpcResult = { ok: false, error, phase, from };
    t.resume = r;
    return r;
  }

  private ipcSend(
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
  private trySend(s: Thread, toId: ThreadId, msg: Message, words: number): true | IpcResult | null {
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
  private missedWakeup(toId: ThreadId): void {
    const dst = this.threads[toId];
    if (dst?.pcOpen && !dst.pcMissed) {
      dst.pcMissed = true;
      this.counters.wakeupsLatched++;
    }
  }

  private ipcReplyWait(
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

  private ipcReceive(
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
  private block(
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
  private suspend(t: Thread, timeout: number): void {
    if (this.current === t) this.current = null;
    t.blockSeq++;
    if (timeout !== Number.POSITIVE_INFINITY) {
      const seq = t.blockSeq;
      t.timeoutEv = this.machine.events.push(this.machine.clock + timeout, () =>
        this.onTimeout(t, seq),
      );
    }
  }

  private unsuspend(t: Thread): void {
    t.blockSeq++;
    const ev: ScheduledEvent | null = t.timeoutEv;
    if (ev !== null) {
      ev.fn = null;
      t.timeoutEv = null;
    }
  }

  /** A receive-blocked thread got its message (`resume` set by transfer): make it ready. */
  private wake(t: Thread): void {
    this.unsuspend(t);
    t.sleeping = false;
    this.makeReady(t);
  }

  private onTimeout(t: Thread, seq: number): void {
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

  private interruptIpc(t: Thread, error: 'canceled' | 'aborted'): void {
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
  private transfer(
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

  private sqPush(r: Thread, s: Thread): void {
    s.sqOwner = r;
    s.sqNext = null;
    s.sqPrev = r.sqTail;
    if (r.sqTail === null) r.sqHead = s;
    else r.sqTail.sqNext = s;
    r.sqTail = s;
  }

  private sqRemove(s: Thread): void {
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

  // ---------------------------------------------------------------- interrupts

  private irqThreadFor(line: Line): Thread {
    let t = this.irqThreads[line.number];
    if (t === undefined) {
      t = this.addThread(`irq-${line.number}`, 'interrupt', null, 255, NIL_THREAD);
      t.line = line;
      t.irqMsg = Object.freeze({ label: INTERRUPT_LABEL, words: Object.freeze([line.number]) });
      this.irqThreads[line.number] = t;
    }
    return t;
  }

  /** Machine hook: an unmasked line was raised. */
  onInterrupt(line: Line): void {
    const it = this.irqThreads[line.number];
    if (it === undefined || it.handler === null) {
      this.counters.spuriousInterrupts++;
      return;
    }
    line.masked = true;
    this.irqQueue.push(line);
  }

  private serviceInterrupts(): void {
    const q = this.irqQueue;
    while (q.length > 0) {
      const line = q.shift()!;
      const it = this.irqThreads[line.number]!;
      this.tracer?.record(this.machine.clock, 'irq', it.id, it.handler?.id ?? 0, line.number);
      this.spend(it, this.cKernel, this.costs.interruptEntry + this.costs.interruptMaskAck);
      const h = it.handler;
      if (h === null || h.state === 'dead') {
        line.masked = false;
        continue;
      }
      this.spend(it, this.cIPC, this.costs.ipc);
      if (h.state === 'receive-blocked' && (h.recvFrom === ANY_THREAD || h.recvFrom === it.id)) {
        it.irqState = IRQ_DELIVERED;
        this.counters.ipcMessages++;
        this.counters.interrupts++;
        h.resume = { ok: true, from: it.id, msg: it.irqMsg! };
        this.tracer?.record(this.machine.clock, 'ipc', it.id, h.id, INTERRUPT_LABEL);
        this.wake(h);
        this.switchCat = this.cIPC;
      } else {
        it.irqState = IRQ_QUEUED;
        this.sqPush(h, it);
      }
    }
  }

  /** The handler replied to its interrupt thread: unmask, redeliver if still asserted. */
  private acknowledge(h: Thread, it: Thread): void {
    if (it.irqState !== IRQ_DELIVERED) return;
    it.irqState = IRQ_IDLE;
    const line = it.line!;
    this.spend(h, this.cKernel, this.costs.interruptUnmask);
    line.masked = false;
    if (line.asserted) this.onInterrupt(line);
  }

  private attach(
    t: Thread,
    lineNo: number,
  ): { ok: true; irqThread: ThreadId } | { ok: false; error: string } {
    if (!Number.isInteger(lineNo) || lineNo < 0 || lineNo >= 256) {
      return { ok: false, error: 'invalid-line' };
    }
    const line = this.machine.irq(lineNo);
    const it = this.irqThreadFor(line);
    if (it.handler !== null && it.handler !== t && it.handler.state !== 'dead') {
      return { ok: false, error: 'busy' };
    }
    it.handler = t;
    if (line.masked && it.irqState === IRQ_IDLE) line.masked = false;
    if (line.asserted && !line.masked) this.onInterrupt(line);
    return { ok: true, irqThread: it.id };
  }

  private detach(t: Thread, lineNo: number): void {
    const it = this.irqThreads[lineNo];
    if (it === undefined || it.handler !== t) return;
    if (it.irqState === IRQ_QUEUED) this.sqRemove(it);
    it.irqState = IRQ_IDLE;
    it.handler = null;
  }

  // ---------------------------------------------------------------- page faults and memory

  private pageFault(t: Thread, vaddr: number, access: number): void {
    this.counters.pageFaults++;
    this.spend(t, this.cKernel, this.costs.pageFault);
    this.tracer?.record(this.machine.clock, 'fault', t.id, t.pager, vaddr);
    const msg: Message = { label: PAGE_FAULT_LABEL, words: [vaddr, access] };
    this.ipcSend(
      t,
      t.pager,
      msg,
      Number.POSITIVE_INFINITY,
      true,
      Number.POSITIVE_INFINITY,
      WHOLE_SPACE,
    );
  }

  /** Revoke `bits` (default all) of the mappings derived from a page range; see revokeRights. */
  private unmapRange(
    s: AddressSpace,
    vpage: number,
    count: number,
    self: boolean,
    bits = 7,
  ): number {
    let n = 0;
    for (let i = 0; i < count; i++) {
      const m = s.pages.get(vpage + i);
      if (m !== undefined) n += revokeRights(m, bits, self);
    }
    return n;
  }

  // ---------------------------------------------------------------- threads

  private addThread(
    name: string,
    kind: 'user' | 'idle' | 'interrupt',
    space: AddressSpace | null,
    priority: number,
    pager: ThreadId,
  ): Thread {
    const t = new Thread(this.threads.length, name, kind, space, priority, pager);
    this.threads.push(t);
    this.accounting.nameThread(t.id, name);
    return t;
  }

  private die(t: Thread, error: unknown): void {
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

  private space(id: SpaceId): AddressSpace {
    const s = this.spaces[id];
    if (s === undefined) throw new KernelError('NO_SUCH_SPACE', `no address space ${id}`);
    return s;
  }

  private userThread(id: ThreadId): Thread {
    const t = this.threads[id];
    if (t === undefined || t.kind !== 'user') {
      throw new KernelError('NO_SUCH_THREAD', `no user thread ${id}`);
    }
    return t;
  }

  /** Internal: the TCB of an id (for the Sys implementation). */
  tcb(id: ThreadId): Thread | undefined {
    return this.threads[id];
  }

  /** Internal: append charged compute to a thread. */
  charge(t: Thread, category: Category, cycles: Cycles): void {
    if (!(cycles > 0)) {
      if (cycles !== 0) this.counters.badCharges++;
      return;
    }
    if (cycles === Number.POSITIVE_INFINITY) {
      this.counters.badCharges++;
      return;
    }
    const c = this.accounting.categoryIndex(category);
    const n = t.pCat.length;
    if (n > t.pHead && t.pCat[n - 1] === c) t.pCyc[n - 1]! += cycles;
    else {
      t.pCat.push(c);
      t.pCyc.push(cycles);
    }
    t.pTotal += cycles;
  }

  /** Internal: builds a thread's Sys (installed by the engine). */
  makeSys: (t: Thread) => Sys = () => {
    throw new KernelError('CONFIG', 'kernel has no Sys factory');
  };
}

/** Words an IPC message occupies, or -1 (malformed) / -2 (overflow). */
function msgWords(msg: Message): number {
  if (msg === null || typeof msg !== 'object' || !Array.isArray(msg.words)) return -1;
  if (typeof msg.label !== 'number') return -1;
  const items = msg.items;
  let n = msg.words.length;
  if (items !== undefined) {
    if (!Array.isArray(items)) return -1;
    for (const it of items) {
      if (it === null || typeof it !== 'object') return -1;
      if (it.kind !== 'map' && it.kind !== 'grant') return -1;
      if (!validFpage(it.fpage)) return -1;
      if (!Number.isInteger(it.sendBase) || it.sendBase < 0) return -1;
    }
    n += 2 * items.length;
  }
  return n > MAX_MESSAGE_WORDS ? -2 : n;
}

/** True for a well-formed fpage: integer base aligned to its size, size 4 KiB .. 4 GiB. */
export function validFpage(f: Fpage | undefined): boolean {
  if (f === null || typeof f !== 'object') return false;
  const { base, sizeLog2, rights } = f;
  if (!Number.isInteger(sizeLog2) || sizeLog2 < PAGE_SHIFT || sizeLog2 > 32) return false;
  if (!Number.isInteger(base) || base < 0) return false;
  const size = 2 ** sizeLog2;
  if (base % size !== 0 || base + size > ADDRESS_LIMIT) return false;
  return rights !== null && typeof rights === 'object';
}

function timeoutCycles(t: number): number {
  if (t === undefined) return Number.POSITIVE_INFINITY;
  if (!(t > 0)) return 0;
  return t;
}

function checkPageRange(vaddr: number, bytes: number, what: string): void {
  if (!Number.isInteger(vaddr) || vaddr % PAGE_SIZE !== 0 || vaddr < 0) {
    throw new KernelError('ALIGNMENT', `${what} ${vaddr} is not page-aligned`);
  }
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes % PAGE_SIZE !== 0) {
    throw new KernelError('ALIGNMENT', `size ${bytes} is not a positive multiple of ${PAGE_SIZE}`);
  }
  if (vaddr + bytes > ADDRESS_LIMIT) {
    throw new KernelError('RANGE', `${what} range ${vaddr}+${bytes} beyond 4 GiB`);
  }
}
