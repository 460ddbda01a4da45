/**
 * Client helper library for the dataspace protocol: `SysCall` generators used with `yield*`
 * from any component thread. Setup calls throw {@link DataspaceError} on failure.
 *
 * ```ts
 * const ds = yield* dsClient.open(sys, manager, 64 * 1024);
 * yield* dsClient.share(sys, ds, driverThread, DS_RIGHT_READ | DS_RIGHT_TRANSLATE);
 * ```
 *
 * @module
 */
import type { IpcResult, Message, Sys, ThreadId } from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { DataspaceError, type DataspaceErrorCode } from './errors.js';
import { callAccepting } from './ipc.js';
import {
  DS_ACCESS_WRITE,
  DsLabel,
  DsStatus,
  MANAGER_STATS_FIELDS,
  type ManagerStats,
} from './protocol.js';

/** A dataspace as its users know it: the manager implementing it, its id and its page-granular size. */
export interface Dataspace {
  /** Id assigned by the manager (positive). */
  readonly id: number;
  /** Size in bytes, a whole number of pages. */
  readonly size: number;
  /** The manager thread implementing the dataspace. */
  readonly manager: ThreadId;
}

const STATUS_CODES: Record<number, DataspaceErrorCode> = {
  [DsStatus.BAD_ARGUMENT]: 'DS_BAD_ARGUMENT',
  [DsStatus.NO_MEMORY]: 'DS_NO_MEMORY',
  [DsStatus.NO_SUCH_DATASPACE]: 'DS_NO_SUCH_DATASPACE',
  [DsStatus.ACCESS_DENIED]: 'DS_ACCESS_DENIED',
  [DsStatus.DRIVER_DISABLED]: 'DS_DRIVER_DISABLED',
  [DsStatus.NOT_IN_CACHE]: 'DS_NO_SUCH_DATASPACE',
  [DsStatus.DUPLICATE]: 'DS_DUPLICATE',
  [DsStatus.BAD_REQUEST]: 'DS_PROTOCOL',
};

/** The {@link DataspaceErrorCode} that a non-OK {@link DsStatus} reply maps to. */
export function statusError(status: number, what: string): DataspaceError {
  return new DataspaceError(
    STATUS_CODES[status] ?? 'DS_PROTOCOL',
    `${what}: manager replied status ${status}`,
  );
}

/** Perform one protocol call (accepting map items); throw on IPC failure or a non-OK status; return the reply. */
export function* request(
  sys: Sys,
  manager: ThreadId,
  msg: Message,
  what: string,
): DataspaceCall<Message> {
  const r: IpcResult = yield* callAccepting(sys, manager, msg);
  if (!r.ok)
    throw new DataspaceError(
      'DS_IPC_FAILED',
      `${what}: IPC to manager ${manager} failed (${r.error})`,
    );
  if (r.msg.label !== DsStatus.OK) throw statusError(r.msg.label, what);
  return r.msg;
}

function word(msg: Message, i: number): number {
  const w = msg.words[i];
  if (typeof w !== 'number' || !Number.isFinite(w)) {
    throw new DataspaceError('DS_PROTOCOL', `malformed reply: word ${i} missing`);
  }
  return w;
}

/** Open an anonymous dataspace of at least `size` bytes (rounded up to pages). */
function* open(sys: Sys, manager: ThreadId, size: number): DataspaceCall<Dataspace> {
  const reply = yield* request(sys, manager, { label: DsLabel.OPEN, words: [size] }, 'open');
  return { id: word(reply, 0), size: word(reply, 1), manager };
}

/** Close a dataspace: its mappings and translations are revoked, its frames returned (pinned ones later). */
function* close(sys: Sys, ds: Dataspace): DataspaceCall<void> {
  yield* request(sys, ds.manager, { label: DsLabel.CLOSE, words: [ds.id] }, 'close');
}

/** Give `thread` `rights` ({@link DS_RIGHT_READ} | ...) on a dataspace the caller opened. */
function* share(sys: Sys, ds: Dataspace, thread: ThreadId, rights: number): DataspaceCall<void> {
  yield* request(
    sys,
    ds.manager,
    { label: DsLabel.SHARE, words: [ds.id, thread, rights] },
    'share',
  );
}

/**
 * Ask the manager to map the page holding `offset` of a dataspace to the caller at `vaddr`
 * (what a region mapper does on a page fault). Returns the reply status instead of throwing:
 * a fault that cannot be resolved is reported to the faulting thread, not thrown.
 */
function* map(
  sys: Sys,
  manager: ThreadId,
  dataspaceId: number,
  offset: number,
  write: boolean,
  vaddr: number,
): DataspaceCall<DsStatus | -1> {
  const r = yield* callAccepting(sys, manager, {
    label: DsLabel.MAP,
    words: [dataspaceId, offset, write ? DS_ACCESS_WRITE : 0, vaddr],
  });
  return r.ok ? (r.msg.label as DsStatus) : -1;
}

/** Unmap `[offset, offset + length)` of a dataspace everywhere and invalidate its translations. Returns pages revoked. */
function* unmap(sys: Sys, ds: Dataspace, offset: number, length: number): DataspaceCall<number> {
  const reply = yield* request(
    sys,
    ds.manager,
    { label: DsLabel.UNMAP, words: [ds.id, offset, length] },
    'unmap',
  );
  return word(reply, 0);
}

/** Read a manager's counters. */
function* stats(sys: Sys, manager: ThreadId): DataspaceCall<ManagerStats> {
  const reply = yield* request(sys, manager, { label: DsLabel.STAT, words: [] }, 'stat');
  const out: Record<string, number> = {};
  MANAGER_STATS_FIELDS.forEach((name, i) => {
    out[name] = word(reply, i);
  });
  return out as unknown as ManagerStats;
}

/** The client helper library of the dataspace protocol (see the module comment). */
export const dsClient = {
  /** Open an anonymous dataspace of at least `size` bytes (rounded up to pages); the caller owns it. */
  open,
  /** Close a dataspace the caller owns: mappings and translations revoked, frames returned (pinned ones later). */
  close,
  /** Give a thread rights (`DS_RIGHT_*` bits; 0 revokes) on a dataspace the caller owns. */
  share,
  /** Ask for the page holding an offset to be mapped at a virtual address (a region mapper's fault path); returns the status. */
  map,
  /** Unmap a byte range of an owned dataspace everywhere and invalidate its translations; returns pages revoked. */
  unmap,
  /** Read a manager's counters. */
  stats,
} as const;
