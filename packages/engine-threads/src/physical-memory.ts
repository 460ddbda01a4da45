/**
 * Physical memory as the device worker sees it: the regions the engine created, each its own
 * `SharedArrayBuffer` at a page-aligned physical address, resolved through a frame table
 * (frame number → region). DMA copies never straddle two regions; descriptor words are read
 * and published with `Atomics` (sequentially consistent), as `@udf/l4-kernel`'s
 * `PhysicalMemory` contract asks. Bad addresses from a guest are refused (`false` or a
 * `RangeError` the device model catches and counts), never resolved into another region.
 *
 * @module
 */
import type { PhysicalMemory } from '@udf/l4-kernel';
import { ThreadsEngineError } from './errors.js';

/** Bytes per frame. */
export const FRAME_BYTES = 4096;

/** A region of physical memory: plain data, sent to the device worker. */
export interface PhysicalRegion {
  /** Physical address of its first byte (frame-aligned, never 0). */
  readonly paddr: number;
  /** The memory (a whole number of frames). */
  readonly buffer: SharedArrayBuffer;
}

interface Resolved {
  readonly region: PhysicalRegion;
  /** Physical address just past the region (kept: reading a buffer's length is a call). */
  readonly end: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly i32: Int32Array;
}

/** Entries of each view cache of {@link SharedPhysicalMemory} (a power of two). */
const VIEW_CACHE = 512;

/**
 * A direct-mapped cache of byte views (`subarray`s): DMA moves the same buffers over and over
 * (descriptor rings recycle them, bursts fall at the same offsets), so the views its copies need
 * are made once and then found again, and a copy allocates nothing.
 */
class ViewCache {
  private readonly views: (Uint8Array | undefined)[] = new Array(VIEW_CACHE);
  // the key of each entry, compared without reading a view's `buffer`/`byteOffset` getters
  private readonly sources: (Uint8Array | undefined)[] = new Array(VIEW_CACHE);
  private readonly offsets = new Float64Array(VIEW_CACHE);
  private readonly lengths = new Int32Array(VIEW_CACHE);

  /** A view of `length` bytes of `bytes` from `offset` (in range: the caller checked). */
  get(bytes: Uint8Array, offset: number, length: number): Uint8Array {
    // every bit of offset and length mixed in: buffers a power of two apart do not collide
    const h = Math.imul(offset ^ Math.imul(length, 0x9e3779b1), 0x85ebca6b);
    const i = (h ^ (h >>> 15)) & (VIEW_CACHE - 1);
    if (this.sources[i] === bytes && this.offsets[i] === offset && this.lengths[i] === length) {
      return this.views[i]!;
    }
    const w = bytes.subarray(offset, offset + length);
    this.views[i] = w;
    this.sources[i] = bytes;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    return w;
  }
}

/** {@link PhysicalMemory} over a set of regions with a frame table. */
export class SharedPhysicalMemory implements PhysicalMemory {
  /** End of the highest region (the physical address space that exists). */
  size = FRAME_BYTES;
  private frameTable: Int32Array = new Int32Array(1).fill(-1);
  private readonly regions: Resolved[] = [];
  private readonly refresh: (() => boolean) | null;
  private readonly memoryViews = new ViewCache();
  private readonly callerViews = new ViewCache();

  /**
   * @param regions - non-overlapping, frame-aligned regions
   * @param refresh - asked when an address resolves to no region: it may add regions created
   *   since (with {@link SharedPhysicalMemory.addRegion}) and returns whether it did, so the
   *   lookup is tried once more (the device worker takes run-time regions this way)
   * @throws {@link ThreadsEngineError} `CONFIG` for a misaligned or overlapping region
   */
  constructor(regions: readonly PhysicalRegion[], refresh?: () => boolean) {
    this.refresh = refresh ?? null;
    for (const r of regions) this.addRegion(r);
  }

  /**
   * Add a region to the frame table.
   *
   * @throws {@link ThreadsEngineError} `CONFIG` for a misaligned or overlapping region
   */
  addRegion(region: PhysicalRegion): void {
    const r = region;
    if (r.paddr % FRAME_BYTES !== 0 || r.paddr <= 0 || r.buffer.byteLength % FRAME_BYTES !== 0) {
      throw new ThreadsEngineError('CONFIG', `region at ${r.paddr} is not frame-aligned`);
    }
    const end = r.paddr + r.buffer.byteLength;
    if (end > this.size) {
      const table = new Int32Array(end / FRAME_BYTES).fill(-1);
      table.set(this.frameTable);
      this.frameTable = table;
      this.size = end;
    }
    const first = r.paddr / FRAME_BYTES;
    const last = first + r.buffer.byteLength / FRAME_BYTES;
    for (let f = first; f < last; f++) {
      if (this.frameTable[f] !== -1) {
        throw new ThreadsEngineError('CONFIG', `regions overlap at frame ${f}`);
      }
    }
    const i = this.regions.length;
    for (let f = first; f < last; f++) this.frameTable[f] = i;
    this.regions.push({
      region,
      end,
      u8: new Uint8Array(region.buffer),
      dv: new DataView(region.buffer),
      i32: new Int32Array(region.buffer, 0, region.buffer.byteLength >> 2),
    });
  }

  /**
   * Regions are made by the engine on the main thread (`ThreadsEngine.createRegion`) and
   * handed to the workers that may hold them; a device cannot make one: always throws.
   */
  allocateRegion(): never {
    throw new ThreadsEngineError('STATE', 'regions are created by the engine (createRegion)');
  }

  /** The region holding all of `[paddr, paddr + length)`, or null. */
  private resolve(paddr: number, length: number): Resolved | null {
    const r = this.lookup(paddr, length);
    if (r !== null || this.refresh === null || !this.refresh()) return r;
    return this.lookup(paddr, length);
  }

  private lookup(paddr: number, length: number): Resolved | null {
    if (!Number.isInteger(paddr) || paddr < 0 || length < 0 || paddr + length > this.size) {
      return null;
    }
    const i = this.frameTable[Math.floor(paddr / FRAME_BYTES)]!;
    if (i < 0) return null;
    const r = this.regions[i]!;
    return paddr + length <= r.end ? r : null;
  }

  /** True if one region backs every byte of the range (ranges over two adjacent regions are refused too). */
  contains(paddr: number, length: number): boolean {
    return this.resolve(paddr, length) !== null;
  }

  /** Little-endian 32-bit read; `RangeError` outside memory. */
  read32(paddr: number): number {
    const r = this.resolve(paddr, 4);
    if (r === null) throw new RangeError(`physical address ${paddr} not backed`);
    return r.dv.getUint32(paddr - r.region.paddr, true);
  }

  /** Little-endian 32-bit write; `RangeError` outside memory. */
  write32(paddr: number, value: number): void {
    const r = this.resolve(paddr, 4);
    if (r === null) throw new RangeError(`physical address ${paddr} not backed`);
    r.dv.setUint32(paddr - r.region.paddr, value >>> 0, true);
  }

  /** Atomic load of an aligned word; `RangeError` unaligned or outside memory. */
  load32(paddr: number): number {
    const r = this.resolve(paddr, 4);
    if (r === null || paddr % 4 !== 0) throw new RangeError(`bad descriptor word ${paddr}`);
    return Atomics.load(r.i32, (paddr - r.region.paddr) >> 2) >>> 0;
  }

  /** Atomic store of an aligned word; `RangeError` unaligned or outside memory. */
  store32(paddr: number, value: number): void {
    const r = this.resolve(paddr, 4);
    if (r === null || paddr % 4 !== 0) throw new RangeError(`bad descriptor word ${paddr}`);
    Atomics.store(r.i32, (paddr - r.region.paddr) >> 2, value | 0);
  }

  /** Copy `src` into memory at `paddr`; false (nothing copied) unless inside one region. */
  copyIn(paddr: number, src: Uint8Array): boolean {
    const r = this.resolve(paddr, src.length);
    if (r === null) return false;
    r.u8.set(src, paddr - r.region.paddr);
    return true;
  }

  /** Fill `dst` from memory at `paddr`; false (nothing copied) unless inside one region. */
  copyOut(paddr: number, dst: Uint8Array): boolean {
    const r = this.resolve(paddr, dst.length);
    if (r === null) return false;
    const o = paddr - r.region.paddr;
    dst.set(r.u8.subarray(o, o + dst.length));
    return true;
  }

  /**
   * Copy `length` bytes of `src` from `srcOffset` into memory at `paddr`, allocating nothing
   * once the views involved have been seen (the device's DMA path); false (nothing copied)
   * unless inside one region. A range outside `src` is a `RangeError`.
   */
  copyInRange(paddr: number, src: Uint8Array, srcOffset: number, length: number): boolean {
    if (srcOffset < 0 || length < 0 || srcOffset + length > src.length) {
      throw new RangeError(`source range ${srcOffset}+${length} outside ${src.length} bytes`);
    }
    const r = this.resolve(paddr, length);
    if (r === null) return false;
    r.u8.set(this.callerViews.get(src, srcOffset, length), paddr - r.region.paddr);
    return true;
  }

  /**
   * Copy `length` bytes of memory at `paddr` into `dst` at `dstOffset`, allocating nothing once
   * the views involved have been seen; false (nothing copied) unless inside one region. A range
   * outside `dst` is a `RangeError`.
   */
  copyOutRange(paddr: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    if (dstOffset < 0 || length < 0 || dstOffset + length > dst.length) {
      throw new RangeError(`destination range ${dstOffset}+${length} outside ${dst.length} bytes`);
    }
    const r = this.resolve(paddr, length);
    if (r === null) return false;
    dst.set(this.memoryViews.get(r.u8, paddr - r.region.paddr, length), dstOffset);
    return true;
  }
}
