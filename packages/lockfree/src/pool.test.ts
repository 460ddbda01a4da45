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
    expect(BufferPool.byteLength(5, 100)).toBe(base + 500);
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
    hostile.push([1]);
    expect(owner.alloc()).toBe(1);
    expect(owner.stats.badIds).toBe(2);
    expect(owner.alloc()).toBe(-1);
  });

  it('counts an overflow instead of overwriting when ids are returned twice', () => {
    const { owner } = makePool(4);
    expect(owner.free(0)).toBe(false);
    expect(owner.stats.overflows).toBe(1);
  });
});
