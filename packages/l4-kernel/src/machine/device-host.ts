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
  /**
   * The side effects of a read of the register at `offset` that the CPU took from its
   * {@link StatusWord} without the device (see {@link DeviceHost.statusWord} and
   * {@link DeviceHost.mirrorWord}):
   * everything {@link MmioDevice.read32} of it does besides returning and clearing the bits
   * (e.g. occupy the bus, lower the interrupt line if nothing is pending any more). The host
   * calls it in order with the accesses posted around the read; `value` is what the CPU got.
   * Required of a device that takes a status word from its host.
   */
  statusRead?(offset: number, value: number): void;
}

/**
 * A clear-on-read status register's bits (an interrupt status register), kept where a CPU can
 * read and clear them without a round trip to the device — on an engine whose devices run
 * concurrently with the CPUs, a shared-memory word updated atomically. The device sets bits
 * with {@link StatusWord.or} and reads them with {@link StatusWord.load}; a CPU's read of the
 * register is {@link StatusWord.take}, followed later (in order with that CPU's other register
 * accesses) by the device's {@link MmioDevice.statusRead}.
 */
export interface StatusWord {
  /** The bits now. */
  load(): number;
  /** Set `bits` (atomically). */
  or(bits: number): void;
  /** Return the bits and clear them, atomically (a clear-on-read read). */
  take(): number;
  /** Overwrite the bits (a device reset). */
  store(value: number): void;
}

/**
 * A {@link StatusWord} in a plain field: what a device uses when its host offers none (every
 * read of the register then goes through {@link MmioDevice.read32}, as on the sim engine).
 */
export function localStatusWord(): StatusWord {
  let bits = 0;
  return {
    load: () => bits,
    or: (b) => {
      bits = (bits | b) >>> 0;
    },
    take: () => {
      const v = bits;
      bits = 0;
      return v;
    },
    store: (v) => {
      bits = v >>> 0;
    },
  };
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
  /**
   * Optional: a {@link StatusWord} for the clear-on-read status register at byte `offset` of
   * the device's register window, which CPUs may then read and clear directly (a register read
   * that needs no answer from the device). A CPU's read takes the bits and, if `line` is given,
   * lowers that interrupt line, as reading an interrupt status register does; the device learns
   * of the read through {@link MmioDevice.statusRead} and must treat its line as lowered then
   * (raising it again if causes came since). A device that takes a word keeps the register's
   * bits in it and implements {@link MmioDevice.statusRead}. Absent or `null`: the host offers
   * none (the sim engine; use {@link localStatusWord}). The threads engine offers up to 7 per
   * device.
   */
  statusWord?(offset: number, line?: number): StatusWord | null;
  /**
   * Optional: a word that mirrors the register at byte `offset`, whose reads have no side
   * effect but occupying the bus (a descriptor pointer): the device stores every new value of
   * the register in it ({@link StatusWord.store}), and CPUs may read it from there without a
   * round trip to the device; the device learns of each such read through
   * {@link MmioDevice.statusRead}. Absent or `null`: the host offers none (reads go through
   * {@link MmioDevice.read32}).
   */
  mirrorWord?(offset: number): StatusWord | null;
}
