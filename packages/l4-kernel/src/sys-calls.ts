/**
 * The kernel-call half of a {@link Sys}, shared by every engine (the sim's `createSys`, the
 * threads engine's `createThreadSys`): one generator per operation that fills the thread's
 * reusable call record and yields it, the count of operations created but not yet started, and
 * the argument check of `mem.access`. An engine adds what is its own — how an access resolves
 * (and faults), register windows, `translate`, the clock, the preemption window — and executes
 * the yielded records.
 *
 * The "created but not started" count: each operation adds one when it is called and takes it
 * back when its body starts, so an operation called without `yield*` (its generator never
 * runs, its kernel call silently never happens) leaves the count above zero after the thread's
 * step, and the engine fails the thread instead.
 *
 * @module
 */
import { accessBits } from './kernel/space.js';
import type { CallRecord } from './kernel/thread.js';
import {
  type Access,
  type Cycles,
  type Fpage,
  type IpcResult,
  type KernelCall,
  type MemoryError,
  type MemoryView,
  type Message,
  NEVER,
  type Sys,
  type SysCall,
  type ThreadId,
  type Timeout,
} from './sys.js';

/** The 32-bit virtual address space's size: an access must end at or below it. */
const ADDRESS_LIMIT = 2 ** 32;

/** Where an engine keeps a thread's count of operations created but not yet started. */
export interface UnstartedCount {
  /** Operations created and not yet started (0 after every complete step of the thread). */
  unstarted: number;
}

/**
 * How an engine resolves an access whose arguments are in range: `need` is the `rwx` bit the
 * access needs ({@link accessBits}). It may yield kernel calls (page faults to the pager).
 */
export type AccessResolver = (
  vaddr: number,
  length: number,
  need: number,
) => Generator<KernelCall<never>, MemoryView | MemoryError, unknown>;

/** The kernel-call operations of a {@link Sys}, as {@link createSysCalls} builds them. */
export interface SysCalls {
  /** {@link Sys.yieldCpu}. */
  readonly yieldCpu: Sys['yieldCpu'];
  /** {@link Sys.sleep}. */
  readonly sleep: Sys['sleep'];
  /** {@link Sys.ipc}. */
  readonly ipc: Sys['ipc'];
  /** {@link Sys.irq}. */
  readonly irq: Sys['irq'];
  /** `Sys.mem.access`: the range check, then the engine's {@link AccessResolver}. */
  readonly access: Sys['mem']['access'];
  /** `Sys.mem.unmap`. */
  readonly unmap: Sys['mem']['unmap'];
  /**
   * Yield one kernel call `op` with arguments `a0..a3` on the record and resume with the
   * engine's result — an engine's own call made inside an operation (a page fault inside
   * `access`), so not counted as an operation. Yields `KernelCall<never>`, so any operation can
   * delegate to it.
   */
  readonly kernelCall: (
    op: string,
    a0?: unknown,
    a1?: unknown,
    a2?: unknown,
    a3?: unknown,
  ) => Generator<KernelCall<never>, unknown, unknown>;
}

/** A failed memory access. */
export function memoryError(error: MemoryError['error'], vaddr: number): MemoryError {
  return { ok: false, error, vaddr };
}

type AttachResult = { ok: true; irqThread: ThreadId } | { ok: false; error: string };

/**
 * Build the kernel-call operations of one thread. Each yields `req` (the thread's reusable call
 * record) with `op` and `args` set — `send`, `receive`, `call`, `reply`, `replyWait`, `yield`,
 * `sleep`, `attach`, `detach`, `unmap`; an omitted IPC timeout is {@link NEVER} — and resumes
 * with the engine's result. `count` is where the created-but-not-started count lives (see the
 * module comment). `access` checks its arguments (integers, length > 0, within the 32-bit
 * space: else `out-of-range`) and delegates to `resolve`. Allocates nothing per call beyond
 * the operation's generator.
 */
export function createSysCalls(
  req: CallRecord,
  count: UnstartedCount,
  resolve: AccessResolver,
): SysCalls {
  const args = req.args;

  function* send(to: ThreadId, msg: Message, timeout: Timeout = NEVER): SysCall<IpcResult> {
    count.unstarted--;
    req.op = 'send';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* receive(from: ThreadId, timeout: Timeout = NEVER, window?: Fpage): SysCall<IpcResult> {
    count.unstarted--;
    req.op = 'receive';
    args[0] = from;
    args[1] = timeout;
    args[2] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* reply(to: ThreadId, msg: Message): SysCall<IpcResult> {
    count.unstarted--;
    req.op = 'reply';
    args[0] = to;
    args[1] = msg;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  // call and replyWait: a send phase, then a receive phase with a reply window
  function* twoPhase(
    op: 'call' | 'replyWait',
    to: ThreadId,
    msg: Message,
    timeout: Timeout | undefined,
    window: Fpage | undefined,
  ): SysCall<IpcResult> {
    count.unstarted--;
    req.op = op;
    args[0] = to;
    args[1] = msg;
    args[2] = timeout === undefined ? NEVER : timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* yieldCpu(): SysCall<void> {
    count.unstarted--;
    req.op = 'yield';
    yield req as KernelCall<void>;
  }
  function* sleep(cycles: Cycles): SysCall<void> {
    count.unstarted--;
    req.op = 'sleep';
    args[0] = cycles;
    yield req as KernelCall<void>;
  }
  function* attach(line: number): SysCall<AttachResult> {
    count.unstarted--;
    req.op = 'attach';
    args[0] = line;
    return (yield req as KernelCall<AttachResult>) as AttachResult;
  }
  function* detach(line: number): SysCall<void> {
    count.unstarted--;
    req.op = 'detach';
    args[0] = line;
    yield req as KernelCall<void>;
  }
  function* unmap(fpage: Fpage, self = false): SysCall<number> {
    count.unstarted--;
    req.op = 'unmap';
    args[0] = fpage;
    args[1] = self;
    return (yield req as KernelCall<number>) as number;
  }
  function* kernelCall(
    op: string,
    a0?: unknown,
    a1?: unknown,
    a2?: unknown,
    a3?: unknown,
  ): Generator<KernelCall<never>, unknown, unknown> {
    req.op = op;
    args[0] = a0;
    args[1] = a1;
    args[2] = a2;
    args[3] = a3;
    return yield req as KernelCall<never>;
  }
  function* access(vaddr: number, length: number, kind: Access): SysCall<MemoryView | MemoryError> {
    count.unstarted--;
    if (
      !Number.isInteger(vaddr) ||
      !Number.isInteger(length) ||
      vaddr < 0 ||
      length <= 0 ||
      vaddr + length > ADDRESS_LIMIT
    ) {
      return memoryError('out-of-range', vaddr);
    }
    return yield* resolve(vaddr, length, accessBits(kind));
  }

  // Each wrapper counts its operation as created; the body's first statement takes it back.
  return {
    yieldCpu: () => {
      count.unstarted++;
      return yieldCpu();
    },
    sleep: (cycles) => {
      count.unstarted++;
      return sleep(cycles);
    },
    ipc: {
      send: (to, msg, timeout) => {
        count.unstarted++;
        return send(to, msg, timeout);
      },
      receive: (from, timeout, window) => {
        count.unstarted++;
        return receive(from, timeout, window);
      },
      call: (to, msg, timeout, window) => {
        count.unstarted++;
        return twoPhase('call', to, msg, timeout, window);
      },
      reply: (to, msg) => {
        count.unstarted++;
        return reply(to, msg);
      },
      replyWait: (to, msg, timeout, window) => {
        count.unstarted++;
        return twoPhase('replyWait', to, msg, timeout, window);
      },
    },
    irq: {
      attach: (line) => {
        count.unstarted++;
        return attach(line);
      },
      detach: (line) => {
        count.unstarted++;
        return detach(line);
      },
    },
    access: (vaddr, length, kind) => {
      count.unstarted++;
      return access(vaddr, length, kind);
    },
    unmap: (fpage, self) => {
      count.unstarted++;
      return unmap(fpage, self);
    },
    kernelCall,
  };
}
