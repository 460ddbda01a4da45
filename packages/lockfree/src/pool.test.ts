import { describe, expect, it } from 'vitest';
import { ArgumentError, LayoutError } from './errors.js';
import { BufferPool, POOL_BUFFER_ALIGNMENT } from './pool.js';
import { SpscRing } from './ring.js';

function makePool(count = 4, size = 64, byteOffset = 0) {
  const sab = new SharedArrayBuffer(byteOffset + BufferPool.byteLength(count, size));
  const owner = new BufferPool(sab, byteOffset, count, size);
  owner.reset();
  return { sab, owner, peer: new BufferPool(sab, byteOffset, count, size) };
}

describe('BufferPool layout', () => {
  it('puts a free-id ring first and cache-line-aligned buffers after it', () => {
    const ringBytes = SpscRing.byteLength(8, 1);
    const base = Math.ceil(ringBytes / POOL_BUFFER_ALIGNMENT) * POOL_BUFFER_ALIGNMENT;
    const map = Math.ceil((base + 500) / 64) * 64; // the ownership map: one u32 per 32 buffers
    expect(BufferPool.byteLength(5, 100)).toBe(map + 4);
    expect(BufferPool.byteLength(33, 64)).toBe(
      Math.ceil(SpscRing.byteLength(64, 1) / 64) * 64 + 33 * 64 + 8,
    );
    const { owner } = makePool(5, 100, 64);
    expect(owner.freeRing.capacity).toBe(8);
    expect(owner.bufferOffset(0)).toBe(64 + base);
    expect(owner.bufferOffset(3)).toBe(64 + base + 300);
    expect(owner.buffer(3).byteOffset).toBe(64 + base + 300);
    expect(owner.buffer(3).length).toBe(100);
  });

  it('rejects bad shapes and regions that do not fit', () => {
    expect(() => BufferPool.byteLength(0, 64)).toThrow(LayoutError);
    expect(() => BufferPool.byteLength(4, 0)).toThrow(LayoutError);
    expect(() => BufferPool.byteLength(4, 1.5)).toThrow(LayoutError);
    const sab = new SharedArrayBuffer(BufferPool.byteLength(4, 64));
    expect(() => new BufferPool(sab, 4, 4, 64)).toThrow(LayoutError);
    expect(() => new BufferPool(sab, 2, 1, 1)).toThrow(LayoutError);
  });
});

describe('BufferPool exchange by reference', () => {
  it('hands out every id once, then -1, and takes them back', () => {
    const { owner } = makePool(4);
    const ids = [owner.alloc(), owner.alloc(), owner.alloc(), owner.alloc()];
    expect(ids.sort()).toEqual([0, 1, 2, 3]);
    expect(owner.alloc()).toBe(-1);
    expect(owner.available()).toBe(0);
    expect(owner.free(2)).toBe(true);
    expect(owner.alloc()).toBe(2);
  });

  it('lets one side write a buffer and the other read it by id', () => {
    const { owner, peer } = makePool(4, 16);
    const id = owner.alloc();
    owner.buffer(id).set([1, 2, 3]);
    expect(owner.handOff(id)).toBe(true);
    expect(peer.claim(id)).toBe(true);
    expect(Array.from(peer.buffer(id).subarray(0, 3))).toEqual([1, 2, 3]);
    expect(peer.free(id)).toBe(true);
    expect(owner.available()).toBe(4);
  });

  it('validates ids: isValid is false and free/buffer throw for ids it does not own', () => {
    const { owner } = makePool(4);
    for (const bad of [-1, 4, 1.5, Number.NaN, 2 ** 32]) {
      expect(owner.isValid(bad)).toBe(false);
      expect(() => owner.free(bad)).toThrow(ArgumentError);
      expect(() => owner.buffer(bad)).toThrow(ArgumentError);
    }
  });

  it('drops and counts out-of-range ids a peer put on the free ring', () => {
    const { owner, sab } = makePool(4);
    for (let i = 0; i < 4; i++) owner.alloc();
    const hostile = new SpscRing(sab, 0, 4, 1);
    hostile.push([1000]);
    hostile.push([0xffff_ffff]);
    expect(owner.free(1)).toBe(true);
    expect(owner.alloc()).toBe(1);
    expect(owner.stats.badIds).toBe(2);
    expect(owner.alloc()).toBe(-1);
  });

  it('counts an overflow instead of overwriting when a peer filled the free ring', () => {
    const { owner, sab } = makePool(4);
    const id = owner.alloc();
    new SpscRing(sab, 0, 4, 1).push([id]); // a forged entry: the ring is full again
    expect(owner.free(id)).toBe(false);
    expect(owner.stats.overflows).toBe(1);
    expect(owner.stats.doubleFrees).toBe(0);
  });
});

describe('BufferPool double frees and duplicate ids (issue 17 item 4)', () => {
  it('refuses and counts a second free of the same id', () => {
    const { owner, peer } = makePool(4);
    const a = owner.alloc();
    expect(peer.claim(a)).toBe(true);
    expect(peer.free(a)).toBe(true);
    expect(peer.free(a)).toBe(false);
    expect(peer.stats.doubleFrees).toBe(1);
    expect(owner.free(a)).toBe(false); // the allocating side: the map says it is free
    expect(owner.stats.doubleFrees).toBe(1);
    const ids = [owner.alloc(), owner.alloc(), owner.alloc(), owner.alloc()];
    expect(new Set(ids).size).toBe(4);
    expect(owner.alloc()).toBe(-1);
  });

  it('refuses a double free even when the buffer was re-allocated in between', () => {
    const { owner, peer } = makePool(4);
    const a = owner.alloc();
    owner.handOff(a);
    expect(peer.claim(a)).toBe(true);
    expect(peer.free(a)).toBe(true);
    let again = owner.alloc();
    while (again !== a) again = owner.alloc(); // the buffer is in use on the allocating side
    expect(peer.free(a)).toBe(false);
    expect(peer.stats.doubleFrees).toBe(1);
    expect(owner.free(a)).toBe(true);
  });

  it('refuses a duplicate id in descriptors and after a hand-off', () => {
    const { owner, peer } = makePool(4);
    const a = owner.alloc();
    expect(owner.handOff(a)).toBe(true);
    expect(owner.free(a)).toBe(false); // given away: not this side's to free
    expect(peer.claim(a)).toBe(true);
    expect(peer.claim(a)).toBe(false);
    expect(peer.claim(99)).toBe(false);
    expect(peer.stats).toMatchObject({ duplicateClaims: 1, badIds: 1 });
    expect(peer.holds(a)).toBe(true);
    expect(owner.holds(a)).toBe(false);
  });

  it('refuses to free an id that was never allocated (a fresh pool holds every id)', () => {
    const { owner } = makePool(4);
    expect(owner.free(0)).toBe(false);
    expect(owner.stats.doubleFrees).toBe(1);
    expect(owner.stats.overflows).toBe(0);
  });

  it('never hands out an id in use when a peer pushes duplicates onto the free ring', () => {
    const { owner, sab } = makePool(4);
    const held = [owner.alloc(), owner.alloc(), owner.alloc(), owner.alloc()];
    const hostile = new SpscRing(sab, 0, 4, 1);
    hostile.push([held[1]!]);
    hostile.push([held[1]!]);
    hostile.push([held[2]!]);
    expect(owner.alloc()).toBe(-1);
    expect(owner.stats.duplicates).toBe(3);
    expect(owner.free(held[1]!)).toBe(true);
    hostile.push([held[1]!]); // a duplicate of a buffer that is free right now
    expect(owner.alloc()).toBe(held[1]);
    expect(owner.alloc()).toBe(-1); // the second copy is dropped
    expect(owner.stats.duplicates).toBe(4);
  });

  it('counts nothing on a long honest alloc/free run', () => {
    const { owner } = makePool(64);
    const ids = new Int32Array(64);
    for (let r = 0; r < 1000; r++) {
      for (let i = 0; i < 64; i++) ids[i] = owner.alloc();
      for (let i = 0; i < 64; i++) owner.free(ids[i]!);
    }
    expect(owner.available()).toBe(64);
    expect(owner.stats).toEqual({
      badIds: 0,
      overflows: 0,
      doubleFrees: 0,
      duplicates: 0,
      duplicateClaims: 0,
    });
  });
});
