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
 * This file holds the root-task setup API; the kernel's other jobs are layers it extends, one
 * file each: kernel-state.ts (state, shared checks) → cpu.ts (the sim CPU loop) → scheduler.ts →
 * ipc.ts → interrupts.ts → faults.ts → lifecycle.ts → syscalls.ts (kernel-call dispatch).
 *
 * @module
 */
import { KernelError } from '../errors.js';
import type { MemoryRegion, MmioDevice } from '../machine/device-host.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../machine/memory.js';
import { NIL_THREAD, type Rights, type ThreadBody, type ThreadId } from '../sys.js';
import {
  checkPageRange,
  THREAD_EXIT_LABEL,
  type ThreadInfo,
  type ThreadOptions,
} from './kernel-state.js';
import { AddressSpace, Mapping, revoke, rightsBits, type SpaceId } from './space.js';
import { KernelCalls } from './syscalls.js';
import { IRQ_DELIVERED, IRQ_IDLE } from './thread.js';

export {
  DEFAULT_TIMESLICE_SECONDS,
  EXIT_FAILED,
  EXIT_RETURNED,
  type KernelCounters,
  MAX_MESSAGE_WORDS,
  THREAD_EXIT_LABEL,
  type ThreadFailure,
  type ThreadInfo,
  type ThreadOptions,
  validFpage,
} from './kernel-state.js';

/** The kernel. Created by the sim engine; its public methods are the privileged setup API. */
export class Kernel extends KernelCalls {
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

  /**
   * True if interrupt line `line` has work its handler has not finished: an interrupt delivered
   * or queued and not yet acknowledged, or the line raised. A supervisor uses it to tell a hung
   * driver (its device waits) from an idle one.
   */
  interruptPending(line: number): boolean {
    const it = this.irqThreads[line];
    if (it === undefined) return false;
    return it.irqState !== IRQ_IDLE || it.line!.asserted;
  }

  /** Kill a thread: IPC partners get `non-existing-partner`. */
  kill(id: ThreadId): void {
    const t = this.userThread(id);
    if (t.state === 'dead') return;
    this.counters.threadsKilled++;
    this.die(t, undefined);
  }

  /**
   * Supervise a user thread (L4's exception handler, for death): when its body returns or
   * throws, the run goes on and `handler` receives an IPC from the returned notifier id, label
   * {@link THREAD_EXIT_LABEL}, words `[thread, how]` (`EXIT_RETURNED` or `EXIT_FAILED`). The
   * handler need not reply. A thread killed through {@link Kernel.kill} sends no notice.
   * @throws KernelError `NO_SUCH_THREAD`
   */
  superviseThread(thread: ThreadId, handler: ThreadId): ThreadId {
    const t = this.userThread(thread);
    const h = this.userThread(handler);
    let n = t.exitNotifier;
    if (n === null) {
      n = this.addThread(`exit-${t.name}`, 'interrupt', null, 255, NIL_THREAD);
      n.irqMsg = { label: THREAD_EXIT_LABEL, words: [t.id, 0] };
      t.exitNotifier = n;
    }
    n.handler = h;
    return n.id;
  }

  /**
   * Restart a user thread with its old id (and space, priority and pager) running a new body:
   * a live one is killed first (its partners get `non-existing-partner`). The supervisor's
   * privilege, used to restart a failed driver so its clients keep naming the same thread.
   * @throws KernelError `NO_SUCH_THREAD`, `CONFIG` (bad body)
   */
  restartThread(id: ThreadId, body: ThreadBody): void {
    const t = this.userThread(id);
    if (typeof body !== 'function') {
      throw new KernelError('CONFIG', `thread ${t.name}: body must be a generator function`);
    }
    if (t.state !== 'dead') {
      this.counters.threadsKilled++;
      this.die(t, undefined);
    }
    const sys = this.makeSys(t);
    const gen = body(sys);
    if (gen === null || typeof gen !== 'object' || typeof gen.next !== 'function') {
      throw new KernelError('CONFIG', `thread ${t.name}: body must return a generator`);
    }
    t.sys = sys;
    t.gen = gen;
    t.error = undefined;
    t.hung = false;
    t.resume = undefined;
    t.unstarted = 0;
    t.pcOpen = false;
    t.pcPreempted = false;
    t.pcMissed = false;
    t.sleeping = false;
    t.sliceLeft = this.timeslice;
    const n = t.exitNotifier;
    if (n !== null && n.irqState === IRQ_DELIVERED) n.irqState = IRQ_IDLE;
    this.counters.threadsRestarted++;
    this.makeReady(t);
  }

  /**
   * Fault injection: the thread dies now as if its body had thrown `error` (a supervised thread's
   * supervisor is told; otherwise as {@link ThreadFailedError} rules). Nothing if it is dead.
   * @throws KernelError `NO_SUCH_THREAD`
   */
  injectFailure(id: ThreadId, error: unknown): void {
    const t = this.userThread(id);
    if (t.state === 'dead') return;
    this.needResched = true;
    this.fail(t, error);
  }

  /**
   * Fault injection: the thread hangs — at its next kernel call it blocks forever, receiving
   * from nobody, without dying (only a supervisor watching its heartbeat can tell).
   * @throws KernelError `NO_SUCH_THREAD`
   */
  injectHang(id: ThreadId): void {
    const t = this.userThread(id);
    if (t.state === 'dead' || t.hung) return;
    t.hung = true;
    this.counters.hangsInjected++;
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
}
