/**
 * Address spaces (page tables: virtual page → frame + rights) and the mapping database: every
 * mapping remembers the mapping it was derived from, so unmapping a page revokes, recursively,
 * every mapping derived from it (L4's recursive address-space model).
 *
 * @module
 */
import type { MmioDevice } from '../machine/device-host.js';
import type { Access, Rights } from '../sys.js';

/** Id of an address space. */
export type SpaceId = number;

/** Read right bit (L4 `r`). */
export const RIGHT_READ = 4;
/** Write right bit (L4 `w`). */
export const RIGHT_WRITE = 2;
/** Execute right bit (L4 `x`). */
export const RIGHT_EXECUTE = 1;

/** Full rights. */
export const RWX: Rights = { read: true, write: true, execute: true };
/** Read and write. */
export const RW: Rights = { read: true, write: true, execute: false };
/** Read only. */
export const RO: Rights = { read: true, write: false, execute: false };

/** Rights as L4 `rwx` bits. */
export function rightsBits(r: Rights): number {
  return (r.read ? RIGHT_READ : 0) | (r.write ? RIGHT_WRITE : 0) | (r.execute ? RIGHT_EXECUTE : 0);
}

/** `rwx` bits as a {@link Rights} object. */
export function bitsRights(bits: number): Rights {
  return {
    read: (bits & RIGHT_READ) !== 0,
    write: (bits & RIGHT_WRITE) !== 0,
    execute: (bits & RIGHT_EXECUTE) !== 0,
  };
}

/**
 * The access kind as the page-fault message encodes it (second word): the `rwx` bit the access
 * needs — read 4, write 2, execute 1.
 */
export function accessBits(access: Access): number {
  return access === 'write' ? RIGHT_WRITE : access === 'execute' ? RIGHT_EXECUTE : RIGHT_READ;
}

/** One node of the mapping database: a page of a space mapped to a frame. */
export class Mapping {
  /** The space holding the mapping. */
  space: AddressSpace;
  /** Virtual page number in that space. */
  vpage: number;
  /** Physical frame number. */
  readonly frame: number;
  /** `rwx` bits. */
  rights: number;
  /** The mapping this one was derived from (null for a root set up by `mapPhysical`). */
  parent: Mapping | null;
  /** Mappings derived from this one. */
  readonly children: Mapping[] = [];

  /**
   * @param space - holder
   * @param vpage - virtual page
   * @param frame - physical frame
   * @param rights - `rwx` bits
   * @param parent - source mapping or null
   */
  constructor(
    space: AddressSpace,
    vpage: number,
    frame: number,
    rights: number,
    parent: Mapping | null,
  ) {
    this.space = space;
    this.vpage = vpage;
    this.frame = frame;
    this.rights = rights;
    this.parent = parent;
  }
}

/** A device register window mapped into a space. */
export interface MmioMapping {
  /** Virtual base address. */
  readonly base: number;
  /** Window size in bytes. */
  readonly size: number;
  /** The device. */
  readonly device: MmioDevice;
}

/** An address space: page table plus device windows. */
export class AddressSpace {
  /** Space id. */
  readonly id: SpaceId;
  /** Name for reports. */
  readonly name: string;
  /** Page table: virtual page number → mapping. */
  readonly pages = new Map<number, Mapping>();
  /** Device register windows. */
  readonly mmio: MmioMapping[] = [];
  /**
   * True for the kernel's own space (the monolithic baseline's in-kernel driver and stack):
   * it is mapped in every address space, so switching to one of its threads keeps the loaded
   * page table and flushes no TLB (as Linux kernel threads borrow the current mm).
   */
  global = false;

  /**
   * @param id - space id
   * @param name - name
   */
  constructor(id: SpaceId, name: string) {
    this.id = id;
    this.name = name;
  }

  /** The device window containing `vaddr`, or undefined. */
  mmioAt(vaddr: number): MmioMapping | undefined {
    for (const m of this.mmio) if (vaddr >= m.base && vaddr < m.base + m.size) return m;
    return undefined;
  }
}

/** Detach `m` from its parent's child list. */
function detach(m: Mapping): void {
  const p = m.parent;
  if (p === null) return;
  const i = p.children.indexOf(m);
  if (i >= 0) p.children.splice(i, 1);
  m.parent = null;
}

/**
 * Revoke every mapping derived from `m` (recursively); with `self`, remove `m` too.
 * Returns the number of page mappings removed.
 */
export function revoke(m: Mapping, self: boolean): number {
  let n = 0;
  const stack: Mapping[] = m.children.slice();
  m.children.length = 0;
  while (stack.length > 0) {
    const c = stack.pop()!;
    for (const g of c.children) stack.push(g);
    c.children.length = 0;
    c.parent = null;
    if (c.space.pages.get(c.vpage) === c) c.space.pages.delete(c.vpage);
    n++;
  }
  if (self) {
    detach(m);
    if (m.space.pages.get(m.vpage) === m) m.space.pages.delete(m.vpage);
    n++;
  }
  return n;
}

/**
 * Revoke the `rwx` bits `bits` from every mapping derived from `m`, recursively; with `self`,
 * from `m` too. A mapping left with no rights is removed with everything derived from it.
 * Returns the page mappings removed. (L4 X.2 Unmap with an fpage whose rights are a subset:
 * reference manual, "Unmap"; Pistachio `kernel/src/generic/linear_ptab_walker.cc`, unmap_fpage
 * with the fpage's access rights.)
 */
export function revokeRights(m: Mapping, bits: number, self: boolean): number {
  if ((bits & 7) === 7) return revoke(m, self);
  if ((bits & 7) === 0) return 0;
  let n = 0;
  const stack: Mapping[] = m.children.slice();
  while (stack.length > 0) {
    const c = stack.pop()!;
    c.rights &= ~bits;
    if (c.rights === 0) {
      n += revoke(c, true);
    } else {
      for (const g of c.children) stack.push(g);
    }
  }
  if (self) {
    m.rights &= ~bits;
    if (m.rights === 0) n += revoke(m, true);
  }
  return n;
}

/**
 * Map `src` into `dst` space at `vpage` with `rights` (already intersected), derived from `src`.
 * Any other mapping already at the destination is revoked first; a mapping there that is
 * already derived from `src` (same frame) keeps its place and gains the new rights, as X.2
 * extends access rights in place (reference manual, "MapItem": mapping a page again with
 * more rights upgrades the existing mapping; Pistachio `kernel/src/generic/linear_ptab_walker.cc`,
 * map_fpage on an existing mapping of the same frame).
 */
export function mapFrom(src: Mapping, dst: AddressSpace, vpage: number, rights: number): number {
  let n = 0;
  const old = dst.pages.get(vpage);
  if (old === src) return 0;
  if (old !== undefined && old.parent === src && old.frame === src.frame) {
    old.rights |= rights;
    return 0;
  }
  if (old !== undefined) n += revoke(old, true);
  const m = new Mapping(dst, vpage, src.frame, rights, src);
  src.children.push(m);
  dst.pages.set(vpage, m);
  return n;
}

/** Grant: move `src` to `dst` at `vpage` (keeping its place in the tree), with reduced rights. */
export function grantFrom(src: Mapping, dst: AddressSpace, vpage: number, rights: number): number {
  let n = 0;
  const old = dst.pages.get(vpage);
  if (old === src) return 0;
  if (old !== undefined) n += revoke(old, true);
  src.space.pages.delete(src.vpage);
  src.space = dst;
  src.vpage = vpage;
  src.rights = rights;
  dst.pages.set(vpage, src);
  return n;
}
