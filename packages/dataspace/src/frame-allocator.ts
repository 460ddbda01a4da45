/**
 * The physical-frame allocator of the anonymous manager.
 *
 * Simplification (documented in the README): the sim engine keeps physical memory as one buffer
 * and `mem.access` returns one view per physically contiguous range, so the anonymous manager
 * hands out each dataspace as one contiguous run of frames (first fit). Translation is still
 * kept per page, and frames are released one by one, so a dataspace whose pages are pinned
 * gives back the unpinned ones at once and the pinned ones later.
 *
 * @module
 */
import { DataspaceError } from './errors.js';

/** A first-fit allocator of contiguous, optionally aligned runs of frames from a fixed pool. */
export class FrameAllocator {
  /** Frames in the pool. */
  readonly frames: number;
  private readonly used: Uint8Array;
  private free: number;

  /** A pool of `frames` frames, all free. */
  constructor(frames: number) {
    if (!Number.isInteger(frames) || frames <= 0) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `frame pool size must be a positive integer, got ${frames}`,
      );
    }
    this.frames = frames;
    this.used = new Uint8Array(frames);
    this.free = frames;
  }

  /** Frames currently free. */
  get freeFrames(): number {
    return this.free;
  }

  /**
   * Allocate `count` contiguous frames whose first index `s` satisfies `s % align === phase`
   * (a phase lets a caller align to addresses the pool itself does not start on).
   * Returns the first frame index, or -1 if no such run is free.
   */
  allocate(count: number, align = 1, phase = 0): number {
    if (
      !Number.isInteger(count) ||
      count <= 0 ||
      !Number.isInteger(align) ||
      align <= 0 ||
      !Number.isInteger(phase) ||
      phase < 0 ||
      phase >= align
    ) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `bad allocation request: ${count} frames aligned to ${align}`,
      );
    }
    if (count > this.free) return -1;
    for (let start = phase; start + count <= this.frames; start += align) {
      let run = 0;
      while (run < count && this.used[start + run] === 0) run++;
      if (run === count) {
        this.used.fill(1, start, start + count);
        this.free -= count;
        return start;
      }
    }
    return -1;
  }

  /** True if frame `index` is allocated. */
  isAllocated(index: number): boolean {
    return this.used[index] === 1;
  }

  /** Release `count` frames starting at `first`. Releasing a free frame is a manager bug and throws. */
  release(first: number, count = 1): void {
    if (!Number.isInteger(first) || first < 0 || first + count > this.frames) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `release of frames [${first}, ${first + count}) outside the pool`,
      );
    }
    for (let i = first; i < first + count; i++) {
      if (this.used[i] !== 1) {
        throw new DataspaceError('DS_BAD_ARGUMENT', `frame ${i} released twice`);
      }
    }
    this.used.fill(0, first, first + count);
    this.free += count;
  }
}
