import { describe, expect, it } from 'vitest';
import { DataspaceError } from './errors.js';
import { FrameAllocator } from './frame-allocator.js';

describe('FrameAllocator', () => {
  it('hands out contiguous runs first-fit and counts free frames', () => {
    const a = new FrameAllocator(8);
    expect(a.allocate(3)).toBe(0);
    expect(a.allocate(2)).toBe(3);
    expect(a.freeFrames).toBe(3);
    expect(a.allocate(4)).toBe(-1);
  });

  it('honours alignment (translation-cache tables are naturally aligned fpages)', () => {
    const a = new FrameAllocator(16);
    a.allocate(1);
    expect(a.allocate(4, 4)).toBe(4);
    expect(a.allocate(2, 2)).toBe(2);
  });

  it('reuses released frames, one at a time or as a run', () => {
    const a = new FrameAllocator(4);
    expect(a.allocate(4)).toBe(0);
    a.release(1);
    a.release(2);
    expect(a.freeFrames).toBe(2);
    expect(a.allocate(2)).toBe(1);
    a.release(0, 4);
    expect(a.freeFrames).toBe(4);
  });

  it('rejects double release and bad requests with typed errors', () => {
    const a = new FrameAllocator(4);
    expect(() => a.release(0)).toThrow(DataspaceError);
    expect(() => a.allocate(0)).toThrow(DataspaceError);
    expect(() => a.allocate(Number.NaN)).toThrow(DataspaceError);
    expect(() => a.release(3, 2)).toThrow(DataspaceError);
    expect(() => new FrameAllocator(-1)).toThrow(DataspaceError);
  });
});

describe('FrameAllocator phase', () => {
  it('aligns runs relative to an offset the pool starts at', () => {
    const a = new FrameAllocator(16);
    // A pool starting at frame 3 of a 4-aligned address space: index 1 is the first aligned one.
    expect(a.allocate(4, 4, 1)).toBe(1);
    expect(a.allocate(4, 4, 1)).toBe(5);
    expect(() => a.allocate(1, 4, 4)).toThrow(DataspaceError);
  });
});
