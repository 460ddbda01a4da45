/**
 * The kernel's thread control block (internal to the engine).
 *
 * @module
 */
import type { ScheduledEvent } from '../machine/event-queue.js';
import type { Line } from '../machine/machine.js';
import type { Fpage, KernelCall, Message, Sys, ThreadId } from '../sys.js';
import type { AddressSpace } from './space.js';

/** Thread states as the kernel sees them. */
export type ThreadState =
  | 'ready'
  | 'running'
  | 'send-blocked'
  | 'receive-blocked'
  | 'dead'
  | 'interrupt'
  | 'idle';

/** What kind of thread a TCB is. */
export type ThreadKind = 'user' | 'idle' | 'interrupt';

/** The reusable kernel-call record a thread yields. */
export interface CallRecord extends KernelCall {
  op: string;
  args: unknown[];
}

/** Interrupt-thread delivery state. */
export const IRQ_IDLE = 0;
/** Interrupt raised, message queued at the handler. */
export const IRQ_QUEUED = 1;
/** Interrupt delivered; line masked until the handler replies. */
export const IRQ_DELIVERED = 2;

/** A thread control block. */
export class Thread {
  /** Global id. */
  readonly id: ThreadId;
  /** Name for traces and reports. */
  readonly name: string;
  /** Kind. */
  readonly kind: ThreadKind;
  /** Address space (null for the idle and interrupt threads). */
  readonly space: AddressSpace | null;
  /** Priority 0–255, higher runs first. */
  priority: number;
  /** Pager thread id (NIL_THREAD if none). */
  pager: ThreadId;
  /** Scheduling / IPC state. */
  state: ThreadState;
  /** The body's generator. */
  gen: Generator<KernelCall, void, unknown> | null = null;
  /** The thread's Sys. */
  sys: Sys | null = null;
  /** Value the generator resumes with. */
  resume: unknown = undefined;
  /** Kernel call yielded but not executed yet (waiting for charged cycles to be consumed). */
  call: CallRecord | null = null;
  /** Sys operations created but not yet started (one called without `yield*` leaves this > 0). */
  unstarted = 0;
  /** Reusable call record. */
  readonly req: CallRecord = { op: '', args: [undefined, undefined, undefined, undefined] };

  /** Pending charged compute: category indices, FIFO. */
  readonly pCat: number[] = [];
  /** Pending charged compute: cycles per segment. */
  readonly pCyc: number[] = [];
  /** First unconsumed segment. */
  pHead = 0;
  /** Total pending cycles. */
  pTotal = 0;
  /** Cycles left in the current timeslice. */
  sliceLeft = 0;

  /** Ready-queue links. */
  rqNext: Thread | null = null;
  /** Ready-queue links. */
  rqPrev: Thread | null = null;
  /** Whether the thread is in a ready queue. */
  queued = false;

  /** Senders waiting for this thread (head). */
  sqHead: Thread | null = null;
  /** Senders waiting for this thread (tail). */
  sqTail: Thread | null = null;
  /** Send-queue links of this thread as a sender. */
  sqNext: Thread | null = null;
  /** Send-queue links of this thread as a sender. */
  sqPrev: Thread | null = null;
  /** The receiver whose queue this thread waits in. */
  sqOwner: Thread | null = null;

  /** Message of a pending send. */
  sendMsg: Message | null = null;
  /** The pending send is the send phase of a call. */
  sendIsCall = false;
  /** Receive timeout of a call's receive phase. */
  callRecvTimeout = 0;
  /** Partner accepted while receive-blocked (ANY_THREAD, NIL_THREAD or an id). */
  recvFrom: ThreadId = 0;
  /** Receive window (map/grant acceptor) for the current receive. */
  recvWindow: Fpage | undefined = undefined;
  /** Pending timeout event. */
  timeoutEv: ScheduledEvent | null = null;
  /** Incremented on every block/unblock to discard stale timeouts. */
  blockSeq = 0;
  /** True when the blocked operation is a sleep (its result is void). */
  sleeping = false;

  /** Preemption control: window open. */
  pcOpen = false;
  /** Preemption control: preempted since begin(). */
  pcPreempted = false;
  /** Preemption control: a zero-timeout send to this thread failed since begin() (the latch). */
  pcMissed = false;

  /** Interrupt thread: its line. */
  line: Line | null = null;
  /** Interrupt thread: the attached handler. */
  handler: Thread | null = null;
  /** Interrupt thread: delivery state. */
  irqState = IRQ_IDLE;
  /** Interrupt thread: the preallocated interrupt message. */
  irqMsg: Message | null = null;

  /** Why the thread died (an exception), if it did. */
  error: unknown = undefined;

  /**
   * User thread: the pseudo-thread that tells its supervisor when it dies (see
   * `Kernel.superviseThread`); null if nobody supervises it.
   */
  exitNotifier: Thread | null = null;
  /** Set by `Kernel.injectHang`: at its next kernel call the thread blocks forever. */
  hung = false;

  /**
   * @param id - thread id
   * @param name - name
   * @param kind - user, idle or interrupt
   * @param space - address space
   * @param priority - priority
   * @param pager - pager id
   */
  constructor(
    id: ThreadId,
    name: string,
    kind: ThreadKind,
    space: AddressSpace | null,
    priority: number,
    pager: ThreadId,
  ) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.space = space;
    this.priority = priority;
    this.pager = pager;
    this.state = kind === 'user' ? 'ready' : kind;
  }
}
