/**
 * The threads engine's {@link Sys} for one thread: the same object shape as the sim engine's,
 * so unchanged component generators run. Every kernel call yields the thread's reusable call
 * record; the domain scheduler executes it (`scheduler.ts`) and resumes the generator.
 *
 * @module
 */
import {
  type Access,
  accessBits,
  type Cycles,
  type Fpage,
  type IpcResult,
  type KernelCall,
  type MemoryError,
  type MemoryView,
  type Message,
  NIL_THREAD,
  PAGE_FAULT_LABEL,
  PAGE_FAULT_REFUSED_LABEL,
  type RegisterWindow,
  type Sys,
  type SysCall,
  type ThreadId,
  type Timeout,
} from '@udf/l4-kernel';
import type { CycleClock } from './clock.js';
import { type ControlBlocks, FLAG_MISSED, FLAG_WINDOW } from './control-blocks.js';
import type { AttachResult } from './interrupts.js';
import { ADDRESS_LIMIT, PAGE_BYTES } from './mapping-db.js';
import type { DomainDevices, DomainMemory } from './memory.js';

/** The receive window of a page-fault IPC: the whole address space (as the sim's `WHOLE_SPACE`). */
export const WHOLE_SPACE: Fpage = Object.freeze({
  base: 0,
  sizeLog2: 32,
  rights: Object.freeze({ read: true, write: true, execute: true }),
});

function memError(error: MemoryError['error'], vaddr: number): MemoryError {
  return { ok: false, error, vaddr };
}

/** The reusable kernel-call record a thread yields. */
export interface CallRecord extends KernelCall {
  op: string;
  args: unknown[];
  /**
   * Operations created and not yet started (as the sim kernel's `unstarted`): one called
   * without `yield*` never starts, and the scheduler fails the thread instead of skipping it.
   */
  unstarted?: number;
}

/**
 * Build the {@link Sys} of thread `id`; `req` is the record its generators yield; `hw` its
 * domain's memory and devices; `pager` the thread its page faults go to (nil: none).
 */
export function createThreadSys(
  id: ThreadId,
  clock: CycleClock,
  blocks: ControlBlocks,
  req: CallRecord,
  hw: { readonly memory: DomainMemory; readonly devices: DomainDevices },
  pager: ThreadId = NIL_THREAD,
): Sys {
  const args = req.args;
  req.unstarted = 0;
  // Each operation counts itself as created until its body starts (see CallRecord.unstarted).
  const made = <T>(g: T): T => {
    req.unstarted!++;
    return g;
  };
  function* send(to: ThreadId, msg: Message, timeout?: Timeout): SysCall<IpcResult> {
    req.unstarted!--;
    req.op = 'send';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* receive(from: ThreadId, timeout?: Timeout, window?: Fpage): SysCall<IpcResult> {
    req.unstarted!--;
    req.op = 'receive';
    args[0] = from;
    args[1] = timeout;
    args[2] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* call(
    to: ThreadId,
    msg: Message,
    timeout?: Timeout,
    window?: Fpage,
  ): SysCall<IpcResult> {
    req.unstarted!--;
    req.op = 'call';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* reply(to: ThreadId, msg: Message): SysCall<IpcResult> {
    req.unstarted!--;
    req.op = 'reply';
    args[0] = to;
    args[1] = msg;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* replyWait(
    to: ThreadId,
    msg: Message,
    timeout?: Timeout,
    window?: Fpage,
  ): SysCall<IpcResult> {
    req.unstarted!--;
    req.op = 'replyWait';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* yieldCpu(): SysCall<void> {
    req.unstarted!--;
    req.op = 'yield';
    yield req as KernelCall<void>;
  }
  function* sleep(cycles: Cycles): SysCall<void> {
    req.unstarted!--;
    req.op = 'sleep';
    args[0] = cycles;
    yield req as KernelCall<void>;
  }
  function* attach(line: number): SysCall<AttachResult> {
    req.unstarted!--;
    req.op = 'attach';
    args[0] = line;
    return (yield req as KernelCall<AttachResult>) as AttachResult;
  }
  function* detach(line: number): SysCall<void> {
    req.unstarted!--;
    req.op = 'detach';
    args[0] = line;
    yield req as KernelCall<void>;
  }
  // (yields KernelCall<never>, so it can be delegated to from access)
  function* fault(addr: number, need: number): Generator<KernelCall<never>, IpcResult, unknown> {
    req.op = 'call';
    args[0] = pager;
    args[1] = { label: PAGE_FAULT_LABEL, words: [addr, need] };
    args[2] = undefined;
    args[3] = WHOLE_SPACE;
    return (yield req as KernelCall<never>) as IpcResult;
  }
  function* access(vaddr: number, length: number, kind: Access): SysCall<MemoryView | MemoryError> {
    req.unstarted!--;
    if (
      !Number.isInteger(vaddr) ||
      !Number.isInteger(length) ||
      vaddr < 0 ||
      length <= 0 ||
      vaddr + length > ADDRESS_LIMIT
    ) {
      return memError('out-of-range', vaddr);
    }
    const need = accessBits(kind);
    const memory = hw.memory;
    for (;;) {
      const v = memory.view(vaddr, length, need);
      if (!('error' in v) || v.error !== 'fault') return v as MemoryView | MemoryError;
      const addr = v.vaddr;
      if (pager === NIL_THREAD) return memError(v.mapped ? 'rights' : 'no-pager', addr);
      // X.2: the faulting access is retried when the pager replies; a reply that maps nothing
      // faults again. The reply's map item lands in the whole-space window (the kernel
      // transfers it before this call returns).
      const r = yield* fault(addr, need);
      if (!r.ok)
        return memError(r.error === 'non-existing-partner' ? 'no-pager' : 'unmapped', addr);
      if (r.msg.label === PAGE_FAULT_REFUSED_LABEL) {
        memory.sync();
        const e = memory.lookup(Math.floor(addr / PAGE_BYTES));
        return memError(e === undefined ? 'unmapped' : 'rights', addr);
      }
    }
  }
  function* unmap(fpage: Fpage, self = false): SysCall<number> {
    req.unstarted!--;
    req.op = 'unmap';
    args[0] = fpage;
    args[1] = self;
    return (yield req as KernelCall<number>) as number;
  }
  const registers = (vaddr: number): RegisterWindow | null => hw.devices.registers(vaddr);
  const translate = (vaddr: number): number | null => hw.memory.translate(vaddr);

  return {
    self: id,
    hz: clock.hz,
    now: () => clock.now(),
    charge: () => {},
    yieldCpu: () => made(yieldCpu()),
    sleep: (cycles) => made(sleep(cycles)),
    ipc: {
      send: (to, msg, timeout) => made(send(to, msg, timeout)),
      receive: (from, timeout, window) => made(receive(from, timeout, window)),
      call: (to, msg, timeout, window) => made(call(to, msg, timeout, window)),
      reply: (to, msg) => made(reply(to, msg)),
      replyWait: (to, msg, timeout, window) => made(replyWait(to, msg, timeout, window)),
    },
    irq: { attach: (line) => made(attach(line)), detach: (line) => made(detach(line)) },
    mem: {
      access: (vaddr, length, kind) => made(access(vaddr, length, kind)),
      registers,
      unmap: (fpage, self) => made(unmap(fpage, self)),
      translate,
    },
    preemption: {
      begin: () => blocks.openWindow(id),
      preempted: () => (blocks.flags(id) & FLAG_MISSED) !== 0,
      end: () => blocks.clearFlags(id, FLAG_WINDOW),
    },
  };
}
