/**
 * The threads engine's {@link Sys} for one thread: the same object shape as the sim engine's,
 * so unchanged component generators run. Every kernel call yields the thread's reusable call
 * record; the domain scheduler executes it (`scheduler.ts`) and resumes the generator.
 *
 * @module
 */
import type {
  Access,
  Cycles,
  Fpage,
  IpcResult,
  KernelCall,
  MemoryError,
  MemoryView,
  Message,
  RegisterWindow,
  Sys,
  SysCall,
  ThreadId,
  Timeout,
} from '@udf/l4-kernel';
import type { CycleClock } from './clock.js';
import { type ControlBlocks, FLAG_MISSED, FLAG_WINDOW } from './control-blocks.js';
import type { AttachResult } from './interrupts.js';
import type { DomainDevices, DomainMemory } from './memory.js';

/** The reusable kernel-call record a thread yields. */
export interface CallRecord extends KernelCall {
  op: string;
  args: unknown[];
}

/** Build the {@link Sys} of thread `id`; `req` is the record its generators yield; `hw` its domain's memory and devices. */
export function createThreadSys(
  id: ThreadId,
  clock: CycleClock,
  blocks: ControlBlocks,
  req: CallRecord,
  hw: { readonly memory: DomainMemory; readonly devices: DomainDevices },
): Sys {
  const args = req.args;
  function* send(to: ThreadId, msg: Message, timeout?: Timeout): SysCall<IpcResult> {
    req.op = 'send';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* receive(from: ThreadId, timeout?: Timeout, window?: Fpage): SysCall<IpcResult> {
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
    req.op = 'call';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* reply(to: ThreadId, msg: Message): SysCall<IpcResult> {
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
    req.op = 'replyWait';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* yieldCpu(): SysCall<void> {
    req.op = 'yield';
    yield req as KernelCall<void>;
  }
  function* sleep(cycles: Cycles): SysCall<void> {
    req.op = 'sleep';
    args[0] = cycles;
    yield req as KernelCall<void>;
  }
  function* attach(line: number): SysCall<AttachResult> {
    req.op = 'attach';
    args[0] = line;
    return (yield req as KernelCall<AttachResult>) as AttachResult;
  }
  function* detach(line: number): SysCall<void> {
    req.op = 'detach';
    args[0] = line;
    yield req as KernelCall<void>;
  }
  function* access(vaddr: number, length: number, kind: Access): SysCall<MemoryView | MemoryError> {
    req.op = 'access';
    args[0] = vaddr;
    args[1] = length;
    args[2] = kind;
    return (yield req as KernelCall<MemoryView | MemoryError>) as MemoryView | MemoryError;
  }
  function* unmap(fpage: Fpage, self = false): SysCall<number> {
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
    yieldCpu,
    sleep,
    ipc: { send, receive, call, reply, replyWait },
    irq: { attach, detach },
    mem: { access, registers, unmap, translate },
    preemption: {
      begin: () => blocks.openWindow(id),
      preempted: () => (blocks.flags(id) & FLAG_MISSED) !== 0,
      end: () => blocks.clearFlags(id, FLAG_WINDOW),
    },
  };
}
