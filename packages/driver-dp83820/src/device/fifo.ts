/**
 * An on-chip data FIFO holding whole frames as a byte ring. The receive FIFO is filled from the
 * wire and drained by receive DMA; the transmit FIFO is filled by transmit DMA burst by burst and
 * drained by the MAC. Occupancy is what makes overruns happen when DMA cannot keep up.
 *
 * @module
 */

import type { DmaMemory } from './dma-memory.js';

/** A byte ring of frames with a per-frame tag (destination class, descriptor count, ...). */
export class FrameFifo {
  /** Capacity in bytes. */
  readonly capacity: number;
  private readonly data: Uint8Array;
  private readonly lengths: Int32Array;
  private readonly tags: Int32Array;
  private readonly maxFrames: number;
  /** Byte offset in `data` of the head frame's first byte. */
  private readHead = 0;
  /** Byte offset where the next byte is appended. */
  private writeHead = 0;
  /** Bytes of committed frames plus the frame being assembled. */
  private usedBytes = 0;
  private frameHead = 0;
  private frameCount = 0;
  /** Bytes appended to the frame being assembled (not yet committed). */
  private openBytes = 0;

  /**
   * @param capacity - bytes
   * @param minFrameBytes - smallest frame stored; bounds the number of frame slots
   */
  constructor(capacity: number, minFrameBytes = 14) {
    this.capacity = capacity;
    this.data = new Uint8Array(capacity);
    this.maxFrames = Math.ceil(capacity / minFrameBytes) + 1;
    this.lengths = new Int32Array(this.maxFrames);
    this.tags = new Int32Array(this.maxFrames);
  }

  /** Bytes in use (committed frames and the open one). */
  get used(): number {
    return this.usedBytes;
  }

  /** Bytes free. */
  get free(): number {
    return this.capacity - this.usedBytes;
  }

  /** Committed frames waiting. */
  get frames(): number {
    return this.frameCount;
  }

  /** Bytes appended to the open (uncommitted) frame. */
  get open(): number {
    return this.openBytes;
  }

  /** Append `n` bytes of `src` from `srcOff` to the open frame. Caller checks {@link free}. */
  append(src: Uint8Array, srcOff: number, n: number): void {
    const w = this.writeHead;
    const first = Math.min(n, this.capacity - w);
    this.data.set(src.subarray(srcOff, srcOff + first), w);
    if (first < n) this.data.set(src.subarray(srcOff + first, srcOff + n), 0);
    this.advanceWrite(n);
  }

  /** Append `n` bytes of physical memory at `paddr` to the open frame (DMA read, block copies). */
  appendFromMemory(mem: DmaMemory, paddr: number, n: number): void {
    const w = this.writeHead;
    const first = Math.min(n, this.capacity - w);
    mem.copyOut(paddr, this.data, w, first);
    if (first < n) mem.copyOut(paddr + first, this.data, 0, n - first);
    this.advanceWrite(n);
  }

  private advanceWrite(n: number): void {
    this.writeHead = (this.writeHead + n) % this.capacity;
    this.usedBytes += n;
    this.openBytes += n;
  }

  /** Commit the open frame with a tag. Returns false (and discards it) if frame slots are exhausted. */
  commit(tag: number): boolean {
    if (this.frameCount === this.maxFrames) {
      this.discardOpen();
      return false;
    }
    const at = (this.frameHead + this.frameCount) % this.maxFrames;
    this.lengths[at] = this.openBytes;
    this.tags[at] = tag;
    this.frameCount++;
    this.openBytes = 0;
    return true;
  }

  /** Drop the open frame's bytes. */
  discardOpen(): void {
    this.writeHead = (this.writeHead - this.openBytes + this.capacity) % this.capacity;
    this.usedBytes -= this.openBytes;
    this.openBytes = 0;
  }

  /** Length of the head frame (0 when empty). */
  headLength(): number {
    return this.frameCount === 0 ? 0 : this.lengths[this.frameHead]!;
  }

  /** Tag of the head frame. */
  headTag(): number {
    return this.tags[this.frameHead]!;
  }

  /** Copy `n` bytes of the head frame starting at `from` into `dst` at `dstOff`. */
  copyOut(from: number, dst: Uint8Array, dstOff: number, n: number): void {
    const r = (this.readHead + from) % this.capacity;
    const first = Math.min(n, this.capacity - r);
    dst.set(this.data.subarray(r, r + first), dstOff);
    if (first < n) dst.set(this.data.subarray(0, n - first), dstOff + first);
  }

  /** Copy `n` bytes of the head frame from `from` into physical memory at `paddr` (DMA write, block copies). */
  copyToMemory(from: number, mem: DmaMemory, paddr: number, n: number): void {
    const r = (this.readHead + from) % this.capacity;
    const first = Math.min(n, this.capacity - r);
    mem.copyIn(paddr, this.data, r, first);
    if (first < n) mem.copyIn(paddr + first, this.data, 0, n - first);
  }

  /** Remove the head frame, freeing its bytes. */
  pop(): void {
    if (this.frameCount === 0) return;
    const len = this.lengths[this.frameHead]!;
    this.readHead = (this.readHead + len) % this.capacity;
    this.usedBytes -= len;
    this.frameHead = (this.frameHead + 1) % this.maxFrames;
    this.frameCount--;
  }

  /** Empty the FIFO. */
  clear(): void {
    this.readHead = 0;
    this.writeHead = 0;
    this.usedBytes = 0;
    this.frameHead = 0;
    this.frameCount = 0;
    this.openBytes = 0;
  }
}
