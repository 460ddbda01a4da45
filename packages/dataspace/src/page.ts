/**
 * Page geometry shared by managers, region maps and translation caches.
 *
 * @module
 */

/** log2 of the page size: 4 KiB pages, as on the paper's IA-32 machine. */
export const PAGE_SHIFT = 12;
/** Bytes per page. */
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Mask of the in-page offset bits. */
export const PAGE_MASK = PAGE_SIZE - 1;
/** Largest byte offset + length a buffer reference may reach: references are 32-bit. */
export const MAX_REFERENCE_END = 2 ** 32;

/** Pages needed to hold `bytes` (rounded up). */
export function pagesFor(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** True if `x` is an integer in `[0, 2^32)`: the only offsets a 32-bit reference can carry. */
export function isUint32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x < MAX_REFERENCE_END;
}
