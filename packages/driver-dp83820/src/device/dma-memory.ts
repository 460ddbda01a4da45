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
 * `@udf/l4-kernel`'s `PhysicalMemory` is gaining `load32`/`store32`/`copyIn`/`copyOut`; until
 * then {@link dmaMemory} supplies them over the memory's `bytes`. When the kernel's interface has
 * them, {@link dmaMemory} becomes `(m) => m` and nothing else changes. Internal to the package.
 *
 * @module
 */
import type { PhysicalMemory } from '@udf/l4-kernel';

/** Physical memory with atomic descriptor words and block copies. */
export interface DmaMemory extends PhysicalMemory {
  /** Atomic little-endian 32-bit load of an aligned word (`Atomics.load`). */
  load32(paddr: number): number;
  /** Atomic little-endian 32-bit store of an aligned word (`Atomics.store`). */
  store32(paddr: number, value: number): void;
  /** Copy `length` bytes of `src` from `srcOffset` into memory at `paddr` (device writes memory). */
  copyIn(paddr: number, src: Uint8Array, srcOffset: number, length: number): void;
  /** Copy `length` bytes of memory at `paddr` into `dst` at `dstOffset` (device reads memory). */
  copyOut(paddr: number, dst: Uint8Array, dstOffset: number, length: number): void;
}

const wrapped = new WeakMap<PhysicalMemory, DmaMemory>();

/** The memory with the {@link DmaMemory} operations (its own if it has them). */
export function dmaMemory(m: PhysicalMemory): DmaMemory {
  const own = m as Partial<DmaMemory> & PhysicalMemory;
  if (
    typeof own.load32 === 'function' &&
    typeof own.store32 === 'function' &&
    typeof own.copyIn === 'function' &&
    typeof own.copyOut === 'function'
  ) {
    return own as DmaMemory;
  }
  let w = wrapped.get(m);
  if (!w) {
    w = new BytesDmaMemory(m);
    wrapped.set(m, w);
  }
  return w;
}

/** {@link DmaMemory} over a memory's `bytes` (little-endian host, as the sim engine assumes). */
class BytesDmaMemory implements DmaMemory {
  readonly size: number;
  readonly bytes: Uint8Array;
  private readonly words: Int32Array;

  constructor(private readonly m: PhysicalMemory) {
    this.size = m.size;
    this.bytes = m.bytes;
    this.words = new Int32Array(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength >> 2);
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
    if ((paddr & 3) !== 0 || !this.m.contains(paddr, 4)) return this.m.read32(paddr);
    return Atomics.load(this.words, paddr >> 2) >>> 0;
  }

  store32(paddr: number, value: number): void {
    if ((paddr & 3) !== 0 || !this.m.contains(paddr, 4)) {
      this.m.write32(paddr, value);
      return;
    }
    Atomics.store(this.words, paddr >> 2, value | 0);
  }

  copyIn(paddr: number, src: Uint8Array, srcOffset: number, length: number): void {
    if (!this.m.contains(paddr, length))
      throw new RangeError(`DMA write outside memory at ${paddr}`);
    this.bytes.set(src.subarray(srcOffset, srcOffset + length), paddr);
  }

  copyOut(paddr: number, dst: Uint8Array, dstOffset: number, length: number): void {
    if (!this.m.contains(paddr, length))
      throw new RangeError(`DMA read outside memory at ${paddr}`);
    dst.set(this.bytes.subarray(paddr, paddr + length), dstOffset);
  }
}
