/**
 * The threads engine's {@link Sys} for one thread: the same object shape as the sim engine's,
 * so unchanged component generators run. Every kernel call yields the thread's reusable call
 * record; the domain scheduler executes it (`scheduler.ts`) and resumes the generator.
 *
 * @module
 */
import {
  type AccessResolver,
  createSysCalls,
  type Fpage,
  type IpcResult,
  type CallRecord as KernelCallRecord,
  type MemoryError,
  type MemoryView,
  memoryError,
  NIL_THREAD,
  PAGE_FAULT_LABEL,
  PAGE_FAULT_REFUSED_LABEL,
  type RegisterWindow,
  type Sys,
  type ThreadId,
  type UnstartedCount,
} from '@udf/l4-kernel';
import type { CycleClock } from './clock.js';
import { type ControlBlocks, FLAG_MISSED, FLAG_WINDOW } from './control-blocks.js';
import { PAGE_BYTES } from './mapping-db.js';
import type { DomainDevices, DomainMemory } from './memory.js';

/** The receive window of a page-fault IPC: the whole address space (as the sim's `WHOLE_SPACE`). */
export const WHOLE_SPACE: Fpage = Object.freeze({
  base: 0,
  sizeLog2: 32,
  rights: Object.freeze({ read: true, write: true, execute: true }),
});

/**
 * The reusable kernel-call record a thread yields; it also holds the thread's count of
 * operations created and not yet started (see `@udf/l4-kernel`'s `createSysCalls`): one called
 * without `yield*` never starts, and the scheduler fails the thread instead of skipping it.
 */
export interface CallRecord extends KernelCallRecord, UnstartedCount {}

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
  req.unstarted = 0;
  // an access in range: a view of the domain's memory, faulting to the pager until it maps
  const resolve: AccessResolver = function* (vaddr, length, need) {
    const memory = hw.memory;
    for (;;) {
      const v = memory.view(vaddr, length, need);
      if (!('error' in v) || v.error !== 'fault') return v as MemoryView | MemoryError;
      const addr = v.vaddr;
      if (pager === NIL_THREAD) return memoryError(v.mapped ? 'rights' : 'no-pager', addr);
      // X.2: the faulting access is retried when the pager replies; a reply that maps nothing
      // faults again. The reply's map item lands in the whole-space window (the kernel
      // transfers it before this call returns).
      const msg = { label: PAGE_FAULT_LABEL, words: [addr, need] };
      const r = (yield* calls.kernelCall('call', pager, msg, undefined, WHOLE_SPACE)) as IpcResult;
      if (!r.ok)
        return memoryError(r.error === 'non-existing-partner' ? 'no-pager' : 'unmapped', addr);
      if (r.msg.label === PAGE_FAULT_REFUSED_LABEL) {
        memory.sync();
        const e = memory.lookup(Math.floor(addr / PAGE_BYTES));
        return memoryError(e === undefined ? 'unmapped' : 'rights', addr);
      }
    }
  };
  const calls = createSysCalls(req, req, resolve);
  const registers = (vaddr: number): RegisterWindow | null => hw.devices.registers(vaddr);
  const translate = (vaddr: number): number | null => hw.memory.translate(vaddr);

  return {
    self: id,
    hz: clock.hz,
    now: () => clock.now(),
    charge: () => {},
    yieldCpu: calls.yieldCpu,
    sleep: calls.sleep,
    ipc: calls.ipc,
    irq: calls.irq,
    mem: { access: calls.access, registers, unmap: calls.unmap, translate },
    preemption: {
      begin: () => blocks.openWindow(id),
      preempted: () => (blocks.flags(id) & FLAG_MISSED) !== 0,
      end: () => blocks.clearFlags(id, FLAG_WINDOW),
    },
  };
}
