/**
 * Physical memory as the device's DMA engines and the driver's descriptor hand-off use it:
 * atomic 32-bit loads and stores for the descriptor words that pass ownership (CMDSTS/OWN), and
 * block copies for frame data (issue 11 item 2).
 *
 * The hand-off protocol: the side that hands a descriptor over writes every other field first
 * and publishes CMDSTS last with an atomic store; the side that takes it reads CMDSTS first with
 * an atomic load and only then the other fields. With sequentially consistent `Atomics`, a
 * reader that sees the new OWN value also sees the buffer pointer and size written before it,
 * on one thread or several.
 *
 * `@udf/l4-kernel`'s region memory supplies `load32`/`store32`/`copyIn`/`copyOut` (whole-range
 * copies that never straddle two regions); {@link dmaMemory} adapts them to offset/length form.
 * Internal to the package.
 *
 * @module
 */
import type { PhysicalMemory } from '@udf/l4-kernel';

/** Physical memory with atomic descriptor words and block copies. */
export interface DmaMemory {
  /** Size of the physical address space in bytes. */
  readonly size: number;
  /** True if `[paddr, paddr + length)` is backed by memory. */
  contains(paddr: number, length: number): boolean;
  /** Little-endian 32-bit read. */
  read32(paddr: number): number;
  /** Little-endian 32-bit write. */
  write32(paddr: number, value: number): void;
  /** Atomic little-endian 32-bit load of an aligned word (`Atomics.load`). */
  load32(paddr: number): number;
  /** Atomic little-endian 32-bit store of an aligned word (`Atomics.store`). */
  store32(paddr: number, value: number): void;
  /** Copy `length` bytes of `src` from `srcOffset` into memory at `paddr` (device writes memory). */
  copyIn(paddr: number, src: Uint8Array, srcOffset: number, length: number): void;
  /** Copy `length` bytes of memory at `paddr` into `dst` at `dstOffset` (device reads memory). */
  copyOut(paddr: number, dst: Uint8Array, dstOffset: number, length: number): void;
}

/**
 * Ranged block copies a host's memory may offer besides `copyIn`/`copyOut` (the threads engine's
 * does: they copy without making a view per burst). Used when present; same results.
 */
interface RangedCopies {
  copyInRange(paddr: number, src: Uint8Array, srcOffset: number, length: number): boolean;
  copyOutRange(paddr: number, dst: Uint8Array, dstOffset: number, length: number): boolean;
}

function rangedCopies(m: PhysicalMemory): RangedCopies | null {
  const r = m as Partial<RangedCopies>;
  return typeof r.copyInRange === 'function' && typeof r.copyOutRange === 'function'
    ? (m as unknown as RangedCopies)
    : null;
}

const wrapped = new WeakMap<PhysicalMemory, DmaMemory>();

/**
 * The memory with the {@link DmaMemory} operations, over the kernel's region operations
 * (`load32`/`store32`/`copyIn`/`copyOut`, which never straddle two regions).
 */
export function dmaMemory(m: PhysicalMemory): DmaMemory {
  let w = wrapped.get(m);
  if (!w) {
    w = new RegionDmaMemory(m);
    wrapped.set(m, w);
  }
  return w;
}

/** {@link DmaMemory} over the kernel's region operations. */
class RegionDmaMemory implements DmaMemory {
  readonly size: number;
  private readonly ranged: RangedCopies | null;

  constructor(private readonly m: PhysicalMemory) {
    this.size = m.size;
    this.ranged = rangedCopies(m);
  }

  contains(paddr: number, length: number): boolean {
    return this.m.contains(paddr, length);
  }

  read32(paddr: number): number {
    return this.m.read32(paddr);
  }

  write32(paddr: number, value: number): void {
    this.m.write32(paddr, value);
  }

  load32(paddr: number): number {
    if ((paddr & 3) !== 0) return this.m.read32(paddr);
    return this.m.load32(paddr) >>> 0;
  }

  store32(paddr: number, value: number): void {
    if ((paddr & 3) !== 0) this.m.write32(paddr, value);
    else this.m.store32(paddr, value);
  }

  copyIn(paddr: number, src: Uint8Array, srcOffset: number, length: number): void {
    const ok =
      this.ranged !== null
        ? this.ranged.copyInRange(paddr, src, srcOffset, length)
        : this.m.copyIn(paddr, src.subarray(srcOffset, srcOffset + length));
    if (!ok) throw new RangeError(`DMA write outside one region at ${paddr}+${length}`);
  }

  copyOut(paddr: number, dst: Uint8Array, dstOffset: number, length: number): void {
    const ok =
      this.ranged !== null
        ? this.ranged.copyOutRange(paddr, dst, dstOffset, length)
        : this.m.copyOut(paddr, dst.subarray(dstOffset, dstOffset + length));
    if (!ok) throw new RangeError(`DMA read outside one region at ${paddr}+${length}`);
  }
}
