/**
 * The driver side of a translation cache (paper section 4.4): dataspace page → physical frame,
 * read straight from memory shared with the dataspace manager. A hit costs no IPC; a miss costs
 * one IPC to the manager ({@link TranslationCache.refill}), which installs the entry.
 *
 * ```ts
 * const tc = yield* TranslationCache.open(sys, manager, { vaddr: 0x4000_0000, entries: 1024 });
 * session.add(yield* tc.add(dataspaceId));          // setup: dataspace joins the session
 * let paddr = tc.lookup(dataspaceId, offset);        // hot path
 * if (paddr < 0) paddr = yield* tc.refill(sys, dataspaceId, offset);
 * ```
 *
 * @module
 */
import type { Cycles, Sys, ThreadId } from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { request } from './client.js';
import { type DataspaceCosts, resolveCosts } from './costs.js';
import { DataspaceError } from './errors.js';
import { PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from './page.js';
import { DsLabel, DsStatus } from './protocol.js';
import type { SessionDataspace } from './session.js';
import {
  ENTRY_VALID,
  PinPolicy,
  TABLE_STATE_DISABLED,
  TranslationTable,
} from './translation-table.js';

/** Options of {@link TranslationCache.open}. */
export interface TranslationCacheOptions {
  /** Where the table is mapped in the driver's address space (aligned to the table's power-of-two size). */
  readonly vaddr: number;
  /** Entries requested (one per dataspace page the driver may translate at once). */
  readonly entries: number;
  /**
   * {@link PinPolicy.TIME} only: a translation is used only if its lease outlasts
   * `now + leaseMargin` (the driver's estimate of how long its DMA may take). Default 0.
   */
  readonly leaseMargin?: Cycles;
  /** Cost overrides. */
  readonly costs?: Partial<DataspaceCosts>;
}

/** Counters of a {@link TranslationCache}. */
export interface TranslationStats {
  /** Lookups answered from the shared table. */
  hits: number;
  /** Lookups that found no valid (or no unexpired) entry. */
  misses: number;
  /** Lookups of a dataspace not in the cache or an offset past its end (dropped). */
  foreign: number;
  /** Refill IPCs that installed a translation. */
  refills: number;
  /** Refill IPCs the manager refused (closed dataspace, disabled driver, bad request). */
  refillFailures: number;
  /** Pins that failed because the entry was not valid. */
  pinFailures: number;
  /**
   * Dataspaces that left the cache (removed by the driver, or closed by their owner) while the
   * driver still pinned pages of them: kept for the driver's unpins, forgotten with the last one.
   */
  goneWhilePinned: number;
}

interface Segment {
  readonly first: number;
  readonly pages: number;
  /**
   * The manager no longer holds the dataspace in this cache (closed by its owner, or gone)
   * while the driver still pinned pages of it: lookups and pins fail, unpins still work, and the
   * segment is forgotten with its last pin.
   */
  gone: boolean;
}

/** The driver's handle on a translation cache shared with one dataspace manager. */
export class TranslationCache {
  /** The cache id the manager assigned. */
  readonly id: number;
  /** The manager thread. */
  readonly manager: ThreadId;
  /** The shared table. */
  readonly table: TranslationTable;
  /** The manager's pin policy for this cache. */
  readonly policy: PinPolicy;
  /** Counters. */
  readonly stats: TranslationStats = {
    hits: 0,
    misses: 0,
    foreign: 0,
    refills: 0,
    refillFailures: 0,
    pinFailures: 0,
    goneWhilePinned: 0,
  };
  private readonly sys: Sys;
  private readonly costs: DataspaceCosts;
  private readonly leaseMargin: Cycles;
  private readonly segments = new Map<number, Segment>();
  private readonly pinCounts: Uint16Array;

  /**
   * Establish a translation cache with `manager`: one IPC; the manager maps the table into the
   * caller's space at `options.vaddr`. Throws {@link DataspaceError} on failure.
   */
  static *open(
    sys: Sys,
    manager: ThreadId,
    options: TranslationCacheOptions,
  ): DataspaceCall<TranslationCache> {
    const reply = yield* request(
      sys,
      manager,
      { label: DsLabel.TC_OPEN, words: [options.vaddr, options.entries] },
      'translation cache open',
    );
    const [id, entries, bytes, policy] = reply.words;
    if (
      id === undefined ||
      entries === undefined ||
      bytes === undefined ||
      (policy !== PinPolicy.PIN_BIT && policy !== PinPolicy.TIME)
    ) {
      throw new DataspaceError('DS_PROTOCOL', 'malformed translation cache open reply');
    }
    const view = yield* sys.mem.access(options.vaddr, bytes, 'write');
    if (!('bytes' in view)) {
      throw new DataspaceError(
        'DS_IPC_FAILED',
        `translation table not accessible at ${options.vaddr} (${view.error})`,
      );
    }
    const table = new TranslationTable(view.buffer, view.byteOffset, entries);
    return new TranslationCache(sys, manager, id, table, policy, options);
  }

  /** Wrap an established table (normally via {@link TranslationCache.open}). */
  constructor(
    sys: Sys,
    manager: ThreadId,
    id: number,
    table: TranslationTable,
    policy: PinPolicy,
    options: Pick<TranslationCacheOptions, 'leaseMargin' | 'costs'> = {},
  ) {
    this.sys = sys;
    this.manager = manager;
    this.id = id;
    this.table = table;
    this.policy = policy;
    this.costs = resolveCosts(options.costs);
    this.leaseMargin = options.leaseMargin ?? 0;
    this.pinCounts = new Uint16Array(table.entries);
  }

  /** True once the manager disabled this driver (pin quota exceeded). */
  get disabled(): boolean {
    return this.table.state === TABLE_STATE_DISABLED;
  }

  /**
   * Add a dataspace to the cache (one IPC; the caller must hold translate rights on it, given by
   * the dataspace's owner). Returns the manager's authoritative id and size, ready for
   * `session.add`. Throws {@link DataspaceError} on refusal, and (`DS_DUPLICATE`) for a dataspace
   * that left the cache while pages of it are still pinned.
   */
  *add(dataspaceId: number): DataspaceCall<SessionDataspace> {
    if (this.segments.get(dataspaceId)?.gone) {
      // Its old entries are still pinned: an unpin could not tell old from new.
      throw new DataspaceError(
        'DS_DUPLICATE',
        `dataspace ${dataspaceId} left the cache with pages still pinned: unpin them before adding it again`,
      );
    }
    const reply = yield* request(
      this.sys,
      this.manager,
      { label: DsLabel.TC_ADD, words: [this.id, dataspaceId] },
      'translation cache add',
    );
    const [first, pages, size] = reply.words;
    if (
      first === undefined ||
      pages === undefined ||
      size === undefined ||
      !Number.isInteger(first) ||
      !Number.isInteger(pages) ||
      first < 0 ||
      pages <= 0 ||
      first + pages > this.table.entries
    ) {
      throw new DataspaceError('DS_PROTOCOL', 'malformed translation cache add reply');
    }
    this.segments.set(dataspaceId, { first, pages, gone: false });
    return { id: dataspaceId, size };
  }

  /**
   * Remove a dataspace from the cache (one IPC). Its entries are invalidated by the manager:
   * lookups and pins of it fail from here on.
   *
   * Pages the driver still pins (DMA may be in flight into them) stay the driver's to release:
   * the manager keeps their frames — and their IOMMU entries — held, and their table entries
   * allocated so no other dataspace reuses them, until the pin bit clears; this side keeps the
   * dataspace's entries for {@link unpin} alone (counted in `stats.goneWhilePinned`) and forgets
   * them with the last pin. (Forgetting them at once, as before, made the driver's unpins fall on
   * nothing: the page stayed pinned and mapped in the IOMMU until the manager disabled the
   * driver for pin time.) The same holds when the owner closes the dataspace under a pin and a
   * refill finds it gone. Throws {@link DataspaceError} if the manager refuses.
   */
  *remove(dataspaceId: number): DataspaceCall<void> {
    const seg = this.segments.get(dataspaceId);
    if (seg === undefined || seg.gone) return;
    this.forget(dataspaceId, seg);
    yield* request(
      this.sys,
      this.manager,
      { label: DsLabel.TC_REMOVE, words: [this.id, dataspaceId] },
      'translation cache remove',
    );
  }

  /** Forget a dataspace's segment, or keep it for unpins alone while pins of it are held. */
  private forget(dataspaceId: number, seg: Segment): void {
    if (this.pinsIn(seg)) {
      seg.gone = true;
      this.stats.goneWhilePinned++;
    } else this.segments.delete(dataspaceId);
  }

  /** True if the dataspace is in this cache (and the manager still holds it). */
  has(dataspaceId: number): boolean {
    const seg = this.segments.get(dataspaceId);
    return seg !== undefined && !seg.gone;
  }

  /**
   * Translate a byte offset of a dataspace to a physical address. Hot path: no IPC, no
   * allocation. Returns -1 on a miss (refill, then retry) or for a dataspace or offset the cache
   * does not hold (counted in `foreign`; validate references with a session first).
   */
  lookup(dataspaceId: number, offset: number): number {
    const e = this.entryOf(dataspaceId, offset);
    if (e < 0) return -1;
    return this.translateEntry(e, offset);
  }

  /**
   * Refill the translation of the page holding `offset` with one IPC to the manager, then
   * return the physical address (or -1 if the manager refused; counted, never thrown). `sys`
   * must be the thread that opened the cache: the manager serves no other.
   */
  *refill(sys: Sys, dataspaceId: number, offset: number): DataspaceCall<number> {
    const e = this.entryOf(dataspaceId, offset);
    if (e < 0) return -1;
    sys.charge('Translation', this.costs.refillClient);
    const r = yield* sys.ipc.call(this.manager, {
      label: DsLabel.TC_REFILL,
      words: [this.id, dataspaceId, offset >>> PAGE_SHIFT],
    });
    if (!r.ok || r.msg.label !== DsStatus.OK) {
      this.stats.refillFailures++;
      if (
        r.ok &&
        (r.msg.label === DsStatus.NOT_IN_CACHE || r.msg.label === DsStatus.NO_SUCH_DATASPACE)
      ) {
        // Forget it, but not while pins of it are held: the driver must still release them.
        this.forget(dataspaceId, this.segments.get(dataspaceId)!);
      }
      return -1;
    }
    this.stats.refills++;
    const flags = this.table.flags(e);
    if ((flags & ENTRY_VALID) === 0) return -1;
    return this.table.frame(e) * PAGE_SIZE + (offset & PAGE_MASK);
  }

  /**
   * Translate and pin (pin-bit policy): sets the advisory pin bit of the page so the manager
   * keeps its frame until {@link unpin}. Pins nest per page. Returns the physical address, or -1
   * on a miss (refill, then pin again).
   */
  pin(dataspaceId: number, offset: number): number {
    const e = this.entryOf(dataspaceId, offset);
    if (e < 0) return -1;
    const count = this.pinCounts[e]!;
    this.sys.charge('Translation', this.costs.pinBit);
    if (count === 0 ? !this.table.tryPin(e) : (this.table.flags(e) & ENTRY_VALID) === 0) {
      this.stats.pinFailures++;
      return -1;
    }
    this.pinCounts[e] = count + 1;
    return this.translateEntry(e, offset);
  }

  /**
   * Release one pin of the page holding `offset`; the bit clears with the last one. Works for a
   * dataspace the manager no longer holds (closed while pinned), which is forgotten with its
   * last pin.
   */
  unpin(dataspaceId: number, offset: number): void {
    const e = this.entryOf(dataspaceId, offset, true);
    if (e < 0) return;
    const count = this.pinCounts[e]!;
    if (count === 0) return;
    this.pinCounts[e] = count - 1;
    if (count === 1) {
      this.sys.charge('Translation', this.costs.pinBit);
      this.table.unpin(e);
      const seg = this.segments.get(dataspaceId)!;
      if (seg.gone && !this.pinsIn(seg)) this.segments.delete(dataspaceId);
    }
  }

  /** Pages of the cache this driver currently pins. */
  get pinnedPages(): number {
    let n = 0;
    for (let i = 0; i < this.pinCounts.length; i++) if (this.pinCounts[i] !== 0) n++;
    return n;
  }

  /** Forget every local pin (after the manager disabled the driver and recovered its pins). */
  resetPins(): void {
    this.pinCounts.fill(0);
    for (const [id, seg] of this.segments) if (seg.gone) this.segments.delete(id);
  }

  /** True if the driver pins some page of `seg`. */
  private pinsIn(seg: Segment): boolean {
    for (let e = seg.first; e < seg.first + seg.pages; e++)
      if (this.pinCounts[e] !== 0) return true;
    return false;
  }

  /** The entry of `offset` in the dataspace's segment, or -1 (counted); `gone` ones only for unpin. */
  private entryOf(dataspaceId: number, offset: number, orGone = false): number {
    const seg = this.segments.get(dataspaceId);
    if (seg === undefined || (seg.gone && !orGone) || offset >>> 0 !== offset) {
      this.stats.foreign++;
      return -1;
    }
    const page = offset >>> PAGE_SHIFT;
    if (page >= seg.pages) {
      this.stats.foreign++;
      return -1;
    }
    return seg.first + page;
  }

  private translateEntry(e: number, offset: number): number {
    const t = this.table;
    if (
      (t.flags(e) & ENTRY_VALID) === 0 ||
      (this.policy === PinPolicy.TIME && t.lease(e) < this.sys.now() + this.leaseMargin)
    ) {
      this.stats.misses++;
      this.sys.charge('Translation', this.costs.lookupMiss);
      return -1;
    }
    this.stats.hits++;
    this.sys.charge('Translation', this.costs.lookupHit);
    return t.frame(e) * PAGE_SIZE + (offset & PAGE_MASK);
  }
}
