/**
 * The sim engine's implementation of {@link Sys} for one thread. Every kernel call yields the
 * thread's reusable call record; the kernel executes it and resumes the generator with the result.
 *
 * @module
 */
import { PAGE_SHIFT, PAGE_SIZE } from '../machine/memory.js';
import {
  type Access,
  type Category,
  type Cycles,
  type Fpage,
  type IpcResult,
  type KernelCall,
  type MemoryError,
  type MemoryView,
  type Message,
  NEVER,
  NIL_THREAD,
  PAGE_FAULT_REFUSED_LABEL,
  type RegisterWindow,
  type Sys,
  type SysCall,
  type ThreadId,
  type Timeout,
} from '../sys.js';
import type { Kernel } from './kernel.js';
import { accessBits } from './space.js';
import type { Thread } from './thread.js';

const ADDRESS_LIMIT = 2 ** 32;

function memError(error: MemoryError['error'], vaddr: number): MemoryError {
  return { ok: false, error, vaddr };
}

/** Build the {@link Sys} of thread `t` on `kernel`. Methods are closures: destructuring is safe. */
export function createSys(kernel: Kernel, t: Thread): Sys {
  const req = t.req;
  const args = req.args;
  const costs = kernel.costs;
  const counters = kernel.counters;

  function* send(to: ThreadId, msg: Message, timeout: Timeout = NEVER): SysCall<IpcResult> {
    t.unstarted--;
    req.op = 'send';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* receive(from: ThreadId, timeout: Timeout = NEVER, window?: Fpage): SysCall<IpcResult> {
    t.unstarted--;
    req.op = 'receive';
    args[0] = from;
    args[1] = timeout;
    args[2] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* call(
    to: ThreadId,
    msg: Message,
    timeout: Timeout = NEVER,
    window?: Fpage,
  ): SysCall<IpcResult> {
    t.unstarted--;
    req.op = 'call';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* reply(to: ThreadId, msg: Message): SysCall<IpcResult> {
    t.unstarted--;
    req.op = 'reply';
    args[0] = to;
    args[1] = msg;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* replyWait(
    to: ThreadId,
    msg: Message,
    timeout: Timeout = NEVER,
    window?: Fpage,
  ): SysCall<IpcResult> {
    t.unstarted--;
    req.op = 'replyWait';
    args[0] = to;
    args[1] = msg;
    args[2] = timeout;
    args[3] = window;
    return (yield req as KernelCall<IpcResult>) as IpcResult;
  }
  function* yieldCpu(): SysCall<void> {
    t.unstarted--;
    req.op = 'yield';
    yield req as KernelCall<void>;
  }
  function* sleep(cycles: Cycles): SysCall<void> {
    t.unstarted--;
    req.op = 'sleep';
    args[0] = cycles;
    yield req as KernelCall<void>;
  }
  type AttachResult = { ok: true; irqThread: ThreadId } | { ok: false; error: string };
  function* attach(line: number): SysCall<AttachResult> {
    t.unstarted--;
    req.op = 'attach';
    args[0] = line;
    return (yield req as KernelCall<AttachResult>) as AttachResult;
  }
  function* detach(line: number): SysCall<void> {
    t.unstarted--;
    req.op = 'detach';
    args[0] = line;
    yield req as KernelCall<void>;
  }
  // Yields KernelCall<never> so it can be delegated to from any other Sys generator.
  function* fault(vaddr: number, bits: number): Generator<KernelCall<never>, IpcResult, unknown> {
    req.op = 'fault';
    args[0] = vaddr;
    args[1] = bits;
    return (yield req as KernelCall<never>) as IpcResult;
  }
  function* unmap(fpage: Fpage, self = false): SysCall<number> {
    t.unstarted--;
    req.op = 'unmap';
    args[0] = fpage;
    args[1] = self;
    return (yield req as KernelCall<number>) as number;
  }

  function* access(vaddr: number, length: number, kind: Access): SysCall<MemoryView | MemoryError> {
    t.unstarted--;
    const space = t.space!;
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
    const first = Math.floor(vaddr / PAGE_SIZE);
    const last = Math.floor((vaddr + length - 1) / PAGE_SIZE);
    let frame0 = -1;
    for (let p = first; p <= last; p++) {
      let m = space.pages.get(p);
      while (m === undefined || (m.rights & need) !== need) {
        const addr = p === first ? vaddr : p * PAGE_SIZE;
        if (t.pager === NIL_THREAD) return memError(m === undefined ? 'no-pager' : 'rights', addr);
        // X.2: the faulting access is retried when the pager replies, so a reply that maps
        // nothing (or too few rights) faults again and the pager sees the same fault again
        // (reference manual, "Page faults"; Pistachio `kernel/src/api/v4/ipc.cc`, send_pagefault_ipc
        // returns to the faulting instruction). Only a failed fault IPC ends the access.
        const r = yield* fault(addr, need);
        if (!r.ok)
          return memError(r.error === 'non-existing-partner' ? 'no-pager' : 'unmapped', addr);
        m = space.pages.get(p);
        if (r.msg.label === PAGE_FAULT_REFUSED_LABEL) {
          return memError(m === undefined ? 'unmapped' : 'rights', addr);
        }
      }
      if (p === first) frame0 = m.frame;
      else if (m.frame !== frame0 + (p - first)) return memError('not-contiguous', p * PAGE_SIZE);
    }
    // Re-check after possible faults: a later fault's reply may have revoked an earlier page.
    for (let p = first; p <= last; p++) {
      const m = space.pages.get(p);
      if (m === undefined) return memError('unmapped', p * PAGE_SIZE);
      if (m.frame !== frame0 + (p - first)) return memError('not-contiguous', p * PAGE_SIZE);
    }
    const paddr = frame0 * PAGE_SIZE + (vaddr % PAGE_SIZE);
    // A view covers one region: a range whose frames are contiguous but belong to two regions
    // (two dataspaces, say) is not one buffer on the threads engine, so it fails here too.
    const region = kernel.machine.memory.regionOfRange(paddr, length);
    if (region === null) return memError('not-contiguous', vaddr);
    const buffer = region.buffer;
    const byteOffset = region.byteOffset + (paddr - region.paddr);
    const bytes = new Uint8Array(buffer, byteOffset, length);
    const wStart = (byteOffset + 3) & ~3;
    const wCount = Math.max(0, Math.floor((byteOffset + length - wStart) / 4));
    const words = new Uint32Array(buffer, wStart, wCount);
    const view: MemoryView = { vaddr, bytes, words, buffer, byteOffset };
    return view;
  }

  function registers(vaddr: number, category: Category = 'Driver'): RegisterWindow | null {
    const space = t.space;
    if (space === null) return null;
    const m = space.mmioAt(vaddr);
    if (m === undefined) return null;
    const dev = m.device;
    const off0 = vaddr - m.base;
    const limit = m.size - 4;
    return {
      read32(offset: number): number {
        const o = off0 + offset;
        if (!Number.isInteger(offset) || o < 0 || o > limit) {
          counters.badMmio++;
          return 0xffffffff;
        }
        kernel.charge(t, category, costs.mmioRead);
        return dev.read32(o) >>> 0;
      },
      write32(offset: number, value: number): void {
        const o = off0 + offset;
        if (!Number.isInteger(offset) || o < 0 || o > limit) {
          counters.badMmio++;
          return;
        }
        kernel.charge(t, category, costs.mmioWrite);
        dev.write32(o, value >>> 0);
      },
    };
  }

  function translate(vaddr: number): number | null {
    if (t.space === null || !Number.isInteger(vaddr) || vaddr < 0) return null;
    const m = t.space.pages.get(vaddr >>> PAGE_SHIFT);
    return m === undefined ? null : m.frame * PAGE_SIZE + (vaddr % PAGE_SIZE);
  }

  const sys: Sys = {
    self: t.id,
    hz: kernel.machine.hz,
    now: () => kernel.machine.clock + t.pTotal,
    charge: (category: Category, cycles: Cycles) => kernel.charge(t, category, cycles),
    // Each operation counts itself as created until its body starts: one called without
    // `yield*` never starts, and the kernel fails the thread loudly instead of skipping the call.
    yieldCpu: () => {
      t.unstarted++;
      return yieldCpu();
    },
    sleep: (cycles) => {
      t.unstarted++;
      return sleep(cycles);
    },
    ipc: {
      send: (to, msg, timeout) => {
        t.unstarted++;
        return send(to, msg, timeout);
      },
      receive: (from, timeout, window) => {
        t.unstarted++;
        return receive(from, timeout, window);
      },
      call: (to, msg, timeout, window) => {
        t.unstarted++;
        return call(to, msg, timeout, window);
      },
      reply: (to, msg) => {
        t.unstarted++;
        return reply(to, msg);
      },
      replyWait: (to, msg, timeout, window) => {
        t.unstarted++;
        return replyWait(to, msg, timeout, window);
      },
    },
    irq: {
      attach: (line) => {
        t.unstarted++;
        return attach(line);
      },
      detach: (line) => {
        t.unstarted++;
        return detach(line);
      },
    },
    mem: {
      access: (vaddr, length, kind) => {
        t.unstarted++;
        return access(vaddr, length, kind);
      },
      registers,
      unmap: (fpage, self) => {
        t.unstarted++;
        return unmap(fpage, self);
      },
      translate,
    },
    preemption: {
      begin() {
        t.pcOpen = true;
        t.pcPreempted = false;
        t.pcMissed = false;
      },
      preempted: () => t.pcPreempted || t.pcMissed,
      end() {
        t.pcOpen = false;
      },
    },
  };
  return sys;
}
