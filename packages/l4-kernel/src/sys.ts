/**
 * `Sys`: the only surface a component (driver, stack, dataspace manager, echo server) sees.
 *
 * A component thread is a generator function `function* (sys: Sys)`. Every operation that may
 * block or enter the kernel is a generator too, used with `yield*`:
 *
 * ```ts
 * function* echo(sys: Sys) {
 *   for (;;) {
 *     const r = yield* sys.ipc.receive(ANY_THREAD);
 *     if (!r.ok) continue;
 *     sys.charge('User', 500);
 *     yield* sys.ipc.reply(r.from, { label: 1, words: r.msg.words });
 *   }
 * }
 * ```
 *
 * The sim engine interprets the yielded {@link KernelCall}s in virtual time; a worker-thread
 * engine implements the same interface with `Atomics`. Nothing here names an engine.
 *
 * @module
 */

/** Virtual time and cost, in CPU cycles of the simulated machine. */
export type Cycles = number;

/** A global thread id (L4 X.2 "thread id"). `0` is the nil thread. */
export type ThreadId = number;

/** The nil thread id: no partner. */
export const NIL_THREAD: ThreadId = 0;
/** Receive from any partner (L4's "anythread"). */
export const ANY_THREAD: ThreadId = -1;

/** A timeout in cycles: `0` is L4's zero timeout, {@link NEVER} blocks forever, any other value is relative. */
export type Timeout = Cycles;
/** The never timeout. */
export const NEVER: Timeout = Number.POSITIVE_INFINITY;
/** The zero timeout: fail at once instead of blocking. */
export const ZERO: Timeout = 0;

/**
 * Accounting categories of the paper's execution profile (Figure 1(a)) plus `User`.
 * Components may charge to other names (a `string`); the profile query groups them as they are.
 */
export type Category =
  | 'IPC'
  | 'Kernel'
  | 'Driver'
  | 'IP'
  | 'Notification'
  | 'Translation'
  | 'Interrupt'
  | 'Buffer'
  | 'Idle'
  | 'User'
  | (string & {});

/** The paper's profile categories in the order Figure 1(a) lists them. */
export const PROFILE_CATEGORIES: readonly Category[] = [
  'IPC',
  'Kernel',
  'Driver',
  'IP',
  'Notification',
  'Translation',
  'Interrupt',
  'Buffer',
  'Idle',
] as const;

/** Access rights of an fpage, as L4 X.2's `rwx` bits. */
export interface Rights {
  readonly read: boolean;
  readonly write: boolean;
  readonly execute: boolean;
}

/** A flexpage: a naturally aligned, power-of-two sized range of an address space (L4 X.2). */
export interface Fpage {
  /** Base virtual address; must be aligned to `2 ** sizeLog2`. */
  readonly base: number;
  /** log2 of the size in bytes; at least 12 (one 4 KiB page). */
  readonly sizeLog2: number;
  readonly rights: Rights;
}

/** A typed message item transferring a page range: map keeps the sender's mapping, grant moves it. */
export interface MapGrantItem {
  readonly kind: 'map' | 'grant';
  /** The sender's fpage. */
  readonly fpage: Fpage;
  /**
   * Where the fpage lands in the receiver's receive window (L4's "send base"), as an offset
   * added to the receiver's window base.
   */
  readonly sendBase: number;
}

/** An IPC message: label, untyped words (message registers) and typed items. At most 64 words in all. */
export interface Message {
  /** The tag's label (protocol-defined; negative labels are reserved for the kernel's page-fault and interrupt protocols). */
  readonly label: number;
  /** Untyped message registers. */
  readonly words: readonly number[];
  /** Typed items (map/grant). */
  readonly items?: readonly MapGrantItem[];
}

/** L4 X.2 IPC error codes. */
export type IpcErrorCode =
  | 'timeout'
  | 'non-existing-partner'
  | 'canceled'
  | 'aborted'
  | 'message-overflow'
  | 'malformed-item';

/** Result of an IPC operation. `phase` tells whether the send or the receive part failed. */
export type IpcResult =
  | { readonly ok: true; readonly from: ThreadId; readonly msg: Message }
  | {
      readonly ok: false;
      readonly error: IpcErrorCode;
      readonly phase: 'send' | 'receive';
      readonly from: ThreadId;
    };

/** Label of the kernel-synthesised page-fault message (L4 X.2 uses -2 << 4). */
export const PAGE_FAULT_LABEL = -2;
/** Label of the kernel-synthesised interrupt message (L4 X.2 uses -1 << 4). */
export const INTERRUPT_LABEL = -1;
/**
 * Label of a pager's reply that refuses a page fault: the faulting `sys.mem.access` fails with
 * `unmapped` (or `rights` when the page is mapped with too few rights). Any other reply that maps nothing makes the thread fault again (L4 X.2). X.2 has no
 * refusal message (a pager that cannot resolve a fault stops the thread); this is udf's.
 */
export const PAGE_FAULT_REFUSED_LABEL = -3;

/**
 * A kernel call yielded by a component generator. The engine executes it and resumes the
 * generator with the result. Components never construct these directly; they use `Sys`.
 */
export interface KernelCall<R = unknown> {
  readonly op: string;
  readonly args: readonly unknown[];
  /** Phantom field carrying the result type; never set at run time. */
  readonly __result?: R;
}

/** A kernel call usable with `yield*`, resuming with `R`. */
export type SysCall<R> = Generator<KernelCall<R>, R, unknown>;

/** A thread body: a generator function run by an engine. */
export type ThreadBody = (sys: Sys) => Generator<KernelCall, void, unknown>;

/** Memory access kinds for faults and mappings. */
export type Access = 'read' | 'write' | 'execute';

/** A byte range of memory attached to the caller's address space, as typed views. */
export interface MemoryView {
  /** Virtual address of the first byte in the caller's address space. */
  readonly vaddr: number;
  /** Bytes of the range. */
  readonly bytes: Uint8Array;
  /** The same memory as 32-bit words (only the whole words inside the range). */
  readonly words: Uint32Array;
  /**
   * The buffer of the region under the view, for `Atomics` (lock-free rings live here). It may
   * hold other memory of the same region, never memory of another region.
   */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of `bytes` inside `buffer`. */
  readonly byteOffset: number;
}

/** Why a memory request failed: the page was not mapped and the pager could not map it, or a rights violation. */
export interface MemoryError {
  readonly ok: false;
  readonly error: 'unmapped' | 'no-pager' | 'rights' | 'not-contiguous' | 'out-of-range';
  readonly vaddr: number;
}

/** A device register window (MMIO) mapped into the caller's address space. */
export interface RegisterWindow {
  /** Read a 32-bit register at a byte offset in the window. Charges the cost model's uncached-read cost. */
  read32(offset: number): number;
  /** Write a 32-bit register at a byte offset in the window. Charges the cost model's posted-write cost. */
  write32(offset: number, value: number): void;
}

/**
 * IPC operations (L4 X.2 semantics).
 *
 * Receive windows: map/grant items are accepted only by a receive that names a `window` fpage
 * (L4's acceptor). An item lands at `window.base + (sendBase mod windowSize)`, rounded down to
 * the item's size; an item larger than the window, or any item sent to a receiver without a
 * window, fails the IPC with `malformed-item` (phase `send` for the sender; the receiver keeps
 * waiting). Page-fault replies use the whole address space as window.
 *
 * Preemption control: a `receive` (or the receive phase of `replyWait`) issued while a
 * preemption window is open and {@link SysPreemption.preempted} is true returns at once with
 * `aborted` (phase `receive`), so the caller can roll back and retry (paper section 4.5). The
 * receive phase of `call` is not checked: its send already reached the partner, whose reply
 * an abort would lose.
 */
export interface SysIpc {
  /** Send to `to`, blocking until it receives or the timeout expires. */
  send(to: ThreadId, msg: Message, timeout?: Timeout): SysCall<IpcResult>;
  /** Receive from `from` (or {@link ANY_THREAD}), blocking up to `timeout`; `window` accepts map/grant items. */
  receive(from: ThreadId, timeout?: Timeout, window?: Fpage): SysCall<IpcResult>;
  /**
   * Send to `to` then receive from `to` (atomic: the partner's reply cannot be missed). The
   * timeout applies to each phase; `window` accepts map/grant items in the reply.
   */
  call(to: ThreadId, msg: Message, timeout?: Timeout, window?: Fpage): SysCall<IpcResult>;
  /** Send with zero timeout: succeeds only if `to` is already waiting for us. */
  reply(to: ThreadId, msg: Message): SysCall<IpcResult>;
  /**
   * Reply to `to` (zero timeout) then receive from any thread. If the reply fails, no receive
   * happens and the result carries the send-phase error (L4 X.2).
   */
  replyWait(to: ThreadId, msg: Message, timeout?: Timeout, window?: Fpage): SysCall<IpcResult>;
}

/** Interrupts delivered as IPC (paper section 4.1). */
export interface SysIrq {
  /**
   * Attach the calling thread as the handler of interrupt line `line`. Returns the line's
   * interrupt thread id: interrupts arrive as IPC from it (label {@link INTERRUPT_LABEL}),
   * and replying to it unmasks the line.
   */
  attach(line: number): SysCall<{ ok: true; irqThread: ThreadId } | { ok: false; error: string }>;
  /** Detach the caller from `line`; the line stays masked. */
  detach(line: number): SysCall<void>;
}

/** Memory attached to the caller's address space. */
export interface SysMemory {
  /**
   * Make `[vaddr, vaddr + length)` accessible in the caller's address space and return typed views.
   * Unmapped pages raise page faults that the kernel turns into IPC to the caller's pager (which
   * maps them); the call fails with a {@link MemoryError} if a page stays unmapped.
   *
   * The page-fault message is label {@link PAGE_FAULT_LABEL}, words `[fault address, access]`
   * with access as the `rwx` bit needed (read 4, write 2, execute 1); the pager answers with a
   * map item (the receive window is the whole space). A reply that maps nothing makes the thread
   * fault again, as in X.2; a reply labelled {@link PAGE_FAULT_REFUSED_LABEL} fails the access
   * with `unmapped`. A view covers one memory region (one
   * dataspace, one translation table): the range's frames must be physically contiguous inside
   * one region, otherwise the call fails with `not-contiguous`.
   */
  access(vaddr: number, length: number, access: Access): SysCall<MemoryView | MemoryError>;
  /**
   * The register window of a device mapped into the caller's space, starting at `vaddr`
   * (offsets are relative to `vaddr`), or null if no device is mapped there. Each access charges
   * the cost model's MMIO cost to `category` (default `'Driver'`).
   */
  registers(vaddr: number, category?: Category): RegisterWindow | null;
  /**
   * L4 Unmap: revoke every mapping derived from the caller's pages in `fpage`, recursively in
   * all spaces; with `self`, remove the caller's own mappings too. Resumes with pages removed.
   */
  unmap(fpage: Fpage, self?: boolean): SysCall<number>;
  /**
   * The physical address behind `vaddr` in the caller's space, or null if unmapped. (Dataspace
   * managers need it to fill translation caches; in Prime the manager obtained the frames from
   * sigma0 and so knows them.) No kernel entry is charged.
   */
  translate(vaddr: number): number | null;
}

/**
 * Preemption control (paper section 4.5): learn whether the thread lost the CPU, or missed a
 * wake-up, inside a window.
 *
 * The latch makes the sleep protocol (announce sleep in a shared notification bit, re-check for
 * work, then block in a receive inside a window; wakers send a zero-timeout IPC) safe when waker
 * and sleeper run in parallel: a send whose timeout is {@link ZERO} (including `reply` and the
 * send phase of `replyWait`) that fails because the target is not receiving from the sender,
 * sent to a thread whose window is open, latches MISSED on that target. Its `preempted()` then
 * returns true and its next `receive` (or `replyWait` receive phase) returns `aborted` at once
 * instead of blocking, so it re-checks for work rather than sleeping through the wake-up.
 * Sends with a non-zero timeout never latch (they wait for the receiver instead).
 */
export interface SysPreemption {
  /** Open a critical window: clears the preempted flag and the missed-wake-up latch. */
  begin(): void;
  /** True if, since `begin()`, the thread was preempted or a zero-timeout send to it failed. */
  preempted(): boolean;
  /** Close the window (the latch no longer arms; a latched flag stays until `begin()`). */
  end(): void;
}

/**
 * Everything a component thread may use. Engines implement it; components import only this type.
 */
export interface Sys {
  /** The calling thread's id. */
  readonly self: ThreadId;
  /** Current virtual time (sim) or monotonic time converted to cycles (threads). */
  now(): Cycles;
  /** The clock rate in Hz used to convert cycles to seconds. */
  readonly hz: number;
  /**
   * Charge `cycles` of computation to `category`. On the sim engine the calling thread consumes
   * that much virtual CPU time before its next kernel call; on the threads engine it is a no-op.
   */
  charge(category: Category, cycles: Cycles): void;
  /** Yield the CPU (L4 ThreadSwitch to nil). Pending charged cycles are consumed first. */
  yieldCpu(): SysCall<void>;
  /** Sleep for `cycles` (a receive from nil with a relative timeout). */
  sleep(cycles: Cycles): SysCall<void>;
  readonly ipc: SysIpc;
  readonly irq: SysIrq;
  readonly mem: SysMemory;
  readonly preemption: SysPreemption;
}
