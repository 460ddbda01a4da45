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
import { MemorySourceStatus } from '@udf/dataspace';
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
import {
  DeviceSupervisor,
  type DeviceSupervisorConfig,
  type DeviceSupervisorStats,
  type DriverRestartRecord,
  emptyDeviceSupervisorStats,
  type SupervisedDriver,
} from './device-supervisor.js';
import { type MemoryServerStats, sourceRequest } from './memory-server.js';

const RW = { read: true, write: true, execute: false } as const;

/** Name of the root-task domain on the threads engine (its threads run in the main thread). */
export const ROOT_TASK_DOMAIN = 'root-task';

/** Options of {@link createRootTask}. */
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
  /** The root-task domain. */
  readonly domain: DomainId;
  /**
   * Supervise a driver thread whose devices' windows are at `registers` in the root task;
   * `watch` adds what else the supervisor watches of it: its devices' IOMMU fault lines, and,
   * for a driver the supervisor may restart, its sessions and exit notifier.
   */
  superviseDriver(
    thread: ThreadId,
    registers: readonly number[],
    watch?: Pick<SupervisedDriver, 'sessions' | 'exitNotifier' | 'faultLines'>,
  ): void;
  /**
   * Complete the supervisor's configuration (before start): the manager it serves and, to
   * restart drivers, its restarter and heartbeat interval.
   */
  prepare(
    manager: ThreadId,
    restart?: Pick<DeviceSupervisorConfig, 'restarter' | 'heartbeatInterval'>,
  ): void;
  /** Every driver restart the supervisor made, in order. */
  readonly supervisorRestarts: readonly DriverRestartRecord[];
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
    const budget = this.budgets.get(from);
    const domain = this.domainOf(from);
    const req = sourceRequest(msg);
    if (req === null || budget === undefined || domain === undefined) {
      this.stats.refused++;
      return { label: MemorySourceStatus.REFUSED, words: [] };
    }
    const { vaddr, bytes } = req;
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
 * Create the root task on `engine` (before it starts): a root-task domain whose threads run in
 * the main thread — the memory source (allocates a fresh physical region per request and maps
 * it into the requester's domain) and the device supervisor (the sim's {@link DeviceSupervisor},
 * holding its own mapping of every supervised driver's register windows).
 */
export function createRootTask(engine: ThreadsEngine, options: RootTaskOptions): ThreadsRootTask {
  const root = engine.createDomain(ROOT_TASK_DOMAIN, { root: true });
  const regions: PhysicalRegion[] = [];
  const source = new ThreadsMemorySource((domain, vaddr, bytes) => {
    let r: { readonly paddr: number; readonly region: PhysicalRegion };
    try {
      r = engine.allocateRegion(bytes);
    } catch {
      return 'no-memory';
    }
    try {
      engine.mapPhysical(domain, vaddr, r.paddr, bytes, RW);
    } catch {
      return 'refused';
    }
    regions.push(r.region);
    return r.paddr;
  }, options.domainOf);
  const sourceId = engine.createThread({
    domain: root,
    name: options.source.name,
    priority: options.source.priority,
    body: (sys) => source.body(sys),
  });
  const drivers: SupervisedDriver[] = [];
  let supervisor: DeviceSupervisor | null = null;
  const supervisorId = engine.createThread({
    domain: root,
    name: options.supervisor.name,
    priority: options.supervisor.priority,
    body: function* (sys: Sys): Generator<KernelCall, void, unknown> {
      yield* supervisor!.body(sys);
    },
  });
  return {
    sourceId,
    supervisorId,
    domain: root,
    budget: (thread, bytes) => source.budget(thread, bytes),
    superviseDriver: (thread, registers, watch) => {
      drivers.push({ thread, registers: [...registers], ...watch });
    },
    get supervisorRestarts() {
      return supervisor?.restarts ?? [];
    },
    get sourceStats() {
      return source.stats;
    },
    get supervisorStats() {
      return supervisor?.stats ?? emptyDeviceSupervisorStats();
    },
    regions,
    prepare: (manager, restart) => {
      supervisor = new DeviceSupervisor({
        manager,
        drivers,
        ackTimeout: options.ackTimeout,
        ...restart,
      });
    },
  };
}
