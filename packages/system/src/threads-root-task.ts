/**
 * The root task on the threads engine: the memory source (sigma0's role) and the device
 * supervisor, as privileged threads in the main thread — the engine's kernel slow path. The
 * memory source answers the same protocol as the sim's `MemoryServer` (`requestRegion` in
 * `@udf/dataspace`): asked for `bytes` at `vaddr`, it allocates a fresh physical region and
 * maps it into the requester's domain at run time, replying with the physical address; it
 * serves only the threads it was given budgets for. The device supervisor is the same
 * {@link DeviceSupervisor} the sim realiser runs.
 *
 * @module
 */
import { MEMORY_SOURCE_LABEL, MemorySourceStatus } from '@udf/dataspace';
import type { DomainId, PhysicalRegion, ThreadsEngine } from '@udf/engine-threads';
import {
  ANY_THREAD,
  type Cycles,
  type KernelCall,
  type Message,
  NEVER,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';
import { DeviceSupervisor, type DeviceSupervisorStats } from './device-supervisor.js';
import { AssemblyError } from './errors.js';
import type { MemoryServerStats } from './memory-server.js';

const PAGE = 4096;

/** Options of {@link startRootTask}. */
export interface RootTaskOptions {
  readonly source: { readonly name: string; readonly priority: number };
  readonly supervisor: { readonly name: string; readonly priority: number };
  /** How long the supervisor waits for a disabled driver's acknowledgement. */
  readonly ackTimeout: Cycles;
  /** The domain of a thread (the requester of a region). */
  readonly domainOf: (thread: ThreadId) => DomainId | undefined;
}

/** The root task's threads and their counters. */
export interface ThreadsRootTask {
  /** Thread id of the memory source. */
  readonly sourceId: ThreadId;
  /** Thread id of the device supervisor. */
  readonly supervisorId: ThreadId;
  /** Let `thread` obtain up to `bytes` from the memory source (before start). */
  budget(thread: ThreadId, bytes: number): void;
  /** Supervise a driver thread whose devices' windows are at `registers` in the root task. */
  superviseDriver(thread: ThreadId, registers: readonly number[]): void;
  /** Start serving (after the engine has started). */
  run(): void;
  /** Stop serving. */
  stop(): Promise<void>;
  /** Counters of the memory source. */
  readonly sourceStats: MemoryServerStats;
  /** Counters of the device supervisor. */
  readonly supervisorStats: DeviceSupervisorStats;
  /** The regions the memory source allocated, in order. */
  readonly regions: readonly PhysicalRegion[];
}

/** The memory source's request handling, engine side: allocate, map into a domain. */
export class ThreadsMemorySource {
  /** Counters. */
  readonly stats: MemoryServerStats = { regions: 0, bytes: 0, refused: 0, noMemory: 0 };
  private readonly used = new Map<ThreadId, number>();
  private readonly budgets = new Map<ThreadId, number>();

  /**
   * @param allocate - allocate `bytes` of physical memory mapped at `vaddr` in `domain`;
   *   returns its physical address, `'no-memory'` or `'refused'`
   * @param domainOf - the domain of a thread
   */
  constructor(
    private readonly allocate: (
      domain: DomainId,
      vaddr: number,
      bytes: number,
    ) => number | 'no-memory' | 'refused',
    private readonly domainOf: (thread: ThreadId) => DomainId | undefined,
  ) {}

  /** Let `thread` obtain up to `bytes`. */
  budget(thread: ThreadId, bytes: number): void {
    this.budgets.set(thread, bytes);
  }

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

  /** Answer one request. */
  serve(from: ThreadId, msg: Message): Message {
    const [vaddr, bytes] = msg.words;
    const budget = this.budgets.get(from);
    const domain = this.domainOf(from);
    if (
      msg.label !== MEMORY_SOURCE_LABEL ||
      msg.words.length !== 2 ||
      budget === undefined ||
      domain === undefined ||
      vaddr === undefined ||
      bytes === undefined ||
      !Number.isInteger(vaddr) ||
      !Number.isInteger(bytes) ||
      bytes <= 0 ||
      vaddr % PAGE !== 0 ||
      bytes % PAGE !== 0
    ) {
      this.stats.refused++;
      return { label: MemorySourceStatus.REFUSED, words: [] };
    }
    const used = this.used.get(from) ?? 0;
    if (used + bytes > budget) {
      this.stats.noMemory++;
      return { label: MemorySourceStatus.NO_MEMORY, words: [] };
    }
    const paddr = this.allocate(domain, vaddr, bytes);
    if (paddr === 'no-memory') {
      this.stats.noMemory++;
      return { label: MemorySourceStatus.NO_MEMORY, words: [] };
    }
    if (paddr === 'refused') {
      this.stats.refused++;
      return { label: MemorySourceStatus.REFUSED, words: [] };
    }
    this.used.set(from, used + bytes);
    this.stats.regions++;
    this.stats.bytes += bytes;
    return { label: MemorySourceStatus.OK, words: [paddr] };
  }
}

/**
 * Create the root task's threads on `engine` (before it starts).
 *
 * @throws AssemblyError if the engine has no root-task threads
 */
export function startRootTask(engine: ThreadsEngine, options: RootTaskOptions): ThreadsRootTask {
  void engine;
  void options;
  void DeviceSupervisor;
  throw new AssemblyError('the threads engine has no root-task threads yet');
}
