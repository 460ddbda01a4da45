/**
 * The dataspace manager's side of an IOMMU table: it enters the frames it installs in a driver's
 * translation caches and removes them when their translation goes (unmap, removal from the
 * cache, release of a held frame, recovery after the driver is disabled). The translation cache
 * already holds exactly what an IOMMU needs (paper section 4.4): which frames a driver may use
 * for DMA, and since when. One {@link IommuDomain} per driver (all of its devices share it), one
 * {@link IommuEntries} per translation cache mirroring the manager's authoritative translation of
 * each entry.
 *
 * A frame can be entered several times (the same dataspace in two caches of one driver, a held
 * frame whose dataspace was re-added): the domain counts, per frame, the entries that map it and
 * those that map it writable, and the table's access bits follow the counts. Everything it
 * decides on is private: the table is only written.
 *
 * @module
 */
import { DataspaceError } from './errors.js';
import { IOMMU_READ, IOMMU_WRITE, type IommuTable } from './iommu-table.js';

/** Where a manager finds one driver's IOMMU table (plain data, structured-clone safe). */
export interface IommuDomainConfig {
  /** The driver thread whose translation caches feed the table. */
  readonly driver: number;
  /** Virtual address of the table in the manager's space (the realiser maps it there). */
  readonly vaddr: number;
  /** Physical frames the table covers. */
  readonly frames: number;
}

/** Counters of an {@link IommuDomain}. */
export interface IommuDomainStats {
  /** Entries made (a frame entered by one cache entry). */
  entered: number;
  /** Entries removed. */
  removed: number;
  /** Frames that could not be entered (outside the table; the device will fault on them). */
  outside: number;
}

/** The refcounted writer of one driver's IOMMU table. */
export class IommuDomain {
  /** Counters. */
  readonly stats: IommuDomainStats = { entered: 0, removed: 0, outside: 0 };
  private readonly mapped: Uint16Array;
  private readonly writable: Uint16Array;

  /** @param table - the driver's table, formatted by the realiser (its setup grants are kept) */
  constructor(readonly table: IommuTable) {
    if (!table.formatted) {
      throw new DataspaceError('DS_BAD_ARGUMENT', 'IOMMU table is not formatted');
    }
    this.mapped = new Uint16Array(table.frames);
    this.writable = new Uint16Array(table.frames);
  }

  /** A per-cache mirror of `entries` translation entries that enters its frames here. */
  entries(entries: number): IommuEntries {
    return new IommuEntries(this, entries);
  }

  /** Enter physical frame `frame` once more, writable or read-only. */
  enter(frame: number, writable: boolean): void {
    if (!(frame >= 0 && frame < this.table.frames)) {
      this.stats.outside++;
      return;
    }
    this.stats.entered++;
    this.mapped[frame]!++;
    if (writable) this.writable[frame]!++;
    this.update(frame);
  }

  /** Undo one {@link IommuDomain.enter} with the same arguments. */
  remove(frame: number, writable: boolean): void {
    if (!(frame >= 0 && frame < this.table.frames) || this.mapped[frame] === 0) return;
    this.stats.removed++;
    this.mapped[frame]!--;
    if (writable && this.writable[frame]! > 0) this.writable[frame]!--;
    this.update(frame);
  }

  /** Entries currently mapping physical frame `frame`. */
  references(frame: number): number {
    return frame >= 0 && frame < this.table.frames ? this.mapped[frame]! : 0;
  }

  private update(frame: number): void {
    // A frame the realiser granted at setup (descriptor rings) is never a manager's frame, so
    // the counts alone decide the bits of every frame the manager touches.
    const bits =
      (this.mapped[frame]! > 0 ? IOMMU_READ : 0) | (this.writable[frame]! > 0 ? IOMMU_WRITE : 0);
    this.table.setAccess(frame, bits);
  }
}

/**
 * What one translation cache has entered in its driver's IOMMU domain, entry by entry: the
 * manager calls {@link IommuEntries.set} where it installs a translation and
 * {@link IommuEntries.clear} wherever it forgets one, so the domain's counts stay balanced.
 */
export class IommuEntries {
  private readonly frame: Float64Array;
  private readonly writable: Uint8Array;

  /** @param domain - the driver's domain; @param entries - entries of the translation cache */
  constructor(
    private readonly domain: IommuDomain,
    entries: number,
  ) {
    this.frame = new Float64Array(entries).fill(-1);
    this.writable = new Uint8Array(entries);
  }

  /** Entry `e` now translates to physical frame `frame` (replacing what it entered before). */
  set(e: number, frame: number, writable: boolean): void {
    this.clear(e);
    this.frame[e] = frame;
    this.writable[e] = writable ? 1 : 0;
    this.domain.enter(frame, writable);
  }

  /** Entry `e` translates nothing any more: remove its frame from the domain, if any. */
  clear(e: number): void {
    const f = this.frame[e]!;
    if (f < 0) return;
    this.frame[e] = -1;
    this.domain.remove(f, this.writable[e] === 1);
  }

  /** Forget every entry (the driver was disabled or its cache is gone). */
  clearAll(): void {
    for (let e = 0; e < this.frame.length; e++) this.clear(e);
  }

  /** Entries that currently map a frame. */
  get live(): number {
    let n = 0;
    for (let e = 0; e < this.frame.length; e++) if (this.frame[e]! >= 0) n++;
    return n;
  }
}
