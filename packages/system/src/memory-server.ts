/**
 * The sim's memory source (sigma0's role, see `requestRegion` in `@udf/dataspace`): a privileged
 * root-task thread the realiser creates. It is the only thread that allocates physical memory
 * after start-up: asked by IPC for `bytes` at `vaddr`, it allocates a fresh region
 * (`kernel.allocateRegion`, its own `SharedArrayBuffer` in the `'separate'` layout), maps it
 * read-write at `vaddr` in the requester's space and replies with the region's physical address.
 * It serves only the threads it was configured for, each within a budget of bytes.
 *
 * @module
 */
import { MEMORY_SOURCE_LABEL, MemorySourceStatus } from '@udf/dataspace';
import {
  ANY_THREAD,
  type Kernel,
  type KernelCall,
  type Message,
  NEVER,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';

const PAGE = 4096;

/**
 * The `[vaddr, bytes]` of a well-formed memory-source request (label
 * {@link MEMORY_SOURCE_LABEL}, two integer words, page-aligned, a positive size), or null. Both
 * engines' memory sources check requests with it.
 */
export function sourceRequest(msg: Message): { vaddr: number; bytes: number } | null {
  const [vaddr, bytes] = msg.words;
  if (
    msg.label !== MEMORY_SOURCE_LABEL ||
    msg.words.length !== 2 ||
    vaddr === undefined ||
    bytes === undefined ||
    !Number.isInteger(vaddr) ||
    !Number.isInteger(bytes) ||
    bytes <= 0 ||
    vaddr % PAGE !== 0 ||
    bytes % PAGE !== 0
  ) {
    return null;
  }
  return { vaddr, bytes };
}
const RW = { read: true, write: true, execute: false } as const;

/** Counters of a {@link MemoryServer}. */
export interface MemoryServerStats {
  /** Regions allocated and mapped. */
  regions: number;
  /** Bytes in those regions. */
  bytes: number;
  /** Requests refused: unknown requester, malformed words, or the kernel rejected the mapping. */
  refused: number;
  /** Requests beyond the requester's budget or physical memory. */
  noMemory: number;
}

/** The memory source thread; run {@link MemoryServer.body} as a root-task thread. */
export class MemoryServer {
  /** Counters. */
  readonly stats: MemoryServerStats = { regions: 0, bytes: 0, refused: 0, noMemory: 0 };
  private readonly used = new Map<ThreadId, number>();

  /**
   * @param kernel - the kernel (root-task privilege: allocate regions, map physical memory)
   * @param budgets - bytes each served thread may obtain in total
   */
  constructor(
    private readonly kernel: Kernel,
    private readonly budgets: ReadonlyMap<ThreadId, number>,
  ) {}

  /** The thread body. */
  *body(sys: Sys): Generator<KernelCall, void, unknown> {
    let reply: Message | null = null;
    let to: ThreadId = 0;
    for (;;) {
      const r =
        reply === null
          ? yield* sys.ipc.receive(ANY_THREAD, NEVER)
          : yield* sys.ipc.replyWait(to, reply, NEVER);
      reply = null;
      if (!r.ok) continue;
      to = r.from;
      reply = this.serve(r.from, r.msg);
    }
  }

  private serve(from: ThreadId, msg: Message): Message {
    const budget = this.budgets.get(from);
    const space = this.kernel.threadInfo(from)?.space ?? -1;
    const req = sourceRequest(msg);
    if (req === null || budget === undefined || space < 0) {
      this.stats.refused++;
      return { label: MemorySourceStatus.REFUSED, words: [] };
    }
    const { vaddr, bytes } = req;
    const used = this.used.get(from) ?? 0;
    if (used + bytes > budget) {
      this.stats.noMemory++;
      return { label: MemorySourceStatus.NO_MEMORY, words: [] };
    }
    let paddr: number;
    try {
      paddr = this.kernel.allocateRegion(bytes).paddr;
    } catch {
      this.stats.noMemory++;
      return { label: MemorySourceStatus.NO_MEMORY, words: [] };
    }
    try {
      this.kernel.mapPhysical(space, vaddr, paddr, bytes, RW);
    } catch {
      this.stats.refused++;
      return { label: MemorySourceStatus.REFUSED, words: [] };
    }
    this.used.set(from, used + bytes);
    this.stats.regions++;
    this.stats.bytes += bytes;
    return { label: MemorySourceStatus.OK, words: [paddr] };
  }
}
