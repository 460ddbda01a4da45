/**
 * Packet buffers in lwIP's spirit, but by reference: a {@link Pbuf} names a range of one of the
 * session's dataspaces `(dataspaceId, offset, length)` and carries the byte view of that
 * dataspace, so a received frame is processed where the device put it. Pbuf objects are
 * preallocated by their pool and reused: nothing is allocated per packet.
 *
 * @module
 */
import { LwipError } from '../error.js';

/** A reference to a frame inside a dataspace, plus the dataspace's bytes. */
export class Pbuf {
  /** Length of the frame (bytes from {@link Pbuf.offset}). */
  length = 0;
  /** Offset of the frame's first byte inside the dataspace (and in {@link Pbuf.bytes}). */
  offset: number;
  /** @internal Set while the pbuf is handed out by its pool. */
  inUse = false;

  /**
   * @param dataspaceId - id of the dataspace the buffer lives in
   * @param bytes - view of the whole dataspace (index = dataspace offset)
   * @param base - offset of the buffer's first byte in the dataspace
   * @param capacity - bytes the buffer can hold from `base`
   * @param id - the owner's handle for this buffer (pool slot, descriptor cookie)
   */
  constructor(
    readonly dataspaceId: number,
    readonly bytes: Uint8Array,
    readonly base: number,
    readonly capacity: number,
    readonly id: number,
  ) {
    this.offset = base;
  }

  /** The frame as a new subarray view (allocates; for tests and tools, not the hot path). */
  view(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }
}

/** How a {@link PbufPool} carves its dataspace. */
export interface PbufPoolOptions {
  /** Id of the dataspace the buffers live in. */
  readonly dataspaceId: number;
  /** Number of buffers. */
  readonly count: number;
  /** Bytes per buffer (default 2048: a 1514-byte frame, rounded up). */
  readonly bufferSize?: number;
  /** The dataspace's bytes (default: a new `ArrayBuffer` of `base + count × bufferSize`). */
  readonly bytes?: Uint8Array;
  /** Offset of the first buffer in the dataspace (default 0). */
  readonly base?: number;
}

/** Default pbuf size: a maximal Ethernet frame (1514 B) rounded up to a power of two. */
export const PBUF_DEFAULT_SIZE = 2048;

/**
 * A fixed set of equally sized pbufs carved from one dataspace, with a free stack of slot ids.
 * `alloc`/`free` are O(1) and allocate nothing.
 */
export class PbufPool {
  /** Id of the dataspace. */
  readonly dataspaceId: number;
  /** The dataspace's bytes. */
  readonly bytes: Uint8Array;
  /** Bytes per buffer. */
  readonly bufferSize: number;
  private readonly pbufs: Pbuf[];
  private readonly freeIds: Int32Array;
  private freeCount: number;

  /** @param options - dataspace, count and size of the buffers */
  constructor(options: PbufPoolOptions) {
    const size = options.bufferSize ?? PBUF_DEFAULT_SIZE;
    const base = options.base ?? 0;
    if (!(options.count > 0) || !(size > 0)) {
      throw new LwipError('CONFIG', `pbuf pool needs count > 0 and size > 0`);
    }
    const bytes = options.bytes ?? new Uint8Array(base + options.count * size);
    if (base + options.count * size > bytes.length) {
      throw new LwipError('CONFIG', `pbuf pool of ${options.count} × ${size} B does not fit`);
    }
    this.dataspaceId = options.dataspaceId;
    this.bytes = bytes;
    this.bufferSize = size;
    this.pbufs = [];
    this.freeIds = new Int32Array(options.count);
    for (let i = 0; i < options.count; i++) {
      this.pbufs.push(new Pbuf(options.dataspaceId, bytes, base + i * size, size, i));
      this.freeIds[i] = options.count - 1 - i;
    }
    this.freeCount = options.count;
  }

  /** Number of buffers. */
  get count(): number {
    return this.pbufs.length;
  }

  /** Buffers not handed out. */
  get available(): number {
    return this.freeCount;
  }

  /** Take a buffer (offset at its base, length 0), or null when none is free. */
  alloc(): Pbuf | null {
    if (this.freeCount === 0) return null;
    const p = this.pbufs[this.freeIds[--this.freeCount]!]!;
    p.inUse = true;
    p.offset = p.base;
    p.length = 0;
    return p;
  }

  /** Return a buffer. Throws {@link LwipError} on a double free or a pbuf of another pool. */
  free(pbuf: Pbuf): void {
    if (this.pbufs[pbuf.id] !== pbuf) {
      throw new LwipError('FOREIGN_BUFFER', `pbuf ${pbuf.id} is not from this pool`);
    }
    if (!pbuf.inUse) throw new LwipError('DOUBLE_FREE', `pbuf ${pbuf.id} freed twice`);
    pbuf.inUse = false;
    this.freeIds[this.freeCount++] = pbuf.id;
  }

  /** The pbuf of slot `id` (for adapters that map descriptors back to pbufs), or undefined. */
  byId(id: number): Pbuf | undefined {
    return this.pbufs[id];
  }

  /** The slot whose buffer starts at dataspace offset `offset`, or -1. */
  slotOf(offset: number): number {
    const rel = offset - (this.pbufs[0]?.base ?? 0);
    if (rel < 0 || rel % this.bufferSize !== 0) return -1;
    const id = rel / this.bufferSize;
    return id < this.pbufs.length ? id : -1;
  }
}

/** Copy `length` bytes; `copyWithin` when both live in one buffer, so nothing is allocated. */
export function copyBytes(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  srcOffset: number,
  length: number,
): void {
  if (dst === src) {
    dst.copyWithin(dstOffset, srcOffset, srcOffset + length);
    return;
  }
  for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i]!;
}
