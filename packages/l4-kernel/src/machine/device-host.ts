/**
 * What a device model (e.g. the DP83820) sees of the machine it is plugged into: virtual time,
 * an event scheduler, physical memory for DMA, and its interrupt line. The sim engine's machine
 * implements it; a device model imports only these types.
 *
 * @module
 */
import type { Cycles } from '../sys.js';

/** A handle for a scheduled event, usable to cancel it. */
export interface EventHandle {
  /** Cancel the event if it has not fired; cancelling twice is harmless. */
  cancel(): void;
}

/**
 * One region of physical memory: physically contiguous frames backed by (a window of) one
 * `SharedArrayBuffer`. Regions are the unit of sharing between protection domains.
 */
export interface MemoryRegion {
  /** Index of the region in its memory. */
  readonly id: number;
  /** Physical address of the region's first byte (page-aligned). */
  readonly paddr: number;
  /** Size in bytes (whole frames). */
  readonly size: number;
  /** The buffer backing the region. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of `paddr` inside `buffer` (0 when the region has a buffer of its own). */
  readonly byteOffset: number;
}

/**
 * Physical memory as DMA sees it: regions of frames resolved through a frame table
 * (paddr → region, offset). A device model never indexes one big buffer: it copies blocks with
 * `copyIn`/`copyOut`, reads and publishes descriptor ownership words with `load32`/`store32`
 * (`Atomics`, sequentially consistent), and checks `contains` before touching guest-supplied
 * addresses. The sim machine's memory ({@link RegionMemory}) implements it; there is no flat
 * byte view of all memory in this interface (on the threads engine none exists).
 */
export interface PhysicalMemory {
  /** Size of the physical address space in bytes. */
  readonly size: number;
  /** True if every byte of `[paddr, paddr + length)` is backed by a region. */
  contains(paddr: number, length: number): boolean;
  /** Little-endian 32-bit read (plain); throws `RangeError` outside backed memory. */
  read32(paddr: number): number;
  /** Little-endian 32-bit write (plain); throws `RangeError` outside backed memory. */
  write32(paddr: number, value: number): void;
  /** Atomic 32-bit read of an aligned word; throws `RangeError` unaligned or outside memory. */
  load32(paddr: number): number;
  /** Atomic 32-bit write of an aligned word; throws `RangeError` unaligned or outside memory. */
  store32(paddr: number, value: number): void;
  /**
   * Copy `src` to `[paddr, paddr + src.length)`. The range must lie inside ONE region (frames
   * contiguous in it); otherwise nothing is copied and the result is false (count it, drop).
   */
  copyIn(paddr: number, src: Uint8Array): boolean;
  /** Fill `dst` from `[paddr, paddr + dst.length)`; false (nothing copied) unless inside one region. */
  copyOut(paddr: number, dst: Uint8Array): boolean;
  /**
   * Allocate a new region of `bytes` (rounded up to frames), aligned to `align` (a power of two
   * of at least 4096). Throws the memory's typed error when memory is exhausted.
   */
  allocateRegion(bytes: number, align?: number): { paddr: number; region: MemoryRegion };
}

/**
 * The region physical-memory interface under its transition name.
 * @deprecated use {@link PhysicalMemory}, which is now the same interface
 */
export type RegionPhysicalMemory = PhysicalMemory;

/** One interrupt line as a device drives it (level-triggered). */
export interface InterruptLine {
  readonly number: number;
  /** Assert the line. */
  raise(): void;
  /** De-assert the line. */
  lower(): void;
}

/** The register window a device exposes to the CPU (MMIO). */
export interface MmioDevice {
  /** Size of the register window in bytes. */
  readonly mmioSize: number;
  /** Reads the 32-bit register at byte `offset` of the window (side effects included). */
  read32(offset: number): number;
  /** Writes `value` to the 32-bit register at byte `offset` of the window. */
  write32(offset: number, value: number): void;
}

/** The machine as a device model sees it. */
export interface DeviceHost {
  /** CPU clock in Hz (cycles per second); devices convert their own timings with it. */
  readonly hz: number;
  /** Current virtual time in cycles. */
  now(): Cycles;
  /** Run `fn` at absolute virtual time `at` (ties run in scheduling order). */
  schedule(at: Cycles, fn: () => void): EventHandle;
  /** Physical memory for DMA (regions; no flat byte view). */
  readonly memory: PhysicalMemory;
  /** The interrupt line with this number. */
  irq(line: number): InterruptLine;
}
