/**
 * The kernel's state: machine, accounting, counters, thread and space tables, ready queues and
 * the interrupt queue, shared by the layers of the kernel (cpu.ts → scheduler.ts → ipc.ts →
 * interrupts.ts → faults.ts → lifecycle.ts → syscalls.ts → kernel.ts, each extending the one
 * before). Also the message and fpage checks every layer uses.
 *
 * @module
 */
import { KernelError, ThreadFailedError } from '../errors.js';
import type { Accounting } from '../machine/accounting.js';
import type { CostModel } from '../machine/costs.js';
import type { Line, Machine } from '../machine/machine.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../machine/memory.js';
import {
  type Category,
  type Cycles,
  type Fpage,
  type Message,
  NIL_THREAD,
  type Sys,
  type ThreadBody,
  type ThreadId,
} from '../sys.js';
import type { AddressSpace, SpaceId } from './space.js';
import { type CallRecord, Thread, type ThreadState } from './thread.js';
import type { Tracer } from './trace.js';

/**
 * Most message words (untyped words plus two per typed item) an IPC carries: L4 X.2 has 64
 * message registers and MR0 holds the tag, so u + t ≤ 63 (X.2 reference manual, "Message
 * Registers" and "MsgTag"; Pistachio `kernel/src/api/v4/ipc.cc`, IPC_NUM_MR).
 */
export const MAX_MESSAGE_WORDS = 63;
/** Default timeslice: 10 ms at the paper's 2.66 GHz (L4's default timeslice length). */
export const DEFAULT_TIMESLICE_SECONDS = 0.01;

/**
 * Label of the message a supervised thread's death sends its supervisor (see
 * `Kernel.superviseThread`): words `[dead thread id, how]`, `how` being {@link EXIT_RETURNED}
 * or {@link EXIT_FAILED}. Negative: the kernel reserves negative labels, as for interrupts and
 * page faults.
 */
export const THREAD_EXIT_LABEL = -4;
/** A thread exit message's `how`: the thread's body returned. */
export const EXIT_RETURNED = 0;
/** A thread exit message's `how`: the thread died of an exception. */
export const EXIT_FAILED = 1;

/** The 32-bit virtual address space's size. */
export const ADDRESS_LIMIT = 2 ** 32;
const EMPTY_WORDS: readonly number[] = Object.freeze([]);
/** The empty message a successful send resumes with. */
export const EMPTY_MSG: Message = Object.freeze({ label: 0, words: EMPTY_WORDS });
/** The receive window the kernel uses for page-fault replies: the whole address space. */
export const WHOLE_SPACE: Fpage = Object.freeze({
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
  /** Deaths of supervised threads reported to their supervisor (instead of stopping the run). */
  exitsNotified: number;
  /** Threads restarted with their old id through the privileged API. */
  threadsRestarted: number;
  /** Threads made to hang through the privileged API (fault injection). */
  hangsInjected: number;
  /** Yields of something that is not a kernel call (the thread is killed). */
  badCalls: number;
  /** Register accesses outside a device window (read as all-ones, write dropped). */
  badMmio: number;
  /** `charge()` calls with a negative, NaN or infinite amount (ignored). */
  badCharges: number;
}

/** The kernel's state and the operations every layer shares (internal). */
export abstract class KernelState {
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
    exitsNotified: 0,
    threadsRestarted: 0,
    hangsInjected: 0,
    badCalls: 0,
    badMmio: 0,
    badCharges: 0,
  };
  /** Threads that died of an exception, in order (supervised threads excepted). */
  readonly failures: ThreadFailure[] = [];
  /**
   * Supervised threads that died of an exception, in order: their supervisor was told and the
   * run went on (see `Kernel.superviseThread`).
   */
  readonly supervisedFailures: ThreadFailure[] = [];
  /** Timeslice length in cycles. */
  readonly timeslice: Cycles;
  /**
   * When true (the engine's default), a thread that dies of an exception stops `runUntil` with a
   * {@link ThreadFailedError}; when false it is only recorded in {@link Kernel.failures}.
   */
  throwOnFailure = true;

  protected readonly threads: (Thread | undefined)[] = [undefined];
  protected readonly spaces: AddressSpace[] = [];
  protected readonly irqThreads: (Thread | undefined)[] = [];
  protected readonly idle: Thread;
  protected current: Thread | null = null;
  protected hint: Thread | null = null;
  protected loadedSpace: AddressSpace | null = null;
  protected needResched = false;
  protected readonly irqQueue: Line[] = [];
  protected running = false;
  protected readonly tracer: Tracer | null;
  protected switchCat: number;
  protected switchCost = 0;

  // Ready queues: one intrusive list per priority plus a bitmap of non-empty priorities.
  protected readonly rqHead: (Thread | null)[] = new Array(256).fill(null);
  protected readonly rqTail: (Thread | null)[] = new Array(256).fill(null);
  protected readonly rqBits = new Uint32Array(8);

  // Interned categories.
  protected readonly cIPC: number;
  protected readonly cKernel: number;
  protected readonly cIdle: number;

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

  protected addThread(
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

  // Operations of later layers that earlier layers call (each is implemented in the file named).
  /** interrupts.ts */
  protected abstract serviceInterrupts(): void;
  /** interrupts.ts */
  protected abstract acknowledge(h: Thread, it: Thread): void;
  /** scheduler.ts */
  protected abstract topPriority(): number;
  /** scheduler.ts */
  protected abstract rqPushTail(t: Thread): void;
  /** scheduler.ts */
  protected abstract preempt(cur: Thread, cost: Cycles): void;
  /** scheduler.ts */
  protected abstract dispatch(): Thread | null;
  /** syscalls.ts */
  protected abstract exec(t: Thread, c: CallRecord): void;
  /** lifecycle.ts */
  protected abstract die(t: Thread, error: unknown): void;
  /** lifecycle.ts */
  protected abstract notifyExit(t: Thread, how: number): void;
}

/** Words an IPC message occupies, or -1 (malformed) / -2 (overflow). */
export function msgWords(msg: Message): number {
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

/** A timeout argument as cycles: undefined is never, anything not positive is zero. */
export function timeoutCycles(t: number): number {
  if (t === undefined) return Number.POSITIVE_INFINITY;
  if (!(t > 0)) return 0;
  return t;
}

/** Throws KernelError ALIGNMENT/RANGE unless `[vaddr, vaddr + bytes)` is a page-aligned range below 4 GiB. */
export function checkPageRange(vaddr: number, bytes: number, what: string): void {
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
