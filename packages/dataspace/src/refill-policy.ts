/**
 * Translation-cache refill policies. The paper uses on-demand refill and plans to explore
 * others (section 4.4); a manager takes any {@link RefillPolicy}.
 *
 * @module
 */

/** Decides how many translations a manager installs when a dataspace joins a cache and on a miss. */
export interface RefillPolicy {
  /** Name for logs and benchmark tables. */
  readonly name: string;
  /** Leading pages of a `pages`-page dataspace to install when it is added to a cache (0..pages). */
  onAdd(pages: number): number;
  /** Pages to install starting at the missed `page` of a `pages`-page dataspace (at least 1). */
  onMiss(page: number, pages: number): number;
}

/** The paper's policy: install nothing up front, one page per miss. */
export const onDemandRefill: RefillPolicy = {
  name: 'on-demand',
  onAdd: () => 0,
  onMiss: () => 1,
};

/** Install every page when the dataspace joins the cache; misses then only follow revocations. */
export const prefillOnAdd: RefillPolicy = {
  name: 'prefill-on-add',
  onAdd: (pages) => pages,
  onMiss: () => 1,
};

/** On a miss, also install the next `window - 1` pages (sequential buffer use). */
export function readAheadRefill(window: number): RefillPolicy {
  const w = Math.max(1, Math.floor(window));
  return {
    name: `read-ahead-${w}`,
    onAdd: () => 0,
    onMiss: (page, pages) => Math.min(w, pages - page),
  };
}
