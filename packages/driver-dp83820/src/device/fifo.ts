/**
 * An on-chip data FIFO holding whole frames as a byte ring. The receive FIFO is filled from the
 * wire and drained by receive DMA; the transmit FIFO is filled by transmit DMA burst by burst and
 * drained by the MAC. Occupancy is what makes overruns happen when DMA cannot keep up.
 *
 * Occupancy is counted in bytes of a ring of `capacity`; where the bytes sit in host memory is
 * not observable, so every frame is kept contiguous: a frame that starts near the end of the ring
 * runs on into a slack area of another `capacity` bytes after it instead of wrapping to the
 * start, and the next frame starts where the ring position wrapped to. Two frames never share a
 * byte (their ring positions are disjoint, and a byte at `p` in the slack is at ring position
 * `p - capacity`, past the end of a frame that started at 0). So every copy in or out of the FIFO
 * is one block copy of one range, and none needs a view made for it.
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
  /** Offset in `data` of the staging area (after the ring and its slack). */
  private readonly stagingAt: number;
  /** Views of the staging area by length, made once each. */
  private readonly stagingViews: (Uint8Array | undefined)[] = [];
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
   * @param stagingBytes - size of the area {@link FrameFifo.stageHead} copies frames to
   */
  constructor(capacity: number, minFrameBytes = 14, stagingBytes = 0) {
    this.capacity = capacity;
    this.stagingAt = 2 * capacity;
    this.data = new Uint8Array(2 * capacity + stagingBytes);
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
    const at = this.openAt();
    if (srcOff === 0 && n === src.length) this.data.set(src, at);
    else this.data.set(src.subarray(srcOff, srcOff + n), at);
    this.advanceWrite(n);
  }

  /** Append `n` bytes of physical memory at `paddr` to the open frame (DMA read, block copies). */
  appendFromMemory(mem: DmaMemory, paddr: number, n: number): void {
    mem.copyOut(paddr, this.data, this.openAt(), n);
    this.advanceWrite(n);
  }

  /**
   * Where the open frame's next byte goes in `data`: after its earlier bytes, contiguous (into
   * the slack if the frame started near the end of the ring).
   */
  private openAt(): number {
    const start = this.writeHead - this.openBytes;
    return (start < 0 ? start + this.capacity : start) + this.openBytes;
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
    const r = this.readHead + from;
    dst.set(this.data.subarray(r, r + n), dstOff);
  }

  /**
   * The head frame's bytes copied to the staging area (at most `stagingBytes` long, see the
   * constructor): a view of it that stays valid until the next call, made once per length, so
   * handing frames on allocates nothing.
   */
  stageHead(): Uint8Array {
    const len = this.headLength();
    let v = this.stagingViews[len];
    if (v === undefined) {
      v = this.data.subarray(this.stagingAt, this.stagingAt + len);
      this.stagingViews[len] = v;
    }
    this.data.copyWithin(this.stagingAt, this.readHead, this.readHead + len);
    return v;
  }

  /** Copy `n` bytes of the head frame from `from` into physical memory at `paddr` (DMA write, one block copy). */
  copyToMemory(from: number, mem: DmaMemory, paddr: number, n: number): void {
    mem.copyIn(paddr, this.data, this.readHead + from, n);
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
