import { ArgumentError, LayoutError } from './errors.js';
import { SpscRing } from './ring.js';

/** Alignment, in bytes, of the buffer area inside a pool's region (one cache line). */
export const POOL_BUFFER_ALIGNMENT = 64;
/** Largest number of buffers a pool accepts. */
export const POOL_MAX_BUFFERS = 2 ** 20;

/** Counters kept privately by each side of a buffer pool. */
export interface PoolStats {
  /** Ids popped from the free ring that were out of range (dropped, never returned). */
  badIds: number;
  /** `free` calls that found the free ring full: an id was returned twice (dropped). */
  overflows: number;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function freeRingCapacity(count: number, bufferSize: number): number {
  if (!Number.isInteger(count) || count < 1 || count > POOL_MAX_BUFFERS) {
    throw new LayoutError(
      `buffer count must be an integer in 1..${POOL_MAX_BUFFERS}, got ${count}`,
    );
  }
  if (!Number.isInteger(bufferSize) || bufferSize < 1) {
    throw new LayoutError(`bufferSize must be a positive integer, got ${bufferSize}`);
  }
  return nextPowerOfTwo(count);
}

function buffersOffset(capacity: number): number {
  const ring = SpscRing.byteLength(capacity, 1);
  return Math.ceil(ring / POOL_BUFFER_ALIGNMENT) * POOL_BUFFER_ALIGNMENT;
}

/**
 * Fixed-size buffers carved from a shared region, with the ids of free buffers carried in an
 * {@link SpscRing} (the "free" half of sDDF's free/active queue pair). Producer and consumer
 * exchange buffers by reference: descriptors on an active ring carry a buffer id, never bytes.
 *
 * Layout (byte offsets from `byteOffset`):
 * ```text
 * 0            free ring: SpscRing(capacity = nextPow2(count), slotWords = 1) of buffer ids
 * B            buffer 0, buffer 1, … buffer count-1, each bufferSize bytes
 *              where B = roundUp(SpscRing.byteLength(capacity, 1), 64)
 * ```
 * The allocating side calls {@link BufferPool.alloc} (it consumes the free ring); the side
 * that is done with a buffer calls {@link BufferPool.free} (it produces into the free ring).
 * Each side constructs its own `BufferPool` over the same memory; exactly one of them calls
 * {@link BufferPool.reset} once, before sharing, to put every id on the free ring.
 *
 * Ids read from shared memory are validated: an out-of-range id on the free ring is dropped
 * and counted in {@link BufferPool.stats}. Ids that arrive in descriptors from a peer must be
 * checked with {@link BufferPool.isValid} before use.
 *
 * @example
 * ```ts
 * const sab = new SharedArrayBuffer(BufferPool.byteLength(64, 2048));
 * const pool = new BufferPool(sab, 0, 64, 2048);
 * pool.reset();
 * const id = pool.alloc(); // 0
 * pool.buffer(id).set([1, 2, 3]);
 * pool.free(id);
 * ```
 */
export class BufferPool {
  /** Number of buffers; ids are `0 … count-1`. */
  readonly count: number;
  /** Size of each buffer, in bytes. */
  readonly bufferSize: number;
  /** The ring of free buffer ids. */
  readonly freeRing: SpscRing;
  /** This side's private counters (index corruptions are in `freeRing.stats`). */
  readonly stats: PoolStats = { badIds: 0, overflows: 0 };

  private readonly base: number;
  private readonly views: Uint8Array[];
  private readonly word = new Uint32Array(1);

  /**
   * Bytes the layout of a pool with this shape needs.
   *
   * @param count - number of buffers
   * @param bufferSize - bytes per buffer
   * @throws {@link LayoutError} if the shape is invalid
   */
  static byteLength(count: number, bufferSize: number): number {
    return buffersOffset(freeRingCapacity(count, bufferSize)) + count * bufferSize;
  }

  /**
   * Attach to a pool at `byteOffset` in `buffer`. Does not modify memory (see
   * {@link BufferPool.reset}).
   *
   * @param buffer - the shared memory
   * @param byteOffset - start of the pool's region, a multiple of 4
   * @param count - number of buffers
   * @param bufferSize - bytes per buffer
   * @throws {@link LayoutError} if the shape is invalid or does not fit in `buffer`
   */
  constructor(
    buffer: SharedArrayBuffer | ArrayBuffer,
    byteOffset: number,
    count: number,
    bufferSize: number,
  ) {
    const capacity = freeRingCapacity(count, bufferSize);
    const length = BufferPool.byteLength(count, bufferSize);
    if (byteOffset + length > buffer.byteLength) {
      throw new LayoutError(
        `pool needs ${length} bytes at offset ${byteOffset}, buffer has ${buffer.byteLength}`,
      );
    }
    this.freeRing = new SpscRing(buffer, byteOffset, capacity, 1);
    this.count = count;
    this.bufferSize = bufferSize;
    this.base = byteOffset + buffersOffset(capacity);
    this.views = [];
    for (let id = 0; id < count; id++) {
      this.views.push(new Uint8Array(buffer, this.base + id * bufferSize, bufferSize));
    }
  }

  /** Put every id `0 … count-1` on the free ring. Call once, before the pool is shared. */
  reset(): void {
    this.freeRing.reset();
    for (let id = 0; id < this.count; id++) {
      this.word[0] = id;
      this.freeRing.push(this.word);
    }
  }

  /** Whether `id` names a buffer of this pool. Use it on every id received from a peer. */
  isValid(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.count;
  }

  /**
   * Take a free buffer (allocating side). Out-of-range ids found on the free ring are dropped
   * and counted; at most `freeRing.capacity` entries are examined.
   *
   * @returns a buffer id, or -1 when no free buffer is available
   */
  alloc(): number {
    for (let tries = this.freeRing.capacity; tries > 0; tries--) {
      if (!this.freeRing.pop(this.word)) return -1;
      const id = this.word[0]!;
      if (id < this.count) return id;
      this.stats.badIds++;
    }
    return -1;
  }

  /**
   * Return a buffer to the free ring (freeing side).
   *
   * @returns `false` if the free ring was full, which only happens when ids were freed twice
   *   (counted in `stats.overflows`; the id is dropped)
   * @throws {@link ArgumentError} if `id` is not a valid id of this pool
   */
  free(id: number): boolean {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    this.word[0] = id;
    if (this.freeRing.push(this.word)) return true;
    this.stats.overflows++;
    return false;
  }

  /** Free buffers currently on the free ring (validated, 0 if corrupt). */
  available(): number {
    return this.freeRing.count();
  }

  /**
   * The buffer's bytes, as a view over shared memory (preallocated: no allocation per call).
   *
   * @throws {@link ArgumentError} if `id` is not valid
   */
  buffer(id: number): Uint8Array {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    return this.views[id]!;
  }

  /**
   * Byte offset of buffer `id` in the underlying `SharedArrayBuffer`.
   *
   * @throws {@link ArgumentError} if `id` is not valid
   */
  bufferOffset(id: number): number {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    return this.base + id * this.bufferSize;
  }
}
