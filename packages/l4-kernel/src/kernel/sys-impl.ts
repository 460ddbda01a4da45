/**
 * The sim engine's implementation of {@link Sys} for one thread. Every kernel call yields the
 * thread's reusable call record; the kernel executes it and resumes the generator with the result.
 * The operations themselves are the engines' shared `createSysCalls` (`../sys-calls.ts`); this
 * adds the sim's own parts: how an access walks the space (and faults), register windows that
 * charge their cycles, `translate`, the simulated clock and the preemption window.
 *
 * @module
 */
import { PAGE_SHIFT, PAGE_SIZE } from '../machine/memory.js';
import {
  type Category,
  type Cycles,
  type IpcResult,
  type MemoryView,
  NIL_THREAD,
  PAGE_FAULT_REFUSED_LABEL,
  type RegisterWindow,
  type Sys,
} from '../sys.js';
import { type AccessResolver, createSysCalls, memoryError } from '../sys-calls.js';
import type { Kernel } from './kernel.js';
import type { Thread } from './thread.js';

/** Build the {@link Sys} of thread `t` on `kernel`. Methods are closures: destructuring is safe. */
export function createSys(kernel: Kernel, t: Thread): Sys {
  const req = t.req;
  const costs = kernel.costs;
  const counters = kernel.counters;

  // an access in range: walk the space's pages, faulting to the pager until each is mapped
  const resolve: AccessResolver = function* (vaddr, length, need) {
    const space = t.space!;
    const first = Math.floor(vaddr / PAGE_SIZE);
    const last = Math.floor((vaddr + length - 1) / PAGE_SIZE);
    let frame0 = -1;
    for (let p = first; p <= last; p++) {
      let m = space.pages.get(p);
      while (m === undefined || (m.rights & need) !== need) {
        const addr = p === first ? vaddr : p * PAGE_SIZE;
        if (t.pager === NIL_THREAD)
          return memoryError(m === undefined ? 'no-pager' : 'rights', addr);
        // X.2: the faulting access is retried when the pager replies, so a reply that maps
        // nothing (or too few rights) faults again and the pager sees the same fault again
        // (reference manual, "Page faults"; Pistachio `kernel/src/api/v4/ipc.cc`, send_pagefault_ipc
        // returns to the faulting instruction). Only a failed fault IPC ends the access.
        const r = (yield* calls.kernelCall('fault', addr, need)) as IpcResult;
        if (!r.ok)
          return memoryError(r.error === 'non-existing-partner' ? 'no-pager' : 'unmapped', addr);
        m = space.pages.get(p);
        if (r.msg.label === PAGE_FAULT_REFUSED_LABEL) {
          return memoryError(m === undefined ? 'unmapped' : 'rights', addr);
        }
      }
      if (p === first) frame0 = m.frame;
      else if (m.frame !== frame0 + (p - first))
        return memoryError('not-contiguous', p * PAGE_SIZE);
    }
    // Re-check after possible faults: a later fault's reply may have revoked an earlier page.
    for (let p = first; p <= last; p++) {
      const m = space.pages.get(p);
      if (m === undefined) return memoryError('unmapped', p * PAGE_SIZE);
      if (m.frame !== frame0 + (p - first)) return memoryError('not-contiguous', p * PAGE_SIZE);
    }
    const paddr = frame0 * PAGE_SIZE + (vaddr % PAGE_SIZE);
    // A view covers one region: a range whose frames are contiguous but belong to two regions
    // (two dataspaces, say) is not one buffer on the threads engine, so it fails here too.
    const region = kernel.machine.memory.regionOfRange(paddr, length);
    if (region === null) return memoryError('not-contiguous', vaddr);
    const buffer = region.buffer;
    const byteOffset = region.byteOffset + (paddr - region.paddr);
    const bytes = new Uint8Array(buffer, byteOffset, length);
    const wStart = (byteOffset + 3) & ~3;
    const wCount = Math.max(0, Math.floor((byteOffset + length - wStart) / 4));
    const words = new Uint32Array(buffer, wStart, wCount);
    const view: MemoryView = { vaddr, bytes, words, buffer, byteOffset };
    return view;
  };

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

  // the operations themselves, and the created-but-not-started count in t.unstarted
  const calls = createSysCalls(req, t, resolve);

  const sys: Sys = {
    self: t.id,
    hz: kernel.machine.hz,
    now: () => kernel.machine.clock + t.pTotal,
    charge: (category: Category, cycles: Cycles) => kernel.charge(t, category, cycles),
    yieldCpu: calls.yieldCpu,
    sleep: calls.sleep,
    ipc: calls.ipc,
    irq: calls.irq,
    mem: { access: calls.access, registers, unmap: calls.unmap, translate },
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
