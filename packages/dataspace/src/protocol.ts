/**
 * The dataspace protocol (paper section 3): the IPC messages any thread implementing
 * dataspaces answers. Requests carry a label from {@link DsLabel} and untyped words; replies
 * carry a {@link DsStatus} as their label, the words listed here, and for map requests a map
 * item. Every word a manager receives is validated: a client may be buggy or hostile.
 *
 * | request | words | reply words |
 * |---|---|---|
 * | `OPEN` | size | id, size, pages |
 * | `CLOSE` | id | — |
 * | `SHARE` | id, thread, rights | — |
 * | `MAP` | id, offset, access (0 read, 1 write), destination vaddr | — (+ one map item) |
 * | `UNMAP` | id, offset, length | pages revoked |
 * | `TC_OPEN` | destination vaddr, entries | cache id, entries, table bytes, pin policy (+ map item) |
 * | `TC_ADD` | cache id, dataspace id | first entry, pages, size, writable |
 * | `TC_REMOVE` | cache id, dataspace id | — |
 * | `TC_REFILL` | cache id, dataspace id, page | pages filled |
 * | `STAT` | — | see {@link ManagerStats} field order |
 *
 * @module
 */

/** Request labels of the dataspace protocol (positive; the kernel reserves negative labels). */
export const DsLabel = {
  /** Create an anonymous dataspace of at least `size` bytes. */
  OPEN: 0x4401,
  /** Close a dataspace: revoke its mappings and translations, return its frames. Owner only. */
  CLOSE: 0x4402,
  /** Give another thread rights on a dataspace. Owner only. */
  SHARE: 0x4403,
  /** Map one page of a dataspace to the caller (page-fault resolution by a region mapper). */
  MAP: 0x4404,
  /** Unmap pages of a dataspace everywhere and invalidate their translations. Owner only. */
  UNMAP: 0x4405,
  /** Establish a translation cache shared with the calling driver. */
  TC_OPEN: 0x4410,
  /** Add a dataspace to a translation cache (it joins a driver–client session). */
  TC_ADD: 0x4411,
  /** Remove a dataspace from a translation cache. */
  TC_REMOVE: 0x4412,
  /** Refill the translation of one page after a miss. */
  TC_REFILL: 0x4413,
  /** Read the manager's counters. */
  STAT: 0x4420,
} as const;

/** One of the {@link DsLabel} values. */
export type DsLabel = (typeof DsLabel)[keyof typeof DsLabel];

/** Reply statuses (the reply's label). */
export const DsStatus = {
  /** Done. */
  OK: 0,
  /** Malformed request: wrong word count, non-integer or out-of-range values. */
  BAD_ARGUMENT: 1,
  /** Not enough free frames or table entries. */
  NO_MEMORY: 2,
  /** No such dataspace (never existed, or closed). */
  NO_SUCH_DATASPACE: 3,
  /** The caller lacks the rights for this operation on this dataspace or cache. */
  ACCESS_DENIED: 4,
  /** The caller's translation cache was disabled (pin quota exceeded). */
  DRIVER_DISABLED: 5,
  /** No such translation cache, or the dataspace is not in it. */
  NOT_IN_CACHE: 6,
  /** The dataspace is already in the cache. */
  DUPLICATE: 7,
  /** Unknown request label. */
  BAD_REQUEST: 8,
} as const;

/** One of the {@link DsStatus} values. */
export type DsStatus = (typeof DsStatus)[keyof typeof DsStatus];

/** Rights bit: read the dataspace (map read-only). */
export const DS_RIGHT_READ = 1;
/** Rights bit: write the dataspace (map writable; DMA may write it). */
export const DS_RIGHT_WRITE = 2;
/** Rights bit: add the dataspace to a translation cache (a driver may DMA to/from it). */
export const DS_RIGHT_TRANSLATE = 4;
/** All rights (the opener's). */
export const DS_RIGHTS_ALL = DS_RIGHT_READ | DS_RIGHT_WRITE | DS_RIGHT_TRANSLATE;

/** Access word of a `MAP` request: read fault. */
export const DS_ACCESS_READ = 0;
/** Access word of a `MAP` request: write fault. */
export const DS_ACCESS_WRITE = 1;

/** The counters a manager reports to `STAT`, in reply-word order. */
export interface ManagerStats {
  /** Frames in the manager's pool. */
  readonly totalFrames: number;
  /** Frames free for allocation. */
  readonly freeFrames: number;
  /** Open dataspaces. */
  readonly dataspaces: number;
  /** Frames of closed dataspaces still held because a driver pins them or a lease runs. */
  readonly deferredFrames: number;
  /** Refill requests served. */
  readonly refills: number;
  /** Page-fault map requests served. */
  readonly faultsMapped: number;
  /** Requests rejected (bad arguments, access denied, unknown ids). */
  readonly rejected: number;
  /** Drivers disabled for exceeding their pin quota. */
  readonly driversDisabled: number;
  /** Pinned pages recovered from disabled drivers. */
  readonly pinsRecovered: number;
}

/** Field order of {@link ManagerStats} in a `STAT` reply. */
export const MANAGER_STATS_FIELDS: readonly (keyof ManagerStats)[] = [
  'totalFrames',
  'freeFrames',
  'dataspaces',
  'deferredFrames',
  'refills',
  'faultsMapped',
  'rejected',
  'driversDisabled',
  'pinsRecovered',
];
