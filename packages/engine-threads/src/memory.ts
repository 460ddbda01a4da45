/**
 * A domain's memory on the threads engine: the regions (each a `SharedArrayBuffer`) granted to
 * it at setup, each at a virtual address. `sys.mem.access` returns a view over exactly one
 * region; a range that is not inside one granted region fails, as an unmapped page does.
 *
 * @module
 */
import type { MemoryError, MemoryView, RegisterWindow } from '@udf/l4-kernel';
import { MmioWindow, type MmioWindowCounters } from './mmio-ring.js';
import type { DeviceMapping } from './protocol.js';

/** A region granted to a domain: plain data, sent to the domain's worker. */
export interface RegionGrant {
  /** Virtual address of the region's first byte in the domain. */
  readonly vaddr: number;
  /** The memory. */
  readonly region: SharedArrayBuffer;
  /** Physical address of the region's first byte, if it is a physical region (DMA-able). */
  readonly paddr?: number;
}

/** The regions one domain holds, looked up by virtual address. */
export class DomainMemory {
  private readonly grants: readonly RegionGrant[];

  /** @param grants - the regions granted to the domain (non-overlapping) */
  constructor(grants: readonly RegionGrant[]) {
    this.grants = [...grants].sort((a, b) => a.vaddr - b.vaddr);
  }

  /** Physical address of `vaddr`, or null if it is not in a granted physical region. */
  translate(vaddr: number): number | null {
    for (const g of this.grants) {
      if (vaddr >= g.vaddr && vaddr < g.vaddr + g.region.byteLength) {
        return g.paddr === undefined ? null : g.paddr + (vaddr - g.vaddr);
      }
    }
    return null;
  }

  /** A view of `[vaddr, vaddr + length)`, or why there is none. */
  access(vaddr: number, length: number): MemoryView | MemoryError {
    if (!Number.isInteger(vaddr) || !Number.isInteger(length) || vaddr < 0 || length <= 0) {
      return { ok: false, error: 'out-of-range', vaddr };
    }
    for (const g of this.grants) {
      const end = g.vaddr + g.region.byteLength;
      if (vaddr >= g.vaddr && vaddr < end) {
        if (vaddr + length > end) return { ok: false, error: 'not-contiguous', vaddr: end };
        const byteOffset = vaddr - g.vaddr;
        const bytes = new Uint8Array(g.region, byteOffset, length);
        const wStart = (byteOffset + 3) & ~3;
        const wCount = Math.max(0, Math.floor((byteOffset + length - wStart) / 4));
        const words = new Uint32Array(g.region, wStart, wCount);
        return { vaddr, bytes, words, buffer: g.region, byteOffset };
      }
    }
    return { ok: false, error: 'no-pager', vaddr };
  }
}

/** The device register windows mapped into one domain. */
export class DomainDevices {
  private readonly maps: readonly { vaddr: number; size: number; window: MmioWindow }[];

  /** @param mappings - the domain's device mappings */
  constructor(mappings: readonly DeviceMapping[]) {
    this.maps = mappings.map((m) => ({
      vaddr: m.vaddr,
      size: m.size,
      window: new MmioWindow(m.ring, m.bell, m.size),
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

  /** Counters of every window, summed. */
  get counters(): MmioWindowCounters {
    const c: MmioWindowCounters = {
      writes: 0,
      reads: 0,
      sleptReads: 0,
      badOffsets: 0,
      deadAccesses: 0,
    };
    for (const m of this.maps) {
      c.writes += m.window.counters.writes;
      c.reads += m.window.counters.reads;
      c.sleptReads += m.window.counters.sleptReads;
      c.badOffsets += m.window.counters.badOffsets;
      c.deadAccesses += m.window.counters.deadAccesses;
    }
    return c;
  }
}
