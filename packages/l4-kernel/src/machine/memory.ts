/**
 * Physical memory of the simulated machine: 4 KiB frames grouped into **regions**. A frame table
 * maps every frame to the region that backs it; a physical address resolves to (region, offset).
 *
 * Every allocation ({@link RegionMemory.allocate}, {@link RegionMemory.allocateRegion}) creates a
 * new region. Two backing layouts exist:
 *
 * - `'separate'`: each region is its own `SharedArrayBuffer` — what the threads engine needs, since
 *   a worker can hold only whole buffers and must not see memory it was not given. Frames that no
 *   region backs do not exist.
 * - `'shared'`: all regions are windows on one buffer, and frames no allocation covers belong to
 *   the implicit region 0 (the unallocated rest of memory).
 *
 * Either way, a {@link MemoryRegion} is the unit of sharing: a `MemoryView` covers one region and
 * block copies never cross a region boundary.
 *
 * @module
 */
import { KernelError } from '../errors.js';
import type { MemoryRegion, PhysicalMemory } from './device-host.js';

/** Size of a page frame in bytes. */
export const PAGE_SIZE = 4096;
/** log2 of {@link PAGE_SIZE}. */
export const PAGE_SHIFT = 12;

/** How regions are backed by `SharedArrayBuffer`s; see the module documentation. */
export type MemoryLayout = 'shared' | 'separate';

/** A region plus the typed views the memory uses to reach it. */
interface Backing extends MemoryRegion {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly i32: Int32Array;
}

function backing(
  id: number,
  paddr: number,
  size: number,
  buffer: SharedArrayBuffer,
  byteOffset: number,
  shared: { u8: Uint8Array; dv: DataView; i32: Int32Array } | null,
): Backing {
  const views = shared ?? {
    u8: new Uint8Array(buffer),
    dv: new DataView(buffer),
    i32: new Int32Array(buffer),
  };
  return { id, paddr, size, buffer, byteOffset, ...views };
}

/**
 * Physical memory as regions with a frame table. Frame 0 is reserved (never allocated) so that
 * physical address 0 can serve as "null" in descriptor rings.
 */
export class RegionMemory implements PhysicalMemory {
  /** Size in bytes (a multiple of {@link PAGE_SIZE}). */
  readonly size: number;
  /** How regions are backed. */
  readonly layout: MemoryLayout;
  /** Frame number → index into the region list (-1: no region backs the frame). */
  private readonly frameTable: Int32Array;
  private readonly regionList: Backing[] = [];
  private readonly flat: { u8: Uint8Array; dv: DataView; i32: Int32Array } | null;
  private nextFree = PAGE_SIZE;

  /**
   * @param bytes - memory size; rounded up to whole frames
   * @param layout - region backing, default `'shared'`
   * @throws KernelError `CONFIG` for a size outside [8 KiB, 2 GiB] or an unknown layout
   */
  constructor(bytes: number, layout: MemoryLayout = 'shared') {
    if (!Number.isFinite(bytes) || bytes < 2 * PAGE_SIZE || bytes > 2 ** 31) {
      throw new KernelError('CONFIG', `memoryBytes must be in [8 KiB, 2 GiB], got ${bytes}`);
    }
    if (layout !== 'shared' && layout !== 'separate') {
      throw new KernelError('CONFIG', `memory layout must be 'shared' or 'separate'`);
    }
    this.size = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    this.layout = layout;
    this.frameTable = new Int32Array(this.size / PAGE_SIZE).fill(-1);
    if (layout === 'shared') {
      const buffer = new SharedArrayBuffer(this.size);
      this.flat = {
        u8: new Uint8Array(buffer),
        dv: new DataView(buffer),
        i32: new Int32Array(buffer),
      };
      this.regionList.push(backing(0, 0, this.size, buffer, 0, this.flat));
      this.frameTable.fill(0);
    } else {
      this.flat = null;
    }
  }

  /** Number of frames. */
  get frames(): number {
    return this.size / PAGE_SIZE;
  }

  /** Bytes not yet handed out by {@link RegionMemory.allocate}. */
  get freeBytes(): number {
    return this.size - this.nextFree;
  }

  /** Every region allocated so far (and, in the `'shared'` layout, region 0 first). */
  get regions(): readonly MemoryRegion[] {
    return this.regionList;
  }

  /** The region backing the frame of `paddr`, or undefined. */
  regionOf(paddr: number): MemoryRegion | undefined {
    return this.backingAt(paddr);
  }

  /**
   * The region that backs all of `[paddr, paddr + length)`, or null if the range is outside
   * memory, partly unbacked or spans two regions.
   */
  regionOfRange(paddr: number, length: number): MemoryRegion | null {
    return this.span(paddr, length);
  }

  /** True if every byte of `[paddr, paddr + length)` is backed by some region. */
  contains(paddr: number, length: number): boolean {
    if (
      !Number.isInteger(paddr) ||
      !Number.isInteger(length) ||
      paddr < 0 ||
      length < 0 ||
      paddr + length > this.size
    ) {
      return false;
    }
    if (this.flat !== null || length === 0) return true;
    const last = (paddr + length - 1) >>> PAGE_SHIFT;
    for (let f = paddr >>> PAGE_SHIFT; f <= last; f++) if (this.frameTable[f]! < 0) return false;
    return true;
  }

  /** Little-endian 32-bit read; throws `RangeError` outside backed memory. */
  read32(paddr: number): number {
    const b = this.backingAt(paddr);
    if (b === undefined) throw new RangeError(`physical address ${paddr} is not backed`);
    return b.dv.getUint32(paddr - b.paddr + b.byteOffset, true);
  }

  /** Little-endian 32-bit write; throws `RangeError` outside backed memory. */
  write32(paddr: number, value: number): void {
    const b = this.backingAt(paddr);
    if (b === undefined) throw new RangeError(`physical address ${paddr} is not backed`);
    b.dv.setUint32(paddr - b.paddr + b.byteOffset, value >>> 0, true);
  }

  /**
   * Atomic (sequentially consistent) 32-bit read of an aligned word, as an unsigned number.
   * Uses the host's byte order, little-endian on every platform Node runs on.
   * @throws RangeError outside backed memory or unaligned
   */
  load32(paddr: number): number {
    const b = this.wordBacking(paddr);
    return Atomics.load(b.i32, (paddr - b.paddr + b.byteOffset) >>> 2) >>> 0;
  }

  /**
   * Atomic (sequentially consistent) 32-bit write of an aligned word: publish a descriptor's
   * ownership word last with it.
   * @throws RangeError outside backed memory or unaligned
   */
  store32(paddr: number, value: number): void {
    const b = this.wordBacking(paddr);
    Atomics.store(b.i32, (paddr - b.paddr + b.byteOffset) >>> 2, value | 0);
  }

  /**
   * Copy `src` into memory at `paddr`. Returns false (copying nothing) if the destination is not
   * inside one region; a device counts that as a DMA error.
   */
  copyIn(paddr: number, src: Uint8Array): boolean {
    const b = this.span(paddr, src.length);
    if (b === null) return false;
    b.u8.set(src, paddr - b.paddr + b.byteOffset);
    return true;
  }

  /**
   * Fill `dst` from memory at `paddr`. Returns false (copying nothing) if the source is not
   * inside one region.
   */
  copyOut(paddr: number, dst: Uint8Array): boolean {
    const b = this.span(paddr, dst.length);
    if (b === null) return false;
    const at = paddr - b.paddr + b.byteOffset;
    dst.set(b.u8.subarray(at, at + dst.length));
    return true;
  }

  /**
   * Allocate a new region of physically contiguous frames for `bytes` (rounded up to whole
   * frames), aligned to `align` bytes (a power of two, at least a page).
   * @throws KernelError `OUT_OF_MEMORY` when memory is exhausted, `CONFIG` on a bad size or alignment
   */
  allocateRegion(bytes: number, align = PAGE_SIZE): { paddr: number; region: MemoryRegion } {
    if (!Number.isInteger(bytes) || bytes <= 0) {
      throw new KernelError('CONFIG', `allocation size must be a positive integer, got ${bytes}`);
    }
    if (!Number.isInteger(align) || align < PAGE_SIZE || (align & (align - 1)) !== 0) {
      throw new KernelError('CONFIG', `alignment must be a power of two >= 4096, got ${align}`);
    }
    const base = Math.ceil(this.nextFree / align) * align;
    const len = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    if (base + len > this.size) {
      throw new KernelError(
        'OUT_OF_MEMORY',
        `cannot allocate ${len} bytes (${this.freeBytes} free)`,
      );
    }
    this.nextFree = base + len;
    const id = this.regionList.length;
    const region =
      this.flat !== null
        ? backing(id, base, len, this.regionList[0]!.buffer, base, this.flat)
        : backing(id, base, len, new SharedArrayBuffer(len), 0, null);
    this.regionList.push(region);
    this.frameTable.fill(id, base >>> PAGE_SHIFT, (base + len) >>> PAGE_SHIFT);
    return { paddr: base, region };
  }

  /**
   * Allocate a new region (see {@link RegionMemory.allocateRegion}); returns its physical address.
   * @throws KernelError `OUT_OF_MEMORY`, `CONFIG`
   */
  allocate(bytes: number, align = PAGE_SIZE): number {
    return this.allocateRegion(bytes, align).paddr;
  }

  private backingAt(paddr: number): Backing | undefined {
    if (!(paddr >= 0 && paddr < this.size)) return undefined;
    const i = this.frameTable[Math.floor(paddr / PAGE_SIZE)]!;
    return i < 0 ? undefined : this.regionList[i];
  }

  private span(paddr: number, length: number): Backing | null {
    if (!Number.isInteger(paddr) || !Number.isInteger(length) || length < 0) return null;
    const b = this.backingAt(paddr);
    if (b === undefined) return null;
    if (length === 0) return b;
    const end = paddr + length - 1;
    if (end >= this.size) return null;
    if (b.id === 0 && this.flat !== null) {
      // Region 0 is the unallocated rest: every frame of the range must belong to it.
      for (let f = (paddr >>> PAGE_SHIFT) + 1; f <= end >>> PAGE_SHIFT; f++) {
        if (this.frameTable[f] !== 0) return null;
      }
      return b;
    }
    return end < b.paddr + b.size ? b : null;
  }

  private wordBacking(paddr: number): Backing {
    if ((paddr & 3) !== 0) throw new RangeError(`physical address ${paddr} is not word-aligned`);
    const b = this.backingAt(paddr);
    if (b === undefined) throw new RangeError(`physical address ${paddr} is not backed`);
    return b;
  }
}

/**
 * The pre-region name of {@link RegionMemory}.
 * @deprecated use {@link RegionMemory}
 */
export const FrameMemory = RegionMemory;
/**
 * The pre-region name of {@link RegionMemory}.
 * @deprecated use {@link RegionMemory}
 */
export type FrameMemory = RegionMemory;
