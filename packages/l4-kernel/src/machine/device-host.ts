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

/** Physical memory as DMA sees it: byte-addressed, bounds-checked. */
export interface PhysicalMemory {
  /** Size in bytes. */
  readonly size: number;
  /** The whole memory as bytes (sim engine: one SharedArrayBuffer). */
  readonly bytes: Uint8Array;
  /** True if `[paddr, paddr + length)` lies inside physical memory. */
  contains(paddr: number, length: number): boolean;
  /** Little-endian 32-bit read; throws `RangeError` outside memory (devices check `contains` first). */
  read32(paddr: number): number;
  /** Little-endian 32-bit write. */
  write32(paddr: number, value: number): void;
}

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
  readonly memory: PhysicalMemory;
  /** The interrupt line with this number. */
  irq(line: number): InterruptLine;
}
