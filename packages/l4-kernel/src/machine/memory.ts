/**
 * Physical memory of the simulated machine: 4 KiB frames in one `SharedArrayBuffer`, with a
 * bump allocator for contiguous frame runs.
 *
 * @module
 */
import { KernelError } from '../errors.js';
import type { PhysicalMemory } from './device-host.js';

/** Size of a page frame in bytes. */
export const PAGE_SIZE = 4096;
/** log2 of {@link PAGE_SIZE}. */
export const PAGE_SHIFT = 12;

/**
 * Physical memory as frames in one shared buffer. Frame 0 is reserved (never allocated) so that
 * physical address 0 can serve as "null" in descriptor rings.
 */
export class FrameMemory implements PhysicalMemory {
  /** Size in bytes (a multiple of {@link PAGE_SIZE}). */
  readonly size: number;
  /** The backing buffer. */
  readonly buffer: SharedArrayBuffer;
  /** The whole memory as bytes. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private nextFree = PAGE_SIZE;

  /** @param bytes - memory size; rounded up to whole frames */
  constructor(bytes: number) {
    if (!Number.isFinite(bytes) || bytes < 2 * PAGE_SIZE || bytes > 2 ** 31) {
      throw new KernelError('CONFIG', `memoryBytes must be in [8 KiB, 2 GiB], got ${bytes}`);
    }
    this.size = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    this.buffer = new SharedArrayBuffer(this.size);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Number of frames. */
  get frames(): number {
    return this.size / PAGE_SIZE;
  }

  /** Bytes not yet handed out by {@link FrameMemory.allocate}. */
  get freeBytes(): number {
    return this.size - this.nextFree;
  }

  /** True if `[paddr, paddr + length)` lies inside memory. */
  contains(paddr: number, length: number): boolean {
    return (
      Number.isInteger(paddr) &&
      Number.isInteger(length) &&
      paddr >= 0 &&
      length >= 0 &&
      paddr + length <= this.size
    );
  }

  /** Little-endian 32-bit read; throws `RangeError` outside memory. */
  read32(paddr: number): number {
    return this.view.getUint32(paddr, true);
  }

  /** Little-endian 32-bit write; throws `RangeError` outside memory. */
  write32(paddr: number, value: number): void {
    this.view.setUint32(paddr, value >>> 0, true);
  }

  /**
   * Allocate physically contiguous frames for `bytes` (rounded up to whole frames), aligned to
   * `align` bytes (a power of two, at least a page). Returns the physical address.
   * @throws KernelError `OUT_OF_MEMORY` when memory is exhausted, `CONFIG` on a bad alignment
   */
  allocate(bytes: number, align = PAGE_SIZE): number {
    if (!Number.isInteger(bytes) || bytes <= 0) {
      throw new KernelError('CONFIG', `allocation size must be a positive integer, got ${bytes}`);
    }
    if (align < PAGE_SIZE || (align & (align - 1)) !== 0) {
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
    return base;
  }
}
