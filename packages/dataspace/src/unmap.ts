/**
 * Revoking mappings with L4 `Unmap` of one's own pages: every mapping derived from them, in any
 * space, goes; with `flushOwn`, the caller's own mapping too.
 *
 * @module
 */
import type { Sys } from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { PAGE_SHIFT, PAGE_SIZE } from './page.js';

const ALL_RIGHTS = Object.freeze({ read: true, write: true, execute: true });

/**
 * Unmap `pages` pages from `vaddr` of the caller's space, one page fpage at a time (a range
 * need not be an aligned power of two). A manager revoking passes `flushOwn = false`; a region
 * mapper detaching passes `true`. Returns the page mappings removed.
 */
export function* revokeMappings(
  sys: Sys,
  vaddr: number,
  pages: number,
  flushOwn = false,
): DataspaceCall<number> {
  let removed = 0;
  for (let p = 0; p < pages; p++) {
    removed += yield* sys.mem.unmap(
      { base: vaddr + p * PAGE_SIZE, sizeLog2: PAGE_SHIFT, rights: ALL_RIGHTS },
      flushOwn,
    );
  }
  return removed;
}
