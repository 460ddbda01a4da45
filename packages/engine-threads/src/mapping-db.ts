/**
 * The mapping database of the threads engine. It lives in the main thread (the kernel's slow
 * path), which is the only thread that reads or changes it, so it needs no lock. Per domain:
 * a page table, virtual page → (region, page of that region, `rwx` rights), page-granular as
 * on the sim engine (4 KiB pages, fpages as in `@udf/l4-kernel`'s `sys.ts`). Every mapping
 * remembers the mapping it was derived from, so unmap revokes recursively (L4's recursive
 * address spaces). Map/grant/unmap follow the sim kernel's `space.ts` rule for rule.
 *
 * A region is a `SharedArrayBuffer` registered once; a domain's worker receives a region's
 * buffer the first time a mapping of it reaches that domain ({@link MemoryUpdate}), and
 * never gives it back (a `SharedArrayBuffer` cannot be taken away from a worker; unmap only
 * changes page tables).
 *
 * @module
 */
import { type Fpage, type MapGrantItem, rightsBits } from '@udf/l4-kernel';
import { FRAME_BYTES } from './physical-memory.js';

/** Bytes per page (the sim's `PAGE_SIZE`; also a physical frame here). */
export const PAGE_BYTES = FRAME_BYTES;
/** Addresses of a space lie below this (the sim kernel's 32-bit address space). */
export const ADDRESS_LIMIT = 2 ** 32;

/** A region the kernel knows: plain data, posted to a worker that gets a mapping of it. */
export interface RegionInfo {
  /** Region id (index in the kernel's region registry). */
  readonly id: number;
  /** The memory. */
  readonly buffer: SharedArrayBuffer;
  /** Physical address of its first byte, or null if it is not physical memory (not DMA-able). */
  readonly paddr: number | null;
}

/**
 * Changes to one domain's page table, applied by its worker in order. Plain data.
 */
export interface MemoryUpdate {
  /** Regions the domain does not hold yet (before any entry that refers to them). */
  readonly regions: readonly RegionInfo[];
  /** Pages mapped or changed: flat quadruples `[vpage, region id, page in region, rwx bits]`. */
  readonly set: readonly number[];
  /** Pages no longer mapped. */
  readonly del: readonly number[];
}

/** Counters of the mapping database. */
export interface MappingDbCounters {
  /** Pages mapped or granted by map/grant items. */
  transferredPages: number;
  /**
   * Pages named by a map/grant item that the sender does not hold (or holds without any of
   * the item's rights): not transferred (as on the sim, the message is still delivered).
   */
  unheldItemPages: number;
  /** Page mappings removed by unmap (including the ones a map over an old mapping removed). */
  revokedPages: number;
}

class Mapping {
  constructor(
    public space: Space,
    public vpage: number,
    readonly region: number,
    readonly page: number,
    public rights: number,
    public parent: Mapping | null,
  ) {}
  readonly children: Mapping[] = [];
}

class Space {
  readonly pages = new Map<number, Mapping>();
  /** Regions this domain's worker holds. */
  readonly held = new Set<number>();
  /** Pages changed since the last {@link MappingDb.takeUpdate}. */
  readonly dirty = new Set<number>();
}

/** True for a well-formed fpage (as the sim's `validFpage`): aligned, 4 KiB .. 4 GiB, inside the space. */
export function validFpage(f: unknown): f is Fpage {
  if (f === null || typeof f !== 'object') return false;
  const { base, sizeLog2, rights } = f as Fpage;
  if (!Number.isInteger(sizeLog2) || sizeLog2 < 12 || sizeLog2 > 32) return false;
  if (!Number.isInteger(base) || base < 0) return false;
  const size = 2 ** sizeLog2;
  if (base % size !== 0 || base + size > ADDRESS_LIMIT) return false;
  return rights !== null && typeof rights === 'object';
}

/** The mapping database (see the module comment). */
export class MappingDb {
  /** Counters. */
  readonly counters: MappingDbCounters = {
    transferredPages: 0,
    unheldItemPages: 0,
    revokedPages: 0,
  };
  private readonly regionList: RegionInfo[] = [];
  private readonly byBuffer = new Map<SharedArrayBuffer, number>();
  private readonly spaces: Space[] = [];

  /** Register a region (once per buffer); returns its id. */
  addRegion(buffer: SharedArrayBuffer, paddr: number | null): number {
    const known = this.byBuffer.get(buffer);
    if (known !== undefined) return known;
    const id = this.regionList.length;
    this.regionList.push({ id, buffer, paddr });
    this.byBuffer.set(buffer, id);
    return id;
  }

  /** The region registered for `buffer`, if any. */
  regionOf(buffer: SharedArrayBuffer): RegionInfo | undefined {
    const id = this.byBuffer.get(buffer);
    return id === undefined ? undefined : this.regionList[id];
  }

  /** Every registered region. */
  get regions(): readonly RegionInfo[] {
    return this.regionList;
  }

  private space(domain: number): Space {
    let s = this.spaces[domain];
    if (s === undefined) {
      s = new Space();
      this.spaces[domain] = s;
    }
    return s;
  }

  /**
   * Map `count` pages of region `region` (from page `page`) at virtual page `vpage` of
   * `domain` as roots of the mapping tree (setup, and the privileged root-task calls).
   * Whatever was mapped there is revoked first.
   */
  mapRoot(
    domain: number,
    vpage: number,
    region: number,
    page: number,
    count: number,
    bits: number,
  ): void {
    const s = this.space(domain);
    for (let i = 0; i < count; i++) {
      const old = s.pages.get(vpage + i);
      if (old !== undefined) this.counters.revokedPages += this.revoke(old, true);
      const m = new Mapping(s, vpage + i, region, page + i, bits, null);
      s.pages.set(vpage + i, m);
      s.dirty.add(vpage + i);
    }
  }

  /** Whether any page of `[vpage, vpage + count)` is mapped in `domain`. */
  anyMapped(domain: number, vpage: number, count: number): boolean {
    const s = this.space(domain);
    for (let i = 0; i < count; i++) if (s.pages.has(vpage + i)) return true;
    return false;
  }

  /** The mapping of a virtual page, or undefined. */
  lookup(
    domain: number,
    vpage: number,
  ): { readonly region: number; readonly page: number; readonly rights: number } | undefined {
    return this.space(domain).pages.get(vpage);
  }

  /**
   * Apply map/grant items from `from` to `to` with `to`'s receive window, as the sim kernel's
   * `transfer` does (items land at `window.base + (sendBase mod window size)` rounded down to
   * the item's size; an item larger than the window maps the window-sized part the send base
   * selects; rights are the item's intersected with the sender's; pages the sender does not
   * hold are skipped and counted). The caller has checked that a window exists.
   *
   * @returns pages transferred plus pages revoked at the destination
   */
  transfer(
    from: number,
    to: number,
    items: readonly MapGrantItem[],
    windowBase: number,
    windowLog2: number,
  ): number {
    const src = this.space(from);
    const dst = this.space(to);
    const wsize = 2 ** windowLog2;
    let pages = 0;
    for (const it of items) {
      const f = it.fpage;
      let size = 2 ** f.sizeLog2;
      let srcBase = f.base;
      let dstBase: number;
      if (size <= wsize) {
        dstBase = windowBase + Math.floor((it.sendBase % wsize) / size) * size;
      } else {
        srcBase = f.base + Math.floor((it.sendBase % size) / wsize) * wsize;
        size = wsize;
        dstBase = windowBase;
      }
      const n = size / PAGE_BYTES;
      const sp = srcBase / PAGE_BYTES;
      const dp = dstBase / PAGE_BYTES;
      const ibits = rightsBits(f.rights);
      const grant = it.kind === 'grant';
      for (let i = 0; i < n; i++) {
        const m = src.pages.get(sp + i);
        if (m === undefined) {
          this.counters.unheldItemPages++;
          continue;
        }
        const bits = m.rights & ibits;
        if (bits === 0) {
          this.counters.unheldItemPages++;
          continue;
        }
        if (src === dst && sp + i === dp + i) continue;
        this.counters.transferredPages++;
        pages +=
          1 + (grant ? this.grantFrom(m, dst, dp + i, bits) : this.mapFrom(m, dst, dp + i, bits));
      }
    }
    return pages;
  }

  /**
   * L4 Unmap of `fpage` in `domain`: revoke the fpage's rights from every mapping derived
   * from the caller's pages in it, recursively; with `self`, from the caller's own too.
   *
   * @returns page mappings removed
   */
  unmap(domain: number, fpage: Fpage, self: boolean): number {
    if (!validFpage(fpage)) return 0;
    const s = this.space(domain);
    const bits = rightsBits(fpage.rights);
    const first = fpage.base / PAGE_BYTES;
    const count = 2 ** (fpage.sizeLog2 - 12);
    let n = 0;
    for (let i = 0; i < count; i++) {
      const m = s.pages.get(first + i);
      if (m !== undefined) n += this.revokeRights(m, bits, self);
    }
    this.counters.revokedPages += n;
    return n;
  }

  /** Domains with changes not yet taken. */
  dirtyDomains(): number[] {
    const out: number[] = [];
    this.spaces.forEach((s, d) => {
      if (s !== undefined && s.dirty.size > 0) out.push(d);
    });
    return out;
  }

  /**
   * The changes to `domain`'s page table since the last call, with the regions it does not
   * hold yet (now counted as held), or null if nothing changed.
   */
  takeUpdate(domain: number): MemoryUpdate | null {
    const s = this.space(domain);
    if (s.dirty.size === 0) return null;
    const regions: RegionInfo[] = [];
    const set: number[] = [];
    const del: number[] = [];
    for (const vpage of s.dirty) {
      const m = s.pages.get(vpage);
      if (m === undefined) {
        del.push(vpage);
        continue;
      }
      if (!s.held.has(m.region)) {
        s.held.add(m.region);
        regions.push(this.regionList[m.region]!);
      }
      set.push(vpage, m.region, m.page, m.rights);
    }
    s.dirty.clear();
    return { regions, set, del };
  }

  /**
   * `domain`'s whole page table as one update from an empty table, for a fresh worker of the
   * domain (a restart): every mapped page and the regions they are in (those count as held
   * from now on; pending changes are included and cleared).
   */
  snapshot(domain: number): MemoryUpdate {
    const s = this.space(domain);
    const regions: RegionInfo[] = [];
    const set: number[] = [];
    const held = new Set<number>();
    for (const [vpage, m] of s.pages) {
      if (!held.has(m.region)) {
        held.add(m.region);
        regions.push(this.regionList[m.region]!);
      }
      set.push(vpage, m.region, m.page, m.rights);
    }
    s.held.clear();
    for (const r of held) s.held.add(r);
    s.dirty.clear();
    return { regions, set, del: [] };
  }

  /** Whether `domain`'s worker holds region `id` (test and isolation checks). */
  holds(domain: number, id: number): boolean {
    return this.space(domain).held.has(id);
  }

  // ------------------------------------------------------------------ the tree (space.ts)

  private setPage(s: Space, vpage: number, m: Mapping): void {
    s.pages.set(vpage, m);
    s.dirty.add(vpage);
  }

  private dropPage(m: Mapping): void {
    const s = m.space;
    if (s.pages.get(m.vpage) === m) {
      s.pages.delete(m.vpage);
      s.dirty.add(m.vpage);
    }
  }

  private detach(m: Mapping): void {
    const p = m.parent;
    if (p === null) return;
    const i = p.children.indexOf(m);
    if (i >= 0) p.children.splice(i, 1);
    m.parent = null;
  }

  /** Revoke every mapping derived from `m`; with `self`, `m` too. Returns mappings removed. */
  private revoke(m: Mapping, self: boolean): number {
    let n = 0;
    const stack = m.children.slice();
    m.children.length = 0;
    while (stack.length > 0) {
      const c = stack.pop()!;
      for (const g of c.children) stack.push(g);
      c.children.length = 0;
      c.parent = null;
      this.dropPage(c);
      n++;
    }
    if (self) {
      this.detach(m);
      this.dropPage(m);
      n++;
    }
    return n;
  }

  /** Revoke `bits` from everything derived from `m` (and `m` with `self`); rightless mappings go. */
  private revokeRights(m: Mapping, bits: number, self: boolean): number {
    if ((bits & 7) === 7) return this.revoke(m, self);
    if ((bits & 7) === 0) return 0;
    let n = 0;
    const stack = m.children.slice();
    while (stack.length > 0) {
      const c = stack.pop()!;
      c.rights &= ~bits;
      c.space.dirty.add(c.vpage);
      if (c.rights === 0) n += this.revoke(c, true);
      else for (const g of c.children) stack.push(g);
    }
    if (self) {
      m.rights &= ~bits;
      m.space.dirty.add(m.vpage);
      if (m.rights === 0) n += this.revoke(m, true);
    }
    return n;
  }

  /** Map `src` into `dst` at `vpage` with `rights`, derived from `src` (X.2 MapItem). */
  private mapFrom(src: Mapping, dst: Space, vpage: number, rights: number): number {
    let n = 0;
    const old = dst.pages.get(vpage);
    if (old === src) return 0;
    if (
      old !== undefined &&
      old.parent === src &&
      old.region === src.region &&
      old.page === src.page
    ) {
      // mapping again with more rights extends them in place (X.2 "MapItem")
      old.rights |= rights;
      dst.dirty.add(vpage);
      return 0;
    }
    if (old !== undefined) n += this.revoke(old, true);
    const m = new Mapping(dst, vpage, src.region, src.page, rights, src);
    src.children.push(m);
    this.setPage(dst, vpage, m);
    return n;
  }

  /** Move `src` to `dst` at `vpage`, keeping its place in the tree, with `rights` (X.2 GrantItem). */
  private grantFrom(src: Mapping, dst: Space, vpage: number, rights: number): number {
    let n = 0;
    const old = dst.pages.get(vpage);
    if (old === src) return 0;
    if (old !== undefined) n += this.revoke(old, true);
    this.dropPage(src);
    src.space = dst;
    src.vpage = vpage;
    src.rights = rights;
    this.setPage(dst, vpage, src);
    return n;
  }
}
