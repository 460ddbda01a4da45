/**
 * A domain's memory on the threads engine: its page table (virtual page → region, page of the
 * region, `rwx` rights) and the regions its worker holds, each a `SharedArrayBuffer`. The
 * kernel (main thread) owns the mapping database; this is the domain's copy, brought up to
 * date from {@link MemoryUpdate}s the kernel posts on the domain's memory port whenever the
 * domain's generation word changes (checked by every {@link DomainMemory.sync}). A view covers
 * exactly one region; a mapping may cover any part of a region.
 *
 * @module
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { MemoryError, MemoryView, RegisterWindow } from '@udf/l4-kernel';
import { LINK_GEN, LINK_WORDS } from './kernel-link.js';
import { type MemoryUpdate, PAGE_BYTES, type RegionInfo } from './mapping-db.js';
import { emptyMmioCounters, MmioWindow, type MmioWindowCounters } from './mmio-ring.js';
import type { DeviceMapping } from './protocol.js';

/** A region granted to a domain at setup (plain data); see {@link ThreadsEngine.grantRegion}. */
export interface RegionGrant {
  /** Virtual address of the region's first byte in the domain. */
  readonly vaddr: number;
  /** The memory. */
  readonly region: SharedArrayBuffer;
  /** Physical address of the region's first byte, if it is a physical region (DMA-able). */
  readonly paddr?: number;
}

/** One page of a domain's page table. */
export interface PageEntry {
  /** The region. */
  readonly region: RegionInfo;
  /** Page index inside the region. */
  readonly page: number;
  /** `rwx` bits (read 4, write 2, execute 1). */
  readonly rights: number;
}

/** Where a domain learns about page-table changes: its memory port and generation word. */
export interface MemoryLink {
  /** The domain's memory port (updates arrive here). */
  readonly port: MessagePort;
  /** The kernel link region (holds the generation word). */
  readonly link: SharedArrayBuffer;
  /** The domain's index. */
  readonly domain: number;
}

/** The page table one domain holds (see the module comment). */
export class DomainMemory {
  private readonly pages = new Map<number, PageEntry>();
  private readonly regions = new Map<number, RegionInfo>();
  private readonly port: MessagePort | null;
  private readonly gen: Int32Array | null;
  private readonly genIndex: number;
  private seen = 0;

  /**
   * @param initial - the domain's page table at start (an update from an empty table)
   * @param link - where later updates come from (none: the table never changes)
   */
  constructor(initial: MemoryUpdate, link?: MemoryLink) {
    this.port = link?.port ?? null;
    this.gen = link === undefined ? null : new Int32Array(link.link);
    this.genIndex = link === undefined ? 0 : link.domain * LINK_WORDS + LINK_GEN;
    // `seen` starts at 0, the generation's initial value: anything posted before this domain
    // was built (and counted in the generation) is still on the port and taken at the first sync
    this.apply(initial);
  }

  /** Apply one update (regions first, then pages). */
  apply(u: MemoryUpdate): void {
    for (const r of u.regions) this.regions.set(r.id, r);
    const set = u.set;
    for (let i = 0; i + 3 < set.length; i += 4) {
      const region = this.regions.get(set[i + 1]!);
      if (region === undefined) continue;
      this.pages.set(set[i]!, { region, page: set[i + 2]!, rights: set[i + 3]! });
    }
    for (const vpage of u.del) this.pages.delete(vpage);
  }

  /**
   * Bring the table up to date: if the kernel bumped this domain's generation since the last
   * look, take every posted update off the port (synchronously).
   */
  sync(): void {
    const gen = this.gen;
    if (gen === null) return;
    const g = Atomics.load(gen, this.genIndex);
    if (g === this.seen) return;
    this.seen = g;
    const port = this.port!;
    for (;;) {
      const m = receiveMessageOnPort(port);
      if (m === undefined) return;
      this.apply(m.message as MemoryUpdate);
    }
  }

  /** The mapping of virtual page `vpage` (call {@link DomainMemory.sync} first). */
  lookup(vpage: number): PageEntry | undefined {
    return this.pages.get(vpage);
  }

  /** Whether this domain holds region `id` (its buffer reached the worker). */
  holdsRegion(id: number): boolean {
    this.sync();
    return this.regions.has(id);
  }

  /** Physical address of `vaddr`, or null if it is not mapped to a physical region. */
  translate(vaddr: number): number | null {
    if (!Number.isInteger(vaddr) || vaddr < 0) return null;
    this.sync();
    const e = this.pages.get(Math.floor(vaddr / PAGE_BYTES));
    if (e === undefined || e.region.paddr === null) return null;
    return e.region.paddr + e.page * PAGE_BYTES + (vaddr % PAGE_BYTES);
  }

  /**
   * A view of `[vaddr, vaddr + length)` whose pages are mapped with `need` rights and lie in
   * one region, contiguously. `fault` (with the first page that is unmapped or lacks rights)
   * if the caller's pager must be asked.
   */
  view(vaddr: number, length: number, need: number): MemoryView | MemoryError | PageFault {
    this.sync();
    const first = Math.floor(vaddr / PAGE_BYTES);
    const last = Math.floor((vaddr + length - 1) / PAGE_BYTES);
    const e0 = this.pages.get(first);
    if (e0 === undefined || (e0.rights & need) !== need) {
      return { ok: false, error: 'fault', vaddr, mapped: e0 !== undefined };
    }
    for (let p = first + 1; p <= last; p++) {
      const e = this.pages.get(p);
      if (e === undefined || (e.rights & need) !== need) {
        return { ok: false, error: 'fault', vaddr: p * PAGE_BYTES, mapped: e !== undefined };
      }
      if (e.region !== e0.region || e.page !== e0.page + (p - first)) {
        return { ok: false, error: 'not-contiguous', vaddr: p * PAGE_BYTES };
      }
    }
    const buffer = e0.region.buffer;
    const byteOffset = e0.page * PAGE_BYTES + (vaddr % PAGE_BYTES);
    if (byteOffset + length > buffer.byteLength) {
      // the last page of a region that is not a whole number of pages is only partly backed
      return { ok: false, error: 'not-contiguous', vaddr };
    }
    const bytes = new Uint8Array(buffer, byteOffset, length);
    const wStart = (byteOffset + 3) & ~3;
    const wCount = Math.max(0, Math.floor((byteOffset + length - wStart) / 4));
    const words = new Uint32Array(buffer, wStart, wCount);
    return { vaddr, bytes, words, buffer, byteOffset };
  }
}

/** {@link DomainMemory.view}'s answer when the access must fault to the pager. */
export interface PageFault {
  readonly ok: false;
  readonly error: 'fault';
  /** The faulting address (the access's start, or the first page that faults). */
  readonly vaddr: number;
  /** Whether that page is mapped (with too few rights). */
  readonly mapped: boolean;
}

/** The device register windows mapped into one domain. */
export class DomainDevices {
  private readonly maps: readonly { vaddr: number; size: number; window: MmioWindow }[];

  /**
   * @param mappings - the domain's device mappings
   * @param lower - lowers an interrupt line of the shared table (for reads of status words that
   *   lower a line; omitted: those reads wait for the device)
   */
  constructor(mappings: readonly DeviceMapping[], lower?: (line: number) => void) {
    this.maps = mappings.map((m) => ({
      vaddr: m.vaddr,
      size: m.size,
      window: new MmioWindow(m.ring, m.bell, m.size, m.status, lower),
    }));
  }

  /** `sys.mem.registers(vaddr)`: the window of the device mapped there, offsets relative to `vaddr`. */
  registers(vaddr: number): RegisterWindow | null {
    for (const m of this.maps) {
      if (vaddr === m.vaddr) return m.window;
      if (vaddr > m.vaddr && vaddr < m.vaddr + m.size) {
        const w = m.window;
        const off0 = vaddr - m.vaddr;
        return {
          read32: (offset) => w.read32(off0 + offset),
          write32: (offset, value) => w.write32(off0 + offset, value),
        };
      }
    }
    return null;
  }

  /**
   * Add every window's counters into `into` after zeroing it (no allocation: the scheduler
   * publishes them to the counter board before each sleep).
   */
  sumInto(into: MmioWindowCounters): MmioWindowCounters {
    into.writes = 0;
    into.reads = 0;
    into.sleptReads = 0;
    into.badOffsets = 0;
    into.deadAccesses = 0;
    into.statusReads = 0;
    for (const m of this.maps) {
      into.writes += m.window.counters.writes;
      into.reads += m.window.counters.reads;
      into.sleptReads += m.window.counters.sleptReads;
      into.badOffsets += m.window.counters.badOffsets;
      into.deadAccesses += m.window.counters.deadAccesses;
      into.statusReads += m.window.counters.statusReads;
    }
    return into;
  }

  /** Counters of every window, summed. */
  get counters(): MmioWindowCounters {
    return this.sumInto(emptyMmioCounters());
  }
}
