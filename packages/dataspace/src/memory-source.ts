/**
 * The memory-source protocol: how a user-level memory manager gets physical memory, the L4 way
 * (sigma0's role). The manager cannot allocate physical memory itself; it asks a privileged
 * root-task thread (the *memory source*) by IPC for a new region of `bytes` mapped at `vaddr` in
 * the manager's own address space. The source allocates a fresh region (its own
 * `SharedArrayBuffer` where the engine backs regions separately), maps it there and replies with
 * the region's physical address. One region per request: the anonymous manager asks once per
 * dataspace and once per translation table, so sharing one never exposes another.
 *
 * Request: label {@link MEMORY_SOURCE_LABEL}, words `[vaddr, bytes]` (both page-aligned, bytes
 * positive). Reply: label {@link MemorySourceStatus}, words `[paddr]` on `OK`.
 *
 * @module
 */
import type { Sys, ThreadId } from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { isUint32, PAGE_MASK } from './page.js';

/** Label of a region request to a memory source ('MR'). */
export const MEMORY_SOURCE_LABEL = 0x4d52;

/** Reply labels of a memory source. */
export enum MemorySourceStatus {
  /** The region is mapped; word 0 is its physical address. */
  OK = 0,
  /** Malformed request, or a requester the source does not serve. */
  REFUSED = 1,
  /** No physical memory (or the requester's budget) left. */
  NO_MEMORY = 2,
}

/**
 * Ask memory source `source` for a new region of `bytes` mapped read-write at `vaddr` in the
 * caller's space. Returns its physical address, or -1 if the source refused or is out of memory.
 */
export function* requestRegion(
  sys: Sys,
  source: ThreadId,
  vaddr: number,
  bytes: number,
): DataspaceCall<number> {
  if (!isUint32(vaddr) || !isUint32(bytes) || bytes === 0 || ((vaddr | bytes) & PAGE_MASK) !== 0)
    return -1;
  const r = yield* sys.ipc.call(source, { label: MEMORY_SOURCE_LABEL, words: [vaddr, bytes] });
  if (!r.ok || r.msg.label !== MemorySourceStatus.OK) return -1;
  const paddr = r.msg.words[0];
  return paddr !== undefined && Number.isInteger(paddr) && paddr >= 0 ? paddr : -1;
}
