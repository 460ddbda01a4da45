/**
 * The anonymous-memory dataspace manager (paper section 3): dataspaces backed by physical
 * frames from a pool the assembler maps into the manager's address space. It serves the
 * dataspace protocol ({@link DsLabel}): open/close/share, map-on-fault for region mappers,
 * unmap, and the translation caches it shares with drivers (section 4.4), with pin quotas.
 *
 * Design notes:
 * - Frames: the pool is mapped at `pool.vaddr`; the manager asks the kernel once for each
 *   frame's physical address (`sys.mem.translate`). Each dataspace is one contiguous run of
 *   frames (see {@link FrameAllocator} for why), translated per page all the same.
 * - Authority: everything the manager decides on comes from its own private state (which
 *   dataspace owns which frames, which cache entry holds which frame, since when it is pinned).
 *   Of the shared table it reads only the pin bits, and only of entries it allocated.
 * - Pins: a frame whose translation a driver pins (pin-bit policy) or whose lease runs
 *   (time policy) is never recycled: closing its dataspace defers the frame's release until
 *   the pin clears, the lease ends, or the driver is disabled and its pins recovered.
 * - Quotas (pin-bit policy): every `scanInterval` the manager counts each driver's pinned pages
 *   and pin ages; a driver over quota is disabled: the device supervisor is asked by IPC to reset
 *   its devices ({@link AnonymousManagerOptions.supervisor}; in-process alternative:
 *   {@link AnonymousManagerOptions.onDriverDisabled}), then every pin is recovered.
 *
 * @module
 */
import {
  ANY_THREAD,
  type Cycles,
  type Fpage,
  type IpcResult,
  type Message,
  NEVER,
  type Sys,
  type ThreadBody,
  type ThreadId,
} from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { type DataspaceCosts, resolveCosts } from './costs.js';
import { CountersPage } from './counters-page.js';
import { DataspaceError } from './errors.js';
import { FrameAllocator } from './frame-allocator.js';
import { IommuDomain, type IommuDomainConfig, type IommuEntries } from './iommu-domain.js';
import { IommuTable } from './iommu-table.js';
import { requestRegion } from './memory-source.js';
import { isUint32, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE } from './page.js';
import {
  DS_ACCESS_WRITE,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  DS_RIGHTS_ALL,
  DsLabel,
  DsStatus,
  MANAGER_STATS_FIELDS,
  type ManagerStats,
} from './protocol.js';
import { onDemandRefill, type RefillPolicy } from './refill-policy.js';
import {
  DRIVER_DISABLE_LABEL,
  DRIVER_RECOVER_LABEL,
  SUPERVISOR_OK,
} from './supervisor-protocol.js';
import {
  ENTRY_PIN,
  PinPolicy,
  TABLE_STATE_DISABLED,
  TranslationTable,
} from './translation-table.js';
import { revokeMappings } from './unmap.js';

/**
 * The manager's frames: a window of `bytes` at `vaddr` in its address space.
 *
 * Without a memory source ({@link AnonymousManagerOptions.memorySource}) the assembler maps
 * physical memory there before the manager starts (sigma0's role, e.g. `kernel.mapPhysical`);
 * it must be physically contiguous, and the manager learns each frame's physical address with
 * `sys.mem.translate`. With a memory source the window starts empty: the manager asks the source
 * for a fresh region for each dataspace and translation table and maps it into the window, so the
 * window's size is the manager's budget of frames.
 */
export interface FramePool {
  /** Virtual address of the pool in the manager's space (page aligned; align it to the largest translation table, e.g. 1 MiB). */
  readonly vaddr: number;
  /** Size in bytes (a whole number of pages). */
  readonly bytes: number;
}

/** Limits on what one driver may pin (pin-bit policy). */
export interface PinQuota {
  /** Most pages pinned at once. */
  readonly maxPinnedPages: number;
  /** Longest a page may stay pinned, in cycles (beyond {@link PinQuota.maxLongPinnedPages}). */
  readonly maxPinCycles: Cycles;
  /**
   * How many pages may stay pinned longer than {@link PinQuota.maxPinCycles} without the driver
   * being over its quota (default 0): its devices' posted receive buffers, which a device owns
   * for as long as no frame arrives. Only long pins beyond these count as pin-time abuse.
   */
  readonly maxLongPinnedPages?: number;
}

/** Options of {@link AnonymousManager}. */
export interface AnonymousManagerOptions {
  /** The physical frames this manager implements dataspaces with. */
  readonly pool: FramePool;
  /** Pin policy of every translation cache this manager opens. Default {@link PinPolicy.PIN_BIT}. */
  readonly pinPolicy?: PinPolicy;
  /** Default per-driver pin quota. Default: 1024 pages, 1 s at 2.66 GHz. */
  readonly pinQuota?: PinQuota;
  /** Per-driver quotas by driver thread id, overriding {@link pinQuota}. */
  readonly driverQuotas?: ReadonlyMap<ThreadId, PinQuota>;
  /** Time policy: lease granted by a refill, in cycles. Default 266 000 (100 µs at 2.66 GHz). */
  readonly leaseCycles?: Cycles;
  /** How the manager refills translation caches. Default {@link onDemandRefill}. */
  readonly refillPolicy?: RefillPolicy;
  /** Period of the pin scan and of deferred-release checks, in cycles. Default 26 600 (10 µs). */
  readonly scanInterval?: Cycles;
  /** Largest translation cache a driver may open, in entries. Default 65 536. */
  readonly maxCacheEntries?: number;
  /**
   * Called with the driver's thread id when the driver is disabled for exceeding its pin
   * quota, before its pins are recovered: reset the device here. Exceptions are swallowed
   * (and counted) so the manager keeps serving.
   */
  readonly onDriverDisabled?: (driverId: ThreadId) => void;
  /**
   * Thread id of a memory source (see `requestRegion`): when given, every dataspace and every
   * translation table is a region of its own, requested when it is created, instead of a run of
   * a pool mapped in advance.
   */
  readonly memorySource?: ThreadId;
  /**
   * Thread id of the device supervisor (see `DRIVER_DISABLE_LABEL`): a driver over its pin
   * quota is disabled by a call to it, and pins are recovered only after its reply (the
   * driver's devices are reset by then).
   */
  readonly supervisor?: ThreadId;
  /**
   * The domain's counters page (see {@link CountersPage}): where it is mapped and the prefix of
   * the manager's counters ({@link ManagerStats} fields), published after every request and scan.
   */
  readonly counters?: { readonly vaddr: number; readonly prefix: string };
  /**
   * IOMMU tables, one per driver whose devices are behind an IOMMU: the manager enters every
   * frame it installs in that driver's translation caches and removes it when the translation
   * goes (see {@link IommuDomain}). The realiser formats each table and maps it at `vaddr`.
   */
  readonly iommu?: readonly IommuDomainConfig[];
  /** Cost overrides. */
  readonly costs?: Partial<DataspaceCosts>;
}

/** A region the memory source mapped into the pool window, and the manager's view of it. */
interface BackingRegion {
  readonly firstFrame: number;
  readonly pages: number;
  readonly bytes: Uint8Array;
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

interface DataspaceRecord {
  readonly id: number;
  readonly owner: ThreadId;
  readonly firstFrame: number;
  readonly pages: number;
  readonly acl: Map<ThreadId, number>;
  readonly caches: Set<CacheRecord>;
}

interface Segment {
  readonly ds: DataspaceRecord;
  readonly first: number;
  readonly writable: boolean;
}

/** Entry owner marker for an entry whose dataspace is gone but whose frame is still held. */
const HELD = -1;
/** Entry owner marker for a free entry. */
const FREE = 0;

interface CacheRecord {
  readonly id: number;
  readonly driver: ThreadId;
  readonly tableFrame: number;
  readonly tablePages: number;
  readonly table: TranslationTable;
  readonly quota: PinQuota;
  readonly segments: Map<number, Segment>;
  readonly entryAlloc: FrameAllocator;
  /** Dataspace id per entry, {@link FREE}, or {@link HELD}. */
  readonly entryOwner: Int32Array;
  /** Pool frame index installed per entry, -1 if none. The authoritative translation. */
  readonly entryFrame: Int32Array;
  readonly pinnedSince: Float64Array;
  readonly leaseEnd: Float64Array;
  /** The frames this cache entered in its driver's IOMMU domain, or null without an IOMMU. */
  readonly iommu: IommuEntries | null;
  disabled: boolean;
}

const DEFAULT_QUOTA: PinQuota = { maxPinnedPages: 1024, maxPinCycles: 2_660_000_000 };

/** The anonymous-memory dataspace manager; run {@link AnonymousManager.body} as a thread. */
export class AnonymousManager {
  /** The thread body: pass it to the engine's `createThread`. */
  readonly body: ThreadBody;
  private readonly pool: FramePool;
  private readonly frames: FrameAllocator;
  private readonly policy: PinPolicy;
  private readonly quota: PinQuota;
  private readonly driverQuotas: ReadonlyMap<ThreadId, PinQuota>;
  private readonly leaseCycles: Cycles;
  private readonly refillPolicy: RefillPolicy;
  private readonly scanInterval: Cycles;
  private readonly maxCacheEntries: number;
  private readonly onDriverDisabled?: (driverId: ThreadId) => void;
  private readonly memorySource: ThreadId | undefined;
  private readonly supervisor: ThreadId | undefined;
  /** With a memory source: the region backing each pool frame (index into `backings`), or -1. */
  private readonly backedBy: Int32Array;
  private readonly backings: BackingRegion[] = [];
  private readonly costs: DataspaceCosts;
  /** Table entries holding each frame after its dataspace closed. */
  private readonly holds: Uint16Array;
  /** 1 for frames of closed dataspaces waiting for their holds to clear. */
  private readonly orphaned: Uint8Array;
  /** Physical frame number of each pool frame (from `sys.mem.translate`). */
  private readonly frameNumber: Float64Array;
  private readonly dataspaces = new Map<number, DataspaceRecord>();
  private readonly caches = new Map<number, CacheRecord>();
  private readonly iommuDomains = new Map<ThreadId, IommuDomain>();
  private nextDataspaceId = 1;
  private nextCacheId = 1;
  private nextScan: Cycles = 0;
  private heldEntries = 0;
  private published: { -readonly [K in keyof ManagerStats]: ManagerStats[K] } | null = null;
  private memory: Uint8Array | null = null;
  private memoryBuffer: SharedArrayBuffer | null = null;
  private memoryOffset = 0;
  private readonly counters = {
    deferredFrames: 0,
    refills: 0,
    faultsMapped: 0,
    rejected: 0,
    driversDisabled: 0,
    pinsRecovered: 0,
    hookErrors: 0,
    cachesRecovered: 0,
  };

  /** Validate `options`; throws {@link DataspaceError} on a bad pool or policy. */
  constructor(private readonly options: AnonymousManagerOptions) {
    const { pool } = options;
    if (
      !isUint32(pool.vaddr) ||
      !Number.isInteger(pool.bytes) ||
      pool.bytes < PAGE_SIZE ||
      pool.vaddr + pool.bytes > 2 ** 32 ||
      ((pool.vaddr | pool.bytes) & PAGE_MASK) !== 0
    ) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        'frame pool must be page-aligned, at least one page',
      );
    }
    this.pool = pool;
    this.frames = new FrameAllocator(pool.bytes / PAGE_SIZE);
    this.holds = new Uint16Array(this.frames.frames);
    this.orphaned = new Uint8Array(this.frames.frames);
    this.frameNumber = new Float64Array(this.frames.frames);
    this.policy = options.pinPolicy ?? PinPolicy.PIN_BIT;
    this.quota = options.pinQuota ?? DEFAULT_QUOTA;
    this.driverQuotas = options.driverQuotas ?? new Map();
    this.leaseCycles = options.leaseCycles ?? 266_000;
    this.refillPolicy = options.refillPolicy ?? onDemandRefill;
    this.scanInterval = options.scanInterval ?? 26_600;
    this.maxCacheEntries = options.maxCacheEntries ?? 65_536;
    this.onDriverDisabled = options.onDriverDisabled;
    this.memorySource = options.memorySource;
    this.supervisor = options.supervisor;
    this.backedBy = new Int32Array(this.frames.frames).fill(-1);
    this.costs = resolveCosts(options.costs);
    if (!(this.scanInterval > 0) || !(this.leaseCycles > 0)) {
      throw new DataspaceError('DS_BAD_ARGUMENT', 'scanInterval and leaseCycles must be positive');
    }
    this.body = (sys: Sys) => this.run(sys);
  }

  /** The manager's counters (in-process read; other domains use `dsClient.stats`). */
  stats(): ManagerStats {
    return {
      totalFrames: this.frames.frames,
      freeFrames: this.frames.freeFrames,
      dataspaces: this.dataspaces.size,
      deferredFrames: this.counters.deferredFrames,
      refills: this.counters.refills,
      faultsMapped: this.counters.faultsMapped,
      rejected: this.counters.rejected,
      driversDisabled: this.counters.driversDisabled,
      pinsRecovered: this.counters.pinsRecovered,
    };
  }

  private *run(sys: Sys): DataspaceCall<void> {
    if (this.memorySource === undefined) yield* this.attachPool(sys);
    for (const d of this.options.iommu ?? []) yield* this.attachIommu(sys, d);
    const c = this.options.counters;
    if (c) {
      const page = yield* CountersPage.open(sys, c.vaddr);
      this.published = page.bind(c.prefix, this.stats());
      page.ready();
    }
    this.nextScan = sys.now() + this.scanInterval;
    yield* this.serve(sys);
  }

  /** Copy the counters to the counters page (field by field: nothing allocated). */
  private publish(): void {
    const p = this.published;
    if (p === null) return;
    p.freeFrames = this.frames.freeFrames;
    p.dataspaces = this.dataspaces.size;
    p.deferredFrames = this.counters.deferredFrames;
    p.refills = this.counters.refills;
    p.faultsMapped = this.counters.faultsMapped;
    p.rejected = this.counters.rejected;
    p.driversDisabled = this.counters.driversDisabled;
    p.pinsRecovered = this.counters.pinsRecovered;
  }

  /** Single-pool mode: reach the premapped pool and learn each frame's physical address. */
  private *attachPool(sys: Sys): DataspaceCall<void> {
    const view = yield* sys.mem.access(this.pool.vaddr, this.pool.bytes, 'write');
    if (!('bytes' in view)) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `frame pool not accessible at ${this.pool.vaddr}: ${view.error}`,
      );
    }
    for (let f = 0; f < this.frames.frames; f++) {
      const paddr = sys.mem.translate(this.frameVaddr(f));
      if (paddr === null)
        throw new DataspaceError('DS_BAD_ARGUMENT', `frame pool page ${f} is not mapped`);
      this.frameNumber[f] = paddr / PAGE_SIZE;
    }
    this.memory = view.bytes;
    this.memoryBuffer = view.buffer;
    this.memoryOffset = view.byteOffset;
  }

  /** Reach a driver's IOMMU table (formatted by the realiser) and become its writer. */
  private *attachIommu(sys: Sys, d: IommuDomainConfig): DataspaceCall<void> {
    const bytes = IommuTable.bytesFor(d.frames);
    const view = yield* sys.mem.access(d.vaddr, bytes, 'write');
    if (!('bytes' in view)) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `IOMMU table not accessible at ${d.vaddr}: ${view.error}`,
      );
    }
    const table = new IommuTable(view.buffer, view.byteOffset, d.frames);
    this.iommuDomains.set(d.driver, new IommuDomain(table));
  }

  private *serve(sys: Sys): DataspaceCall<void> {
    let to: ThreadId = 0;
    let reply: Message | null = null;
    for (;;) {
      const timeout = this.timeout(sys);
      const r: IpcResult =
        reply === null
          ? yield* sys.ipc.receive(ANY_THREAD, timeout)
          : yield* sys.ipc.replyWait(to, reply, timeout);
      reply = null;
      yield* this.tick(sys);
      this.publish();
      if (!r.ok) continue;
      to = r.from;
      reply = yield* this.handle(sys, r.from, r.msg);
      if (reply.label !== DsStatus.OK) this.counters.rejected++;
      this.publish();
    }
  }

  private timeout(sys: Sys): Cycles {
    const watching =
      this.heldEntries > 0 || (this.policy === PinPolicy.PIN_BIT && this.hasLiveCaches());
    if (!watching) return NEVER;
    return Math.max(1, this.nextScan - sys.now());
  }

  private hasLiveCaches(): boolean {
    for (const c of this.caches.values()) if (!c.disabled && c.segments.size > 0) return true;
    return false;
  }

  private *tick(sys: Sys): DataspaceCall<void> {
    const now = sys.now();
    if (now < this.nextScan) return;
    this.nextScan = now + this.scanInterval;
    for (const cache of [...this.caches.values()]) {
      if (!cache.disabled && this.scan(sys, cache, now)) yield* this.disable(sys, cache);
    }
  }

  /**
   * Check one cache's pins against its quota, and release held entries whose pin or lease
   * ended; true if the cache's driver is over its quota.
   */
  private scan(sys: Sys, cache: CacheRecord, now: Cycles): boolean {
    let pinned = 0;
    let longPinned = 0;
    let examined = 0;
    const { table, entryOwner, pinnedSince } = cache;
    for (let e = 0; e < table.entries; e++) {
      const owner = entryOwner[e]!;
      if (owner === FREE) continue;
      examined++;
      if (this.policy === PinPolicy.TIME) {
        if (owner === HELD && cache.leaseEnd[e]! <= now) this.releaseHeld(cache, e);
        continue;
      }
      if ((table.flags(e) & ENTRY_PIN) !== 0) {
        pinned++;
        if (Number.isNaN(pinnedSince[e]!)) pinnedSince[e] = now;
        else if (now - pinnedSince[e]! > cache.quota.maxPinCycles) longPinned++;
      } else {
        pinnedSince[e] = Number.NaN;
        if (owner === HELD) this.releaseHeld(cache, e);
      }
    }
    sys.charge('Translation', examined * this.costs.pinScanEntry);
    const overTime = longPinned > (cache.quota.maxLongPinnedPages ?? 0);
    return overTime || pinned > cache.quota.maxPinnedPages;
  }

  private *disable(sys: Sys, cache: CacheRecord): DataspaceCall<void> {
    cache.disabled = true;
    cache.table.setState(TABLE_STATE_DISABLED);
    this.counters.driversDisabled++;
    if (this.supervisor !== undefined) {
      // The supervisor replies once the driver's devices are reset: only then are pins recovered.
      const r = yield* sys.ipc.call(this.supervisor, {
        label: DRIVER_DISABLE_LABEL,
        words: [cache.driver],
      });
      if (!r.ok || r.msg.label !== SUPERVISOR_OK) this.counters.hookErrors++;
    }
    try {
      this.onDriverDisabled?.(cache.driver);
    } catch {
      this.counters.hookErrors++;
    }
    this.recoverPins(cache);
  }

  /** Clear every entry of a cache, recovering its pins (the driver's devices are reset). */
  private recoverPins(cache: CacheRecord): number {
    const before = this.counters.pinsRecovered;
    for (let e = 0; e < cache.table.entries; e++) {
      const old = cache.table.clear(e);
      const owner = cache.entryOwner[e]!;
      if (owner === FREE) continue;
      if ((old & ENTRY_PIN) !== 0) this.counters.pinsRecovered++;
      if (owner === HELD) this.releaseHeld(cache, e);
      else {
        cache.entryFrame[e] = -1;
        cache.entryOwner[e] = FREE;
        cache.entryAlloc.release(e);
      }
    }
    // The devices are reset by now: their DMA stopped before the frames leave the domain.
    cache.iommu?.clearAll();
    for (const seg of cache.segments.values()) seg.ds.caches.delete(cache);
    cache.segments.clear();
    return this.counters.pinsRecovered - before;
  }

  /**
   * The supervisor's {@link DRIVER_RECOVER_LABEL}: the driver died and its devices are reset.
   * Recover its pins and drop its caches: each table is unmapped from the driver (every mapping
   * derived from the manager's pages) and its frames go back to the pool.
   */
  private *recover(sys: Sys, from: ThreadId, w: readonly number[]): DataspaceCall<Message> {
    if (this.supervisor === undefined || from !== this.supervisor)
      return status(DsStatus.ACCESS_DENIED);
    if (w.length !== 1) return status(DsStatus.BAD_ARGUMENT);
    let dropped = 0;
    let pins = 0;
    for (const cache of [...this.caches.values()]) {
      if (cache.driver !== w[0]) continue;
      cache.disabled = true;
      cache.table.setState(TABLE_STATE_DISABLED);
      pins += this.recoverPins(cache);
      const bytes = cache.tablePages * PAGE_SIZE;
      yield* sys.mem.unmap({
        base: this.frameVaddr(cache.tableFrame),
        sizeLog2: Math.log2(bytes),
        rights: { read: true, write: true, execute: true },
      });
      this.frames.release(cache.tableFrame, cache.tablePages);
      this.caches.delete(cache.id);
      dropped++;
    }
    this.counters.cachesRecovered += dropped;
    return ok([dropped, pins]);
  }

  private *handle(sys: Sys, from: ThreadId, msg: Message): DataspaceCall<Message> {
    const w = msg.words;
    switch (msg.label) {
      case DsLabel.OPEN:
        return yield* this.open(sys, from, w);
      case DsLabel.CLOSE:
        return yield* this.close(sys, from, w);
      case DsLabel.SHARE:
        return this.share(from, w);
      case DsLabel.MAP:
        return this.map(sys, from, w);
      case DsLabel.UNMAP:
        return yield* this.unmap(sys, from, w);
      case DsLabel.TC_OPEN:
        return yield* this.cacheOpen(sys, from, w);
      case DsLabel.TC_ADD:
        return this.cacheAdd(sys, from, w);
      case DsLabel.TC_REMOVE:
        return this.cacheRemove(sys, from, w);
      case DsLabel.TC_REFILL:
        return this.refill(sys, from, w);
      case DRIVER_RECOVER_LABEL:
        return yield* this.recover(sys, from, w);
      case DsLabel.STAT: {
        const s = this.stats();
        return ok(MANAGER_STATS_FIELDS.map((k) => s[k]));
      }
      default:
        return status(DsStatus.BAD_REQUEST);
    }
  }

  private *open(sys: Sys, from: ThreadId, w: readonly number[]): DataspaceCall<Message> {
    const size = w[0];
    if (w.length !== 1 || size === undefined || !isUint32(size) || size === 0)
      return status(DsStatus.BAD_ARGUMENT);
    const pages = Math.ceil(size / PAGE_SIZE);
    const first = yield* this.claimDataspaceFrames(sys, pages);
    if (first < 0) return status(DsStatus.NO_MEMORY);
    // Anonymous memory starts zeroed: frames come back from closed dataspaces.
    this.bytesOf(first, pages).fill(0);
    const id = this.nextDataspaceId++;
    this.dataspaces.set(id, {
      id,
      owner: from,
      firstFrame: first,
      pages,
      acl: new Map([[from, DS_RIGHTS_ALL]]),
      caches: new Set(),
    });
    return ok([id, pages * PAGE_SIZE, pages]);
  }

  private *close(sys: Sys, from: ThreadId, w: readonly number[]): DataspaceCall<Message> {
    const ds = this.owned(from, w[0]);
    if (typeof ds === 'number') return status(ds);
    this.dataspaces.delete(ds.id);
    yield* revokeMappings(sys, this.frameVaddr(ds.firstFrame), ds.pages);
    for (const cache of [...ds.caches]) this.removeSegment(sys, cache, ds);
    for (let f = ds.firstFrame; f < ds.firstFrame + ds.pages; f++) {
      if (this.holds[f] === 0) this.releaseFrame(f);
      else {
        this.orphaned[f] = 1;
        this.counters.deferredFrames++;
      }
    }
    return ok([]);
  }

  private share(from: ThreadId, w: readonly number[]): Message {
    const ds = this.owned(from, w[0]);
    if (typeof ds === 'number') return status(ds);
    const thread = w[1];
    const rights = w[2];
    if (
      w.length !== 3 ||
      thread === undefined ||
      rights === undefined ||
      !Number.isInteger(thread) ||
      thread <= 0 ||
      !Number.isInteger(rights) ||
      (rights & ~DS_RIGHTS_ALL) !== 0 ||
      rights < 0
    ) {
      return status(DsStatus.BAD_ARGUMENT);
    }
    if (rights === 0) ds.acl.delete(thread);
    else ds.acl.set(thread, rights);
    return ok([]);
  }

  private map(sys: Sys, from: ThreadId, w: readonly number[]): Message {
    const [id, offset, access, vaddr] = w;
    if (w.length !== 4 || offset === undefined || access === undefined || vaddr === undefined) {
      return status(DsStatus.BAD_ARGUMENT);
    }
    const ds = id === undefined ? undefined : this.dataspaces.get(id);
    if (ds === undefined) return status(DsStatus.NO_SUCH_DATASPACE);
    const rights = ds.acl.get(from) ?? 0;
    const write = access === DS_ACCESS_WRITE;
    if ((rights & DS_RIGHT_READ) === 0 || (write && (rights & DS_RIGHT_WRITE) === 0)) {
      return status(DsStatus.ACCESS_DENIED);
    }
    if (
      !isUint32(offset) ||
      offset >= ds.pages * PAGE_SIZE ||
      !isUint32(vaddr) ||
      (vaddr & PAGE_MASK) !== 0
    ) {
      return status(DsStatus.BAD_ARGUMENT);
    }
    sys.charge('User', this.costs.faultManager);
    this.counters.faultsMapped++;
    const fpage: Fpage = {
      base: this.frameVaddr(ds.firstFrame + (offset >>> PAGE_SHIFT)),
      sizeLog2: PAGE_SHIFT,
      rights: { read: true, write: (rights & DS_RIGHT_WRITE) !== 0, execute: false },
    };
    return { label: DsStatus.OK, words: [], items: [{ kind: 'map', fpage, sendBase: vaddr }] };
  }

  private *unmap(sys: Sys, from: ThreadId, w: readonly number[]): DataspaceCall<Message> {
    const ds = this.owned(from, w[0]);
    if (typeof ds === 'number') return status(ds);
    const offset = w[1];
    const length = w[2];
    if (
      w.length !== 3 ||
      offset === undefined ||
      length === undefined ||
      !isUint32(offset) ||
      !isUint32(length) ||
      length === 0 ||
      offset + length > ds.pages * PAGE_SIZE
    ) {
      return status(DsStatus.BAD_ARGUMENT);
    }
    const firstPage = offset >>> PAGE_SHIFT;
    const pages = Math.ceil((offset + length) / PAGE_SIZE) - firstPage;
    yield* revokeMappings(sys, this.frameVaddr(ds.firstFrame + firstPage), pages);
    for (const cache of ds.caches) {
      const seg = cache.segments.get(ds.id)!;
      for (let p = firstPage; p < firstPage + pages; p++) {
        // The frame stays with the dataspace, so a pinned page needs no deferral here.
        cache.table.revoke(seg.first + p);
        cache.entryFrame[seg.first + p] = -1;
        cache.iommu?.clear(seg.first + p);
      }
    }
    return ok([pages]);
  }

  private *cacheOpen(sys: Sys, from: ThreadId, w: readonly number[]): DataspaceCall<Message> {
    const [vaddr, requested] = w;
    if (
      w.length !== 2 ||
      vaddr === undefined ||
      requested === undefined ||
      !isUint32(vaddr) ||
      !Number.isInteger(requested) ||
      requested <= 0 ||
      requested > this.maxCacheEntries
    ) {
      return status(DsStatus.BAD_ARGUMENT);
    }
    let pages = 1;
    while (pages * PAGE_SIZE < TranslationTable.bytesFor(requested)) pages *= 2;
    const bytes = pages * PAGE_SIZE;
    // A map item carries an fpage: a naturally aligned power of two on both sides.
    if (vaddr % bytes !== 0) return status(DsStatus.BAD_ARGUMENT);
    const first = yield* this.claimTableFrames(sys, pages);
    if (first < 0) return status(DsStatus.NO_MEMORY);
    this.bytesOf(first, pages).fill(0);
    const entries = TranslationTable.entriesFor(bytes);
    const at = this.bufferOf(first);
    const table = new TranslationTable(at.buffer, at.byteOffset, entries);
    table.format(this.policy);
    const id = this.nextCacheId++;
    this.caches.set(id, {
      id,
      driver: from,
      tableFrame: first,
      tablePages: pages,
      table,
      quota: this.driverQuotas.get(from) ?? this.quota,
      segments: new Map(),
      entryAlloc: new FrameAllocator(entries),
      entryOwner: new Int32Array(entries),
      entryFrame: new Int32Array(entries).fill(-1),
      pinnedSince: new Float64Array(entries).fill(Number.NaN),
      leaseEnd: new Float64Array(entries),
      iommu: this.iommuDomains.get(from)?.entries(entries) ?? null,
      disabled: false,
    });
    const fpage: Fpage = {
      base: this.frameVaddr(first),
      sizeLog2: Math.log2(bytes),
      rights: { read: true, write: true, execute: false },
    };
    return {
      label: DsStatus.OK,
      words: [id, entries, TranslationTable.bytesFor(entries), this.policy],
      items: [{ kind: 'map', fpage, sendBase: vaddr }],
    };
  }

  private cacheOf(from: ThreadId, id: number | undefined): CacheRecord | DsStatus {
    const cache = id === undefined ? undefined : this.caches.get(id);
    if (cache === undefined) return DsStatus.NOT_IN_CACHE;
    if (cache.driver !== from) return DsStatus.ACCESS_DENIED;
    if (cache.disabled) return DsStatus.DRIVER_DISABLED;
    return cache;
  }

  private cacheAdd(sys: Sys, from: ThreadId, w: readonly number[]): Message {
    if (w.length !== 2) return status(DsStatus.BAD_ARGUMENT);
    const cache = this.cacheOf(from, w[0]);
    if (typeof cache === 'number') return status(cache);
    const ds = this.dataspaces.get(w[1]!);
    if (ds === undefined) return status(DsStatus.NO_SUCH_DATASPACE);
    const rights = ds.acl.get(from) ?? 0;
    if ((rights & DS_RIGHT_TRANSLATE) === 0) return status(DsStatus.ACCESS_DENIED);
    if (cache.segments.has(ds.id)) return status(DsStatus.DUPLICATE);
    const first =
      ds.pages <= cache.entryAlloc.freeFrames ? cache.entryAlloc.allocate(ds.pages) : -1;
    if (first < 0) return status(DsStatus.NO_MEMORY);
    const writable = (rights & DS_RIGHT_WRITE) !== 0;
    cache.entryOwner.fill(ds.id, first, first + ds.pages);
    for (let e = first; e < first + ds.pages; e++) cache.table.clear(e);
    const seg: Segment = { ds, first, writable };
    cache.segments.set(ds.id, seg);
    ds.caches.add(cache);
    const prefill = Math.min(ds.pages, Math.max(0, Math.floor(this.refillPolicy.onAdd(ds.pages))));
    for (let p = 0; p < prefill; p++) this.install(sys, cache, seg, p);
    return ok([first, ds.pages, ds.pages * PAGE_SIZE, writable ? 1 : 0]);
  }

  private cacheRemove(sys: Sys, from: ThreadId, w: readonly number[]): Message {
    if (w.length !== 2) return status(DsStatus.BAD_ARGUMENT);
    const cache = this.cacheOf(from, w[0]);
    if (typeof cache === 'number') return status(cache);
    const seg = cache.segments.get(w[1]!);
    if (seg === undefined) return status(DsStatus.NOT_IN_CACHE);
    this.removeSegment(sys, cache, seg.ds);
    return ok([]);
  }

  private refill(sys: Sys, from: ThreadId, w: readonly number[]): Message {
    if (w.length !== 3) return status(DsStatus.BAD_ARGUMENT);
    const cache = this.cacheOf(from, w[0]);
    if (typeof cache === 'number') return status(cache);
    const seg = cache.segments.get(w[1]!);
    if (seg === undefined)
      return status(
        this.dataspaces.has(w[1]!) ? DsStatus.NOT_IN_CACHE : DsStatus.NO_SUCH_DATASPACE,
      );
    const page = w[2]!;
    if (!Number.isInteger(page) || page < 0 || page >= seg.ds.pages)
      return status(DsStatus.BAD_ARGUMENT);
    const n = Math.min(
      seg.ds.pages - page,
      Math.max(1, Math.floor(this.refillPolicy.onMiss(page, seg.ds.pages))),
    );
    for (let p = page; p < page + n; p++) this.install(sys, cache, seg, p);
    this.counters.refills++;
    return ok([n]);
  }

  private install(sys: Sys, cache: CacheRecord, seg: Segment, page: number): void {
    const e = seg.first + page;
    const frame = seg.ds.firstFrame + page;
    const lease =
      this.policy === PinPolicy.TIME ? sys.now() + this.leaseCycles : Number.POSITIVE_INFINITY;
    cache.entryFrame[e] = frame;
    cache.leaseEnd[e] = lease;
    cache.table.install(e, this.frameNumber[frame]!, lease, seg.writable);
    cache.iommu?.set(e, this.frameNumber[frame]!, seg.writable);
    sys.charge('Translation', this.costs.refillManager);
  }

  /** Take a dataspace out of a cache: revoke its entries; a pinned or leased frame stays held. */
  private removeSegment(sys: Sys, cache: CacheRecord, ds: DataspaceRecord): void {
    const seg = cache.segments.get(ds.id);
    if (seg === undefined) return;
    cache.segments.delete(ds.id);
    ds.caches.delete(cache);
    const now = sys.now();
    for (let e = seg.first; e < seg.first + ds.pages; e++) {
      const frame = cache.entryFrame[e]!;
      const old = cache.table.revoke(e);
      const held =
        frame >= 0 &&
        (this.policy === PinPolicy.TIME ? cache.leaseEnd[e]! > now : (old & ENTRY_PIN) !== 0);
      if (held) {
        cache.entryOwner[e] = HELD;
        this.holds[frame]!++;
        this.heldEntries++;
      } else {
        cache.table.clear(e);
        cache.entryFrame[e] = -1;
        cache.iommu?.clear(e);
        cache.entryOwner[e] = FREE;
        cache.entryAlloc.release(e);
      }
    }
  }

  private releaseHeld(cache: CacheRecord, e: number): void {
    const frame = cache.entryFrame[e]!;
    cache.table.clear(e);
    cache.entryFrame[e] = -1;
    cache.iommu?.clear(e);
    cache.entryOwner[e] = FREE;
    cache.pinnedSince[e] = Number.NaN;
    cache.entryAlloc.release(e);
    this.heldEntries--;
    if (--this.holds[frame]! === 0 && this.orphaned[frame] === 1) {
      this.orphaned[frame] = 0;
      this.counters.deferredFrames--;
      this.releaseFrame(frame);
    }
  }

  private owned(from: ThreadId, id: number | undefined): DataspaceRecord | DsStatus {
    const ds = id === undefined ? undefined : this.dataspaces.get(id);
    if (ds === undefined) return DsStatus.NO_SUCH_DATASPACE;
    if (ds.owner !== from) return DsStatus.ACCESS_DENIED;
    return ds;
  }

  // Frame sources (issue 11 item 3). Every dataspace and every translation table gets its frames
  // here and gives them back through releaseFrame, and the manager reaches their bytes only
  // through bytesOf/bufferOf. With a memory source each claim is backed by a region of its own.

  /** Frames of a new dataspace: `pages` contiguous frames of the window, or -1. */
  private *claimDataspaceFrames(sys: Sys, pages: number): DataspaceCall<number> {
    const first = pages <= this.frames.freeFrames ? this.frames.allocate(pages) : -1;
    return yield* this.backed(sys, first, pages);
  }

  /** Frames of a new translation table: naturally aligned (it is mapped as one fpage), or -1. */
  private *claimTableFrames(sys: Sys, pages: number): DataspaceCall<number> {
    return yield* this.backed(sys, this.allocateAligned(pages), pages);
  }

  /**
   * Make sure the run `[first, first + pages)` is backed by memory: in single-pool mode it always
   * is; with a memory source, by a region that covers exactly this run (reused if the run's
   * previous owner had the same extent, else requested anew and mapped over the window's old
   * pages; an old region stays with the manager, as regions are never recycled into other
   * domains). Returns `first`, or -1 (frames given back) if the source has no memory.
   */
  private *backed(sys: Sys, first: number, pages: number): DataspaceCall<number> {
    if (first < 0 || this.memorySource === undefined) return first;
    const current = this.backings[this.backedBy[first]!];
    if (current !== undefined && current.firstFrame === first && current.pages === pages)
      return first;
    const vaddr = this.frameVaddr(first);
    const bytes = pages * PAGE_SIZE;
    const paddr = yield* requestRegion(sys, this.memorySource, vaddr, bytes);
    const view = paddr < 0 ? null : yield* sys.mem.access(vaddr, bytes, 'write');
    if (view === null || !('bytes' in view)) {
      this.frames.release(first, pages);
      return -1;
    }
    this.backedBy.fill(this.backings.length, first, first + pages);
    this.backings.push({
      firstFrame: first,
      pages,
      bytes: view.bytes,
      buffer: view.buffer,
      byteOffset: view.byteOffset,
    });
    for (let p = 0; p < pages; p++) this.frameNumber[first + p] = paddr / PAGE_SIZE + p;
    return first;
  }

  /** Give one frame back (its dataspace closed and nothing holds it, or its last hold cleared). */
  private releaseFrame(frame: number): void {
    this.frames.release(frame);
  }

  /** The bytes of the claimed run `[first, first + pages)`. */
  private bytesOf(first: number, pages: number): Uint8Array {
    if (this.memorySource === undefined)
      return this.memory!.subarray(first * PAGE_SIZE, (first + pages) * PAGE_SIZE);
    const b = this.backings[this.backedBy[first]!]!;
    const at = (first - b.firstFrame) * PAGE_SIZE;
    return b.bytes.subarray(at, at + pages * PAGE_SIZE);
  }

  /** The buffer holding the claimed run starting at `first`, and the run's offset in it. */
  private bufferOf(first: number): { buffer: SharedArrayBuffer; byteOffset: number } {
    if (this.memorySource === undefined)
      return { buffer: this.memoryBuffer!, byteOffset: this.memoryOffset + first * PAGE_SIZE };
    const b = this.backings[this.backedBy[first]!]!;
    return { buffer: b.buffer, byteOffset: b.byteOffset + (first - b.firstFrame) * PAGE_SIZE };
  }

  private allocateAligned(pages: number): number {
    // Natural alignment in the manager's space: pool.vaddr + first * PAGE_SIZE must be a
    // multiple of the table size, so the run's phase compensates for the pool's own offset.
    const base = this.pool.vaddr / PAGE_SIZE;
    const phase = (pages - (base % pages)) % pages;
    return this.frames.allocate(pages, pages, phase);
  }

  private frameVaddr(frame: number): number {
    return this.pool.vaddr + frame * PAGE_SIZE;
  }
}

function ok(words: readonly number[]): Message {
  return { label: DsStatus.OK, words };
}

function status(s: DsStatus): Message {
  return { label: s, words: [] };
}

/** Create an anonymous-memory manager and return its thread body. */
export function anonymousManager(options: AnonymousManagerOptions): ThreadBody {
  return new AnonymousManager(options).body;
}

/**
 * Plain configuration of {@link dataspaceManagerServer}: the manager's options that survive
 * structured clone (no policy objects, no callbacks), so a realiser can name the manager as a
 * plain-data component reference.
 */
export interface DataspaceManagerServerConfig {
  /** The manager's frame window in its space. */
  readonly pool: FramePool;
  /** The memory source (root task) giving one region per dataspace and translation table. */
  readonly memorySource: ThreadId;
  /** The device supervisor that disables a driver over its pin quota. */
  readonly supervisor: ThreadId;
  /** The domain's counters page and the manager's prefix. */
  readonly counters: { readonly vaddr: number; readonly prefix: string };
  /** Cycles between pin scans. */
  readonly scanInterval: Cycles;
  /** The pin quota every driver gets. */
  readonly pinQuota: PinQuota;
  /** Per-operation costs (calibrated by the realiser). */
  readonly costs: Partial<DataspaceCosts>;
  /** IOMMU tables of the drivers whose devices are behind an IOMMU (none if absent). */
  readonly iommu?: readonly IommuDomainConfig[];
}

/** The dataspace manager as a component factory: its thread body from plain configuration. */
export function dataspaceManagerServer(config: DataspaceManagerServerConfig): ThreadBody {
  return anonymousManager({
    pool: { ...config.pool },
    memorySource: config.memorySource,
    supervisor: config.supervisor,
    counters: config.counters,
    scanInterval: config.scanInterval,
    pinQuota: config.pinQuota,
    costs: config.costs,
    ...(config.iommu ? { iommu: config.iommu } : {}),
  });
}
