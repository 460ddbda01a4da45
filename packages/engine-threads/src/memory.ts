/**
 * A domain's memory on the threads engine: the regions (each a `SharedArrayBuffer`) granted to
 * it at setup, each at a virtual address. `sys.mem.access` returns a view over exactly one
 * region; a range that is not inside one granted region fails, as an unmapped page does.
 *
 * @module
 */
import type { MemoryError, MemoryView } from '@udf/l4-kernel';

/** A region granted to a domain: plain data, sent to the domain's worker. */
export interface RegionGrant {
  /** Virtual address of the region's first byte in the domain. */
  readonly vaddr: number;
  /** The memory. */
  readonly region: SharedArrayBuffer;
}

/** The regions one domain holds, looked up by virtual address. */
export class DomainMemory {
  private readonly grants: readonly RegionGrant[];

  /** @param grants - the regions granted to the domain (non-overlapping) */
  constructor(grants: readonly RegionGrant[]) {
    this.grants = [...grants].sort((a, b) => a.vaddr - b.vaddr);
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
