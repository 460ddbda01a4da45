/**
 * The kernel slow path as a domain worker reaches it: a synchronous call into the main thread
 * (which owns the mapping database). Per domain, a few words of a shared "kernel link" region:
 *
 * ```text
 * word 0  RPC flag      0 while a request is outstanding; the main thread stores 1 and notifies
 * word 1  RPC result    written by the main thread before the flag
 * word 2  generation    bumped by the main thread after it posted a page-table update
 * ```
 *
 * A request: the worker stores 0 in the flag, posts the request on its `parentPort`, and waits
 * with `Atomics.wait` on the flag (it holds no control-block lock meanwhile). The main thread
 * updates the mapping database, posts each changed domain its `MemoryUpdate` on that
 * domain's memory port, bumps the domain's generation, then writes the result and the flag.
 * A worker applies updates when it sees its generation change (`DomainMemory.sync`), taking
 * them with `receiveMessageOnPort` — no event-loop turn, so a worker blocked in
 * `Atomics.wait` on its doorbell gets them as soon as it runs again.
 *
 * Only the main thread touches the database, and it never waits for a worker while it does,
 * so a request cannot deadlock.
 *
 * @module
 */
import type { Fpage, MapGrantItem, ThreadId } from '@udf/l4-kernel';

/** Int32 words per domain in the kernel link region. */
export const LINK_WORDS = 4;
/** Word index of the RPC flag. */
export const LINK_FLAG = 0;
/** Word index of the RPC result. */
export const LINK_RESULT = 1;
/** Word index of the page-table generation. */
export const LINK_GEN = 2;

/** Bytes of a kernel link region for `domains` domains. */
export function kernelLinkBytes(domains: number): number {
  return Math.max(1, domains) * LINK_WORDS * 4;
}

/** A kernel request a domain worker posts to the main thread. Plain data. */
export type KernelRequest =
  | {
      readonly type: 'kernel';
      readonly op: 'transfer';
      readonly from: ThreadId;
      readonly to: ThreadId;
      readonly items: readonly MapGrantItem[];
      readonly windowBase: number;
      readonly windowLog2: number;
    }
  | {
      readonly type: 'kernel';
      readonly op: 'unmap';
      readonly self: ThreadId;
      readonly fpage: Fpage;
      readonly flush: boolean;
    };

/** The slow-path operations the IPC path and `Sys` need. */
export interface SlowPath {
  /**
   * Apply map/grant `items` from thread `from`'s space to thread `to`'s, with `to`'s receive
   * window; returns when every affected domain can see the change.
   */
  transfer(
    from: ThreadId,
    to: ThreadId,
    items: readonly MapGrantItem[],
    windowBase: number,
    windowLog2: number,
  ): void;
  /** L4 Unmap for thread `self`; returns page mappings removed, after every affected domain can see it. */
  unmap(self: ThreadId, fpage: Fpage, flush: boolean): number;
}

/** The worker side of the kernel link: {@link SlowPath} by synchronous request to the main thread. */
export class WorkerSlowPath implements SlowPath {
  private readonly words: Int32Array;
  private readonly base: number;

  /**
   * @param link - the kernel link region
   * @param domain - this worker's domain
   * @param post - posts a request to the main thread
   * @param afterReply - called after each reply (applies this domain's page-table updates)
   * @param stopped - true once the engine asked the domain to stop (a request then gives up)
   */
  constructor(
    link: SharedArrayBuffer,
    domain: number,
    private readonly post: (r: KernelRequest) => void,
    private readonly afterReply: () => void,
    private readonly stopped: () => boolean,
  ) {
    this.words = new Int32Array(link);
    this.base = domain * LINK_WORDS;
  }

  private request(r: KernelRequest): number {
    const w = this.words;
    const flag = this.base + LINK_FLAG;
    Atomics.store(w, flag, 0);
    this.post(r);
    while (Atomics.load(w, flag) === 0) {
      Atomics.wait(w, flag, 0, 50);
      if (Atomics.load(w, flag) === 0 && this.stopped()) return 0;
    }
    const result = Atomics.load(w, this.base + LINK_RESULT);
    this.afterReply();
    return result;
  }

  transfer(
    from: ThreadId,
    to: ThreadId,
    items: readonly MapGrantItem[],
    windowBase: number,
    windowLog2: number,
  ): void {
    this.request({ type: 'kernel', op: 'transfer', from, to, items, windowBase, windowLog2 });
  }

  unmap(self: ThreadId, fpage: Fpage, flush: boolean): number {
    return this.request({ type: 'kernel', op: 'unmap', self, fpage, flush });
  }
}
