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
  /**
   * `free` calls that found the free ring full although the id was in use (only possible when
   * a peer put forged entries on the ring); the call returned `false` and the caller still
   * holds the buffer.
   */
  overflows: number;
  /**
   * `free` calls refused because the ownership map already said "free": the id was freed
   * twice, or freed without having been allocated. Nothing was pushed.
   */
  doubleFrees: number;
  /**
   * In-range ids popped from the free ring whose ownership bit said "in use": a duplicate or
   * forged entry (pushed twice, or pushed without `free`). Dropped, never handed out.
   */
  duplicates: number;
  /**
   * {@link BufferPool.claim} calls refused because this side already held the buffer: a peer
   * sent the same id twice.
   */
  duplicateClaims: number;
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

/** Offset of the ownership map: after the buffers, on its own cache line. */
function ownersOffset(capacity: number, count: number, bufferSize: number): number {
  const end = buffersOffset(capacity) + count * bufferSize;
  return Math.ceil(end / POOL_BUFFER_ALIGNMENT) * POOL_BUFFER_ALIGNMENT;
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
 * M            ownership map: ceil(count / 32) u32 words, bit (id & 31) of word (id >> 5) is
 *              1 while buffer id is free; M = roundUp(B + count * bufferSize, 64)
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
 * **Ownership, double frees and duplicate ids.** Two records, neither allocating per call:
 * - a private bitmap per `BufferPool` object of the buffers *this side* holds: set by
 *   {@link BufferPool.alloc} and by {@link BufferPool.claim} (call it on every id received from
 *   the peer, instead of `isValid`), cleared by `free` and {@link BufferPool.handOff};
 * - a shared ownership map, one bit per buffer, set while the buffer is free: `free` sets it
 *   (`Atomics.or`) before pushing the id, `alloc` clears it (`Atomics.and`) and hands the id
 *   out only if it was set.
 *
 * What the pool detects (refused or dropped, and counted, never thrown):
 * - a second `free` of the same id, a `free` of an id this side never allocated or claimed,
 *   and a `free` after `handOff`, even if the buffer was re-allocated in between:
 *   `stats.doubleFrees`;
 * - a peer sending the same id twice in descriptors: `claim` refuses the second,
 *   `stats.duplicateClaims`; an out-of-range id: `claim` refuses it, `stats.badIds`;
 * - an id put on the free ring without `free` (pushed twice, or forged) while the buffer is in
 *   use: `alloc` drops it, `stats.duplicates`; out-of-range ids: `stats.badIds`.
 *
 * What it cannot detect from a hostile peer, which can write the whole region:
 * - a peer that forges the shared map *and* the ring (sets a buffer's bit, pushes its id)
 *   makes `alloc` hand out a buffer still in use; that peer could already write the contents
 *   of every buffer, so nothing more is at stake, and it still cannot make this side access
 *   memory outside the pool, throw, or examine more than `freeRing.capacity` entries per call;
 * - a forged copy of an id that is free at that moment is handed out once and the genuine
 *   copy dropped later (counted in `stats.duplicates`): each buffer still has one holder;
 * - use after free (a peer writing a buffer it freed or handed off): contents are never
 *   trusted, so validate what you read;
 * - a peer that clears map bits or keeps ids: buffers leak (`alloc` returns -1), harming only
 *   the traffic of this pool.
 *
 * @example
 * ```ts
 * const sab = new SharedArrayBuffer(BufferPool.byteLength(64, 2048));
 * const pool = new BufferPool(sab, 0, 64, 2048);
 * pool.reset();
 * const id = pool.alloc(); // 0
 * pool.buffer(id).set([1, 2, 3]);
 * pool.free(id); // true
 * pool.free(id); // false: a double free, counted in pool.stats.doubleFrees
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
  readonly stats: PoolStats = {
    badIds: 0,
    overflows: 0,
    doubleFrees: 0,
    duplicates: 0,
    duplicateClaims: 0,
  };

  private readonly base: number;
  private readonly views: Uint8Array[];
  private readonly owners: Int32Array;
  /** Private: bit set while this side holds the buffer (allocated or claimed, not freed). */
  private readonly held: Int32Array;
  private readonly word = new Uint32Array(1);

  /**
   * Bytes the layout of a pool with this shape needs.
   *
   * @param count - number of buffers
   * @param bufferSize - bytes per buffer
   * @throws {@link LayoutError} if the shape is invalid
   */
  static byteLength(count: number, bufferSize: number): number {
    const capacity = freeRingCapacity(count, bufferSize);
    return ownersOffset(capacity, count, bufferSize) + Math.ceil(count / 32) * 4;
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
    this.owners = new Int32Array(
      buffer,
      byteOffset + ownersOffset(capacity, count, bufferSize),
      Math.ceil(count / 32),
    );
    this.held = new Int32Array(Math.ceil(count / 32));
  }

  /**
   * Put every id `0 … count-1` on the free ring and mark every buffer free in the ownership
   * map. Call once, before the pool is shared.
   */
  reset(): void {
    this.freeRing.reset();
    this.held.fill(0);
    for (let w = 0; w < this.owners.length; w++) {
      const bits = Math.min(32, this.count - w * 32);
      Atomics.store(this.owners, w, bits === 32 ? -1 : (1 << bits) - 1);
    }
    for (let id = 0; id < this.count; id++) {
      this.word[0] = id;
      this.freeRing.push(this.word);
    }
  }

  /**
   * Whether `id` names a buffer of this pool. For ids received from a peer prefer
   * {@link BufferPool.claim}, which also records that this side now holds the buffer.
   */
  isValid(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.count;
  }

  /**
   * Take a free buffer (allocating side). Ids found on the free ring that are out of range, or
   * whose ownership bit says the buffer is in use (duplicates, forged entries), are dropped and
   * counted; at most `freeRing.capacity` entries are examined.
   *
   * @returns a buffer id, or -1 when no free buffer is available
   */
  alloc(): number {
    for (let tries = this.freeRing.capacity; tries > 0; tries--) {
      if (!this.freeRing.pop(this.word)) return -1;
      const id = this.word[0]!;
      if (id >= this.count) {
        this.stats.badIds++;
        continue;
      }
      const bit = 1 << (id & 31);
      if ((Atomics.and(this.owners, id >>> 5, ~bit) & bit) !== 0) {
        this.held[id >>> 5]! |= bit;
        return id;
      }
      this.stats.duplicates++;
    }
    return -1;
  }

  /**
   * Return a buffer to the free ring (freeing side). The buffer's ownership bit is set
   * atomically first; a buffer already marked free is not pushed again.
   *
   * @returns `true` if the buffer went back to the pool; `false` if this side does not hold
   *   it or it is already free (freed twice, never allocated or claimed here, or handed off:
   *   counted in `stats.doubleFrees`), or if the free ring was full because a peer put forged
   *   entries on it (counted in `stats.overflows`; the caller still holds the buffer and may
   *   retry)
   * @throws {@link ArgumentError} if `id` is not a valid id of this pool
   */
  free(id: number): boolean {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    const w = id >>> 5;
    const bit = 1 << (id & 31);
    // This side's own record first: it catches a second free even if the allocator has
    // already handed the buffer out again (which the shared map alone cannot tell apart).
    if ((this.held[w]! & bit) === 0 || (Atomics.load(this.owners, w) & bit) !== 0) {
      this.stats.doubleFrees++;
      return false;
    }
    // Reserve the slot before marking the buffer free: this side is the ring's only producer,
    // so a free slot stays free. Marking first and then finding no room would open a window
    // in which the allocator could take a forged copy of the id while the caller holds it.
    const at = this.freeRing.peekFree();
    if (at < 0) {
      this.stats.overflows++;
      return false;
    }
    if ((Atomics.or(this.owners, w, bit) & bit) !== 0) {
      this.stats.doubleFrees++;
      return false;
    }
    this.freeRing.slots[at] = id;
    if (!this.freeRing.commit()) {
      // only if a peer rewrote the ring's indices in between (counted in freeRing.stats)
      Atomics.and(this.owners, w, ~bit);
      this.stats.overflows++;
      return false;
    }
    this.held[w]! &= ~bit;
    return true;
  }

  /**
   * Take over a buffer whose id arrived from a peer (in a descriptor), before using or freeing
   * it: validates the id and records that this side now holds the buffer. No allocation.
   *
   * @returns `false` if `id` is not a buffer id of this pool (never throws for peer data), or
   *   if this side already holds that buffer: the peer sent the id twice (counted in
   *   `stats.duplicateClaims`). Drop the descriptor in both cases.
   */
  claim(id: number): boolean {
    if (!this.isValid(id)) {
      this.stats.badIds++;
      return false;
    }
    const bit = 1 << (id & 31);
    if ((this.held[id >>> 5]! & bit) !== 0) {
      this.stats.duplicateClaims++;
      return false;
    }
    this.held[id >>> 5]! |= bit;
    return true;
  }

  /**
   * Give up a buffer without freeing it: this side passes it to a peer (in a descriptor), so
   * a later `free` of it on this side is refused as a double free.
   *
   * @returns `false` if this side did not hold the buffer (nothing changes)
   * @throws {@link ArgumentError} if `id` is not a valid id of this pool
   */
  handOff(id: number): boolean {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    const bit = 1 << (id & 31);
    if ((this.held[id >>> 5]! & bit) === 0) return false;
    this.held[id >>> 5]! &= ~bit;
    return true;
  }

  /**
   * Whether this side holds buffer `id` (allocated or claimed here, not freed or handed off).
   *
   * @throws {@link ArgumentError} if `id` is not valid
   */
  holds(id: number): boolean {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    return (this.held[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /**
   * Whether the ownership map currently marks buffer `id` free (in the pool). Advisory: the
   * map is shared memory a peer can write.
   *
   * @throws {@link ArgumentError} if `id` is not valid
   */
  isFree(id: number): boolean {
    if (!this.isValid(id)) throw new ArgumentError(`not a buffer id of this pool: ${id}`);
    return (Atomics.load(this.owners, id >>> 5) & (1 << (id & 31))) !== 0;
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
