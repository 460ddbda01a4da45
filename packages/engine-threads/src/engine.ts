/**
 * The threads engine: each protection domain is a `worker_thread`, its threads run there as
 * cooperatively scheduled generators, and IPC goes through shared control blocks without the
 * main thread. The main thread sets the system up, starts and stops the workers, and collects
 * failures.
 *
 * @module
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  EXIT_FAILED,
  EXIT_RETURNED,
  type InterruptLine,
  PENTIUM4_XEON_2_66,
  type Rights,
  rightsBits,
  THREAD_EXIT_LABEL,
  type ThreadBody,
  type ThreadId,
} from '@udf/l4-kernel';
import { CycleClock, sharedNowMs } from './clock.js';
import { type ComponentRef, loadComponent } from './component.js';
import { ControlBlocks, kernelRegionBytes, ThreadState } from './control-blocks.js';
import { CounterBoard, counterBoardBytes } from './counter-board.js';
import { ThreadFailedError, ThreadsEngineError } from './errors.js';
import {
  InterruptTable,
  IRQ_ASSERTED,
  IRQ_DELIVERED,
  IRQ_QUEUED,
  interruptTableBytes,
  MAX_IRQ_LINES,
} from './interrupts.js';
import { IpcPath } from './ipc.js';
import {
  type KernelRequest,
  kernelLinkBytes,
  LINK_FLAG,
  LINK_GEN,
  LINK_RESULT,
  LINK_WORDS,
  type SlowPath,
} from './kernel-link.js';
import { MappingDb, type MappingDbCounters, type MemoryUpdate, PAGE_BYTES } from './mapping-db.js';
import { DomainDevices, DomainMemory } from './memory.js';
import {
  fenceMmioRing,
  MMIO_RING_BYTES,
  markMmioRingDead,
  STATUS_PAGE_BYTES,
} from './mmio-ring.js';
import { FRAME_BYTES, type PhysicalRegion } from './physical-memory.js';
import type {
  DeviceMapping,
  DeviceWorkerData,
  DeviceWorkerReport,
  DomainWorkerData,
  WorkerReport,
} from './protocol.js';
import { DomainScheduler } from './scheduler.js';
import { DEFAULT_WORKER_TIMER_SLACK_NS, withTimerSlack } from './timer-slack.js';
import type { UdpAddress, WireSpec } from './wire.js';

// How long the main thread waits for a control-block lock when it cleans up after a dead worker.
const MAIN_LOCK_TIMEOUT_MS = 500;

/** A domain handle (index) returned by {@link ThreadsEngine.createDomain}. */
export type DomainId = number;

/** Options of a {@link ThreadsEngine}. */
export interface ThreadsEngineOptions {
  /**
   * Clock rate used to convert components' cycles to wall time; default the sim engine's
   * default clock (2.66 GHz), so a timeout of N cycles lasts as many seconds on both engines.
   */
  readonly hz?: number;
  /**
   * The preemption latch (a zero-timeout send to a thread inside an open preemption window
   * makes its next receive return `aborted`). Default true; false exists for negative controls.
   */
  readonly latch?: boolean;
  /** Microseconds a domain spins on its doorbell before it sleeps; default 0 (block at once). */
  readonly spinMicros?: number;
  /**
   * Interrupt lines 0 .. n-1 (each gets an interrupt thread); default 64, at most
   * {@link MAX_IRQ_LINES}. `sys.irq.attach` of a line outside the range fails with `invalid-line`.
   */
  readonly interruptLines?: number;
  /**
   * Microseconds the device worker spins on its doorbell before it waits (default 0). Like
   * {@link ThreadsEngineOptions.spinMicros}: pays only when the worker has a CPU to itself.
   */
  readonly deviceSpinMicros?: number;
  /**
   * Linux timer slack, in ns, the engine's workers are created with (they inherit it): how late
   * a timed sleep may end. Default {@link DEFAULT_WORKER_TIMER_SLACK_NS} (1 µs; Linux's own
   * default is 50 µs); `null` leaves the workers the main thread's slack. Ignored off Linux.
   */
  readonly timerSlackNs?: number | null;
  /** Milliseconds {@link ThreadsEngine.start} waits for every worker to build its components; default 30 000. */
  readonly startTimeoutMs?: number;
  /**
   * Worker script. Default: the built `domain-worker.js` next to this module, or — when this
   * module runs from TypeScript sources (tests) — a bootstrap that registers `tsx` first.
   */
  readonly worker?: {
    readonly url: URL | string;
    readonly entry?: string;
    readonly execArgv?: string[];
  };
}

/** A device handle returned by {@link ThreadsEngine.createDevice}. */
export type DeviceId = number;

/** Options of {@link ThreadsEngine.createDevice}. */
export interface DeviceOptions {
  /** Unique name (wires refer to devices by name). */
  readonly name: string;
  /**
   * The device model, built in the device worker: `module`'s export `export` is a factory
   * `(host: DeviceHost, config) => MmioDevice & { port?: WirePort }` (e.g. a `Dp83820`).
   */
  readonly component: ComponentRef;
  /** Bytes of the register window; default 4096. */
  readonly mmioBytes?: number;
  /** How its wire port is connected; default not at all. */
  readonly wire?: WireSpec;
}

interface DeviceRecord extends DeviceOptions {
  /** One MMIO ring per domain the device is mapped into (each ring has one producer). */
  readonly rings: SharedArrayBuffer[];
  /** The device's status page (clear-on-read status words, see `mmio-ring.ts`). */
  readonly status: SharedArrayBuffer;
  readonly mappedIn: DomainId[];
}

/** Options of {@link ThreadsEngine.createDomain}. */
export interface DomainOptions {
  /**
   * A root-task domain: its threads run in the MAIN thread (on an asynchronous scheduler that
   * waits with `Atomics.waitAsync` on the domain's doorbell), so they may be closures
   * ({@link ThreadOptions.body}) with access to the engine's privileged calls
   * ({@link ThreadsEngine.allocateRegion}, {@link ThreadsEngine.mapPhysical},
   * {@link ThreadsEngine.threadInfo}) — the sigma0 / memory-source and device-supervisor roles.
   * Default false.
   */
  readonly root?: boolean;
}

/** Options of {@link ThreadsEngine.createThread}. */
export interface ThreadOptions {
  /** The domain (worker) the thread runs in. */
  readonly domain: DomainId;
  /** Name for failures and reports. */
  readonly name: string;
  /** Priority 0–255 in the domain's ready queue (higher first); default 100. */
  readonly priority?: number;
  /** The component that provides the thread body (required unless {@link ThreadOptions.body} is given). */
  readonly component?: ComponentRef;
  /** The thread body itself: only in a root-task domain (see {@link DomainOptions.root}). */
  readonly body?: ThreadBody;
  /**
   * The thread's pager: a `sys.mem.access` to a page the thread's domain has not mapped (or
   * not with the rights needed) sends it a page-fault IPC. Default none (the access fails
   * with `no-pager`).
   */
  readonly pager?: ThreadId;
}

/** The state of a thread as its control block says. */
export type ThreadStateName =
  | 'inactive'
  | 'running'
  | 'send-blocked'
  | 'receive-blocked'
  | 'done'
  | 'dead'
  | 'transferring';

/** What {@link ThreadsEngine.threadInfo} tells about a thread. */
export interface ThreadsThreadInfo {
  /** The thread id. */
  readonly id: ThreadId;
  /** Its name. */
  readonly name: string;
  /** Its domain (named `space` as in the sim kernel's `ThreadInfo`). */
  readonly space: DomainId;
  /** Its state. */
  readonly state: ThreadStateName;
}

const STATE_NAMES: ThreadStateName[] = [
  'inactive',
  'running',
  'send-blocked',
  'receive-blocked',
  'done',
  'dead',
  'transferring',
];

interface DomainRecord {
  readonly name: string;
  readonly root: boolean;
  /** A root domain's page table (main thread). */
  memory: DomainMemory | null;
  /** A root domain's scheduler, until it has returned. */
  run: Promise<void> | null;
  readonly threads: { id: number; priority: number; component: ComponentRef; pager: number }[];
  readonly devices: DeviceMapping[];
  /** The main thread's end of the domain's memory port (page-table updates). */
  memoryPort: MessagePort | null;
  worker: Worker | null;
  /** Settles when the worker has exited. */
  exited: Promise<void> | null;
  stopped: boolean;
  /** Its worker is being terminated on purpose ({@link ThreadsEngine.stopThread}): no exit notices. */
  terminating: boolean;
  /** Why the worker failed (its `error` event), reported when it has exited. */
  error: { message: string; stack?: string } | null;
  counters: Readonly<Record<string, number>> | null;
}

interface ThreadRecord {
  readonly name: string;
  readonly domain: DomainId;
  exited: boolean;
  /** An exit notifier of the engine (no domain of its own; never runs). */
  readonly kernel?: boolean;
  /** Its exit notifier, if supervised ({@link ThreadsEngine.superviseThread}). */
  notifier?: ThreadId;
  /** Its supervisor, if supervised. */
  supervisor?: ThreadId;
}

/** Domain index of the engine's exit notifiers in a {@link ThreadRecord} (placed with the interrupt threads). */
const KERNEL_DOMAIN = -1;

function defaultWorker(name = 'domain-worker'): {
  url: URL;
  entry?: string;
  execArgv?: string[];
} {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return {
      url: new URL('../test/ts-worker.mjs', here),
      entry: new URL(`./${name}.ts`, here).href,
      execArgv: ['--conditions=@udf/source'],
    };
  }
  return { url: new URL(`./${name}.js`, here) };
}

/**
 * The threads engine.
 *
 * @example
 * ```ts
 * const engine = new ThreadsEngine();
 * const a = engine.createDomain('client');
 * const b = engine.createDomain('server');
 * const server = engine.createThread({ domain: b, name: 'pong',
 *   component: { module: pongUrl, export: 'pong' } });
 * engine.createThread({ domain: a, name: 'ping',
 *   component: { module: pingUrl, export: 'ping', config: { server } } });
 * await engine.start();
 * await engine.join(undefined, 10_000);
 * await engine.stop();
 * ```
 */
export class ThreadsEngine {
  /** Clock rate in Hz seen by components. */
  readonly hz: number;
  private readonly options: ThreadsEngineOptions;
  private readonly domainList: DomainRecord[] = [];
  private readonly threadList: (ThreadRecord | undefined)[] = [undefined];
  private readonly failureList: ThreadFailedError[] = [];
  private blocks: ControlBlocks | null = null;
  private ipc: IpcPath | null = null;
  private irq: InterruptTable | null = null;
  /** Every domain's counters, published by its scheduler while it runs (null before start). */
  private board: CounterBoard | null = null;
  private readonly irqLines: number;
  private readonly deviceList: DeviceRecord[] = [];
  private readonly physical: PhysicalRegion[] = [];
  private nextPaddr = 0x10_0000; // 1 MiB: low memory stays unbacked, so 0 is never a valid DMA address
  private readonly deviceBell = new SharedArrayBuffer(4);
  private deviceWorker: Worker | null = null;
  private deviceExited: Promise<void> | null = null;
  private wireAddresses: Readonly<Record<string, UdpAddress>> = {};
  private deviceCounterValues: Readonly<Record<string, number>> | null = null;
  private deviceFailure: string | null = null;
  private phase: 'setup' | 'running' | 'stopped' = 'setup';
  private readonly db = new MappingDb();

  /** Start a worker running `w` with `data` and `port`, at the engine's timer slack. */
  private newWorker(
    w: { readonly url: URL | string; readonly execArgv?: string[] },
    data: unknown,
    port: MessagePort,
  ): Worker {
    const ns = this.options.timerSlackNs;
    const slack = ns === null ? undefined : (ns ?? DEFAULT_WORKER_TIMER_SLACK_NS);
    return withTimerSlack(
      slack,
      () =>
        new Worker(w.url, {
          workerData: data,
          ...(w.execArgv === undefined ? {} : { execArgv: w.execArgv }),
          transferList: [port],
        }),
    );
  }
  private link: Int32Array | null = null;
  private badRequests = 0;
  private regionPort: MessagePort | null = null;
  private readonly rootBodies = new Map<ThreadId, ThreadBody>();
  /** The slow path as the main thread's own (root-task) threads use it: direct calls. */
  private readonly mainSlow: SlowPath = {
    transfer: (from, to, items, windowBase, windowLog2) => {
      const b = this.blocks!;
      this.db.transfer(b.domainOf(from), b.domainOf(to), items, windowBase, windowLog2);
      this.publishMemory();
    },
    unmap: (self, fpage, flush) => {
      const n = this.db.unmap(this.blocks!.domainOf(self), fpage, flush);
      this.publishMemory();
      return n;
    },
  };
  private waiters: (() => void)[] = [];
  /** Settles when the engine has cleaned up after the last worker it terminated. */
  private recovery: Promise<void> | null = null;
  private epochMs = 0;
  private readonly supervisedFailureList: ThreadFailedError[] = [];
  private readonly restartCounters = {
    exitNotices: 0,
    workersTerminated: 0,
    threadsRestarted: 0,
    locksRecovered: 0,
  };

  /** @param options - see {@link ThreadsEngineOptions} */
  constructor(options: ThreadsEngineOptions = {}) {
    const hz = options.hz ?? PENTIUM4_XEON_2_66.hz;
    if (!(hz > 0) || !Number.isFinite(hz)) {
      throw new ThreadsEngineError('CONFIG', `hz must be a positive number, got ${hz}`);
    }
    for (const [name, spin] of [
      ['spinMicros', options.spinMicros ?? 0],
      ['deviceSpinMicros', options.deviceSpinMicros ?? 0],
    ] as const) {
      if (!(spin >= 0) || !Number.isFinite(spin)) {
        throw new ThreadsEngineError('CONFIG', `${name} must be >= 0, got ${spin}`);
      }
    }
    const lines = options.interruptLines ?? 64;
    if (!Number.isInteger(lines) || lines < 0 || lines > MAX_IRQ_LINES) {
      throw new ThreadsEngineError(
        'CONFIG',
        `interruptLines must be an integer 0-${MAX_IRQ_LINES}, got ${lines}`,
      );
    }
    this.hz = hz;
    this.options = options;
    this.irqLines = lines;
  }

  /**
   * The shared kernel state other workers need to take part (a device worker raising interrupt
   * lines): the kernel region and the interrupt table. Plain data; valid after
   * {@link ThreadsEngine.start}.
   *
   * @throws {@link ThreadsEngineError} `STATE` before start
   */
  get shared(): {
    readonly kernel: SharedArrayBuffer;
    readonly irqTable: SharedArrayBuffer | null;
  } {
    if (this.blocks === null) throw new ThreadsEngineError('STATE', 'engine not started');
    return { kernel: this.blocks.buffer, irqTable: this.irq?.buffer ?? null };
  }

  /** The interrupt table as the main thread sees it (null before start or without lines). */
  get interrupts(): InterruptTable | null {
    return this.irq;
  }

  /**
   * Interrupt line `line` as a device drives it (raise/lower from the main thread).
   *
   * @throws {@link ThreadsEngineError} `STATE` before start, `CONFIG` for a line out of range
   */
  interruptLine(line: number): InterruptLine {
    const irq = this.irq;
    if (irq === null) throw new ThreadsEngineError('STATE', 'engine not started');
    if (!Number.isInteger(line) || line < 0 || line >= irq.lines) {
      throw new ThreadsEngineError('CONFIG', `no interrupt line ${line}`);
    }
    return { number: line, raise: () => irq.raise(line), lower: () => irq.lower(line) };
  }

  /**
   * Failures so far: threads whose body threw, whose component did not load, or whose domain
   * worker died — except supervised threads (see {@link ThreadsEngine.supervisedFailures}).
   */
  get failures(): readonly ThreadFailedError[] {
    return this.failureList;
  }

  /** Failures of supervised threads: their supervisor was told, the run went on. */
  get supervisedFailures(): readonly ThreadFailedError[] {
    return this.supervisedFailureList;
  }

  /**
   * Counters of supervision and restart: exit notices sent, workers terminated by
   * {@link ThreadsEngine.stopThread}, threads restarted, control-block locks recovered from
   * terminated workers.
   */
  get restartStats(): Readonly<{
    exitNotices: number;
    workersTerminated: number;
    threadsRestarted: number;
    locksRecovered: number;
  }> {
    return { ...this.restartCounters };
  }

  /**
   * Every started domain's counters, by domain name, readable at any time — while the workers
   * run, too. A running domain's are the values its scheduler last published (it does so
   * whenever it goes to sleep, every 64 steps while busy, and when it returns), read as a
   * consistent snapshot from shared memory: `calls`, `sleeps`, `racedSleeps`, `badItems`,
   * `unmaps`, `unsupportedIrq`, `badWords`, `badCalls` (its scheduler, see
   * {@link SchedulerCounters}) and `messages`, `latched`, `missedSends` (its IPC path, see
   * {@link IpcCounters}), `mmioReads`, `mmioSleptReads`, `mmioWrites`, `mmioStatusReads` (its device
   * register windows: reads, reads that had to sleep for the device worker's answer, posted
   * writes, reads served from a device's status word without waiting; see
   * {@link MmioWindowCounters}). A domain whose scheduler has returned reports its final values and
   * `how` (1: its threads were done, 0: stopped). A restarted domain's counters start again
   * from zero with its new worker. Empty before {@link ThreadsEngine.start}; a domain without
   * threads has none. Each call reads afresh (a new object; the workers are not disturbed).
   */
  get counters(): Readonly<Record<string, Readonly<Record<string, number>>>> {
    const out: Record<string, Readonly<Record<string, number>>> = {};
    const board = this.board;
    this.domainList.forEach((d, i) => {
      if (d.counters !== null) out[d.name] = d.counters;
      else if (board !== null && d.threads.length > 0) out[d.name] = board.read(i);
    });
    return out;
  }

  /**
   * One domain's counters now (see {@link ThreadsEngine.counters}), or null before
   * {@link ThreadsEngine.start} or if the domain has no threads.
   *
   * @throws {@link ThreadsEngineError} `NO_SUCH_DOMAIN`
   */
  domainCounters(domain: DomainId): Readonly<Record<string, number>> | null {
    const d = this.domain(domain);
    if (d.counters !== null) return d.counters;
    if (this.board === null || d.threads.length === 0) return null;
    return this.board.read(domain);
  }

  /**
   * Create a protection domain (one worker), or with `{ root: true }` a root-task domain whose
   * threads run in the main thread (see {@link DomainOptions}).
   *
   * @throws {@link ThreadsEngineError} `STATE` after {@link ThreadsEngine.start}
   */
  createDomain(name: string, options: DomainOptions = {}): DomainId {
    this.requireSetup();
    this.domainList.push({
      name,
      root: options.root === true,
      memory: null,
      run: null,
      threads: [],
      memoryPort: null,
      devices: [],
      worker: null,
      exited: null,
      stopped: false,
      terminating: false,
      error: null,
      counters: null,
    });
    return this.domainList.length - 1;
  }

  /**
   * Create a thread in a domain; its id is valid at once (put it in other components' config).
   *
   * @throws {@link ThreadsEngineError} `NO_SUCH_DOMAIN`, `CONFIG` (bad priority or reference), `STATE`
   */
  createThread(options: ThreadOptions): ThreadId {
    this.requireSetup();
    const d = this.domain(options.domain);
    const priority = options.priority ?? 100;
    if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
      throw new ThreadsEngineError('CONFIG', `priority must be an integer 0-255, got ${priority}`);
    }
    const body = options.body;
    if (body !== undefined && (typeof body !== 'function' || !d.root)) {
      throw new ThreadsEngineError(
        'CONFIG',
        `thread ${options.name}: a body function is allowed only in a root-task domain`,
      );
    }
    const c = options.component ?? (body === undefined ? undefined : { module: '', export: '' });
    if (
      c === null ||
      typeof c !== 'object' ||
      typeof c.module !== 'string' ||
      typeof c.export !== 'string'
    ) {
      throw new ThreadsEngineError(
        'CONFIG',
        `thread ${options.name}: component needs module and export strings`,
      );
    }
    if (!d.root) {
      try {
        structuredClone(c.config);
      } catch (e) {
        throw new ThreadsEngineError(
          'CONFIG',
          `thread ${options.name}: component config is not structured-clone-safe (${(e as Error).message})`,
        );
      }
    }
    const pager = options.pager ?? 0;
    if (!Number.isInteger(pager) || pager < 0) {
      throw new ThreadsEngineError('CONFIG', `thread ${options.name}: pager must be a thread id`);
    }
    const id = this.threadList.length;
    this.threadList.push({ name: options.name, domain: options.domain, exited: false });
    d.threads.push({ id, priority, component: c, pager });
    if (body !== undefined) this.rootBodies.set(id, body);
    return id;
  }

  /**
   * Grant a region to a domain at `vaddr`: `sys.mem.access` in that domain's threads returns
   * views over it. A domain can reach only memory granted to it. A physical region (from
   * {@link ThreadsEngine.createRegion}) also has physical addresses (`sys.mem.translate`).
   *
   * @throws {@link ThreadsEngineError} `NO_SUCH_DOMAIN`, `CONFIG` (bad address or empty region), `OVERLAP`, `STATE`
   */
  grantRegion(domain: DomainId, vaddr: number, memory: SharedArrayBuffer | PhysicalRegion): void {
    this.requireSetup();
    this.domain(domain);
    let paddr: number | null = null;
    let region: unknown = memory;
    if (!(memory instanceof SharedArrayBuffer) && memory !== null && typeof memory === 'object') {
      const known = this.physical.find((p) => p.buffer === memory.buffer);
      if (known === undefined || known.paddr !== memory.paddr) {
        throw new ThreadsEngineError('CONFIG', 'not a physical region of this engine');
      }
      paddr = known.paddr;
      region = known.buffer;
    } else {
      paddr = this.physical.find((p) => p.buffer === memory)?.paddr ?? null;
    }
    if (!Number.isInteger(vaddr) || vaddr < 0 || vaddr % PAGE_BYTES !== 0) {
      throw new ThreadsEngineError(
        'CONFIG',
        `region address must be a page-aligned non-negative integer, got ${vaddr}`,
      );
    }
    if (!(region instanceof SharedArrayBuffer) || region.byteLength === 0) {
      throw new ThreadsEngineError('CONFIG', 'a region must be a non-empty SharedArrayBuffer');
    }
    this.mapRootChecked(domain, vaddr, region, paddr, region.byteLength, 6);
  }

  private mapRootChecked(
    domain: DomainId,
    vaddr: number,
    buffer: SharedArrayBuffer,
    paddr: number | null,
    bytes: number,
    bits: number,
  ): void {
    const d = this.domain(domain);
    const pages = Math.ceil(bytes / PAGE_BYTES);
    if (vaddr + pages * PAGE_BYTES > 2 ** 32) {
      throw new ThreadsEngineError('CONFIG', `mapping at ${vaddr} ends beyond 4 GiB`);
    }
    const end = vaddr + pages * PAGE_BYTES;
    if (this.db.anyMapped(domain, vaddr / PAGE_BYTES, pages)) {
      throw new ThreadsEngineError('OVERLAP', `memory at ${vaddr} overlaps a mapping in ${d.name}`);
    }
    for (const m of d.devices) {
      if (vaddr < m.vaddr + m.size && m.vaddr < end) {
        throw new ThreadsEngineError(
          'OVERLAP',
          `memory at ${vaddr} overlaps a register window in ${d.name}`,
        );
      }
    }
    const id = this.db.addRegion(buffer, paddr);
    this.db.mapRoot(domain, vaddr / PAGE_BYTES, id, 0, pages, bits);
  }

  /**
   * Map fresh zeroed memory at `vaddr` in a domain (privileged; the sim's `mapAnonymous`):
   * a new physical region of `bytes` rounded up to pages, mapped with `rights` as roots of
   * the mapping tree (pages mapped or granted on from there are derived from them).
   *
   * @returns the new region
   * @throws {@link ThreadsEngineError} `NO_SUCH_DOMAIN`, `CONFIG` (bad address or size), `OVERLAP`, `STATE`
   */
  mapAnonymous(domain: DomainId, vaddr: number, bytes: number, rights: Rights): PhysicalRegion {
    this.requireSetup();
    this.domain(domain);
    if (!Number.isInteger(vaddr) || vaddr < 0 || vaddr % PAGE_BYTES !== 0) {
      throw new ThreadsEngineError('CONFIG', `address must be page-aligned, got ${vaddr}`);
    }
    if (
      !Number.isInteger(bytes) ||
      bytes <= 0 ||
      this.db.anyMapped(domain, vaddr / PAGE_BYTES, Math.ceil(bytes / PAGE_BYTES))
    ) {
      throw new ThreadsEngineError('OVERLAP', `bad or overlapping anonymous mapping at ${vaddr}`);
    }
    const r = this.createRegion(bytes);
    this.mapRootChecked(domain, vaddr, r.buffer, r.paddr, r.buffer.byteLength, rightsBits(rights));
    return r;
  }

  /**
   * Whether a domain's worker has been handed a region's buffer (by setup or by a mapping that
   * reached it). A worker keeps every buffer it was handed: unmap revokes pages, not buffers.
   */
  holds(domain: DomainId, region: PhysicalRegion | SharedArrayBuffer): boolean {
    this.domain(domain);
    const buffer = region instanceof SharedArrayBuffer ? region : region.buffer;
    const r = this.db.regionOf(buffer);
    return r !== undefined && this.db.holds(domain, r.id);
  }

  /** Counters of the kernel's mapping database (pages transferred, unheld item pages, revoked). */
  get mappingCounters(): Readonly<MappingDbCounters & { badRequests: number }> {
    return { ...this.db.counters, badRequests: this.badRequests };
  }

  /**
   * Create a region of physical memory: a `SharedArrayBuffer` of `bytes` (rounded up to whole
   * frames) at a fresh frame-aligned physical address, in the frame table the device worker
   * resolves DMA addresses with. Grant it to domains with {@link ThreadsEngine.grantRegion};
   * `sys.mem.translate` there returns its physical addresses.
   *
   * @throws {@link ThreadsEngineError} `CONFIG` for a bad size, `STATE` after start
   */
  createRegion(bytes: number): PhysicalRegion {
    this.requireSetup();
    return this.newRegion(bytes);
  }

  private newRegion(bytes: number): PhysicalRegion {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > 2 ** 30) {
      throw new ThreadsEngineError('CONFIG', `region size must be 1 B - 1 GiB, got ${bytes}`);
    }
    const size = Math.ceil(bytes / FRAME_BYTES) * FRAME_BYTES;
    const r: PhysicalRegion = { paddr: this.nextPaddr, buffer: new SharedArrayBuffer(size) };
    // one unbacked guard frame between regions: a DMA run off the end faults instead of landing next door
    this.nextPaddr += size + FRAME_BYTES;
    this.physical.push(r);
    this.db.addRegion(r.buffer, r.paddr);
    // the device worker takes it from its region port when an address first misses
    this.regionPort?.postMessage(r);
    return r;
  }

  // ------------------------------------------------------------------ privileged (root task)

  /**
   * Allocate a new physical region at any time (setup or run time; the sim kernel's
   * `allocateRegion`): its own `SharedArrayBuffer` of `bytes` rounded up to frames, at a fresh
   * physical address, handed to the device worker before this returns (so DMA to it works
   * once a domain knows its address). For root-task threads (memory source).
   *
   * @throws {@link ThreadsEngineError} `CONFIG` for a bad size, `STATE` after stop
   */
  allocateRegion(bytes: number): { readonly paddr: number; readonly region: PhysicalRegion } {
    if (this.phase === 'stopped') throw new ThreadsEngineError('STATE', 'engine stopped');
    const region = this.newRegion(bytes);
    return { paddr: region.paddr, region };
  }

  /**
   * Map physical memory into a domain (`space`) as roots of the mapping tree, at any time (the
   * sim kernel's `mapPhysical`, sigma0's role). What was mapped there is revoked first. At run
   * time the domain's worker gets the change (and the region, if it lacks it) before its next
   * memory access after this returns.
   *
   * @throws {@link ThreadsEngineError} `NO_SUCH_DOMAIN`, `CONFIG` (not page-aligned, or not inside one physical region), `STATE` after stop
   */
  mapPhysical(space: DomainId, vaddr: number, paddr: number, bytes: number, rights: Rights): void {
    if (this.phase === 'stopped') throw new ThreadsEngineError('STATE', 'engine stopped');
    this.domain(space);
    for (const [what, x] of [
      ['vaddr', vaddr],
      ['paddr', paddr],
      ['bytes', bytes],
    ] as const) {
      if (!Number.isInteger(x) || x < 0 || x % PAGE_BYTES !== 0) {
        throw new ThreadsEngineError('CONFIG', `${what} ${x} is not page-aligned`);
      }
    }
    if (bytes === 0 || vaddr + bytes > 2 ** 32) {
      throw new ThreadsEngineError('CONFIG', `bad mapping size ${bytes} at ${vaddr}`);
    }
    const p = this.physical.find(
      (r) => paddr >= r.paddr && paddr + bytes <= r.paddr + r.buffer.byteLength,
    );
    if (p === undefined) {
      throw new ThreadsEngineError('CONFIG', `physical range ${paddr}+${bytes} is not one region`);
    }
    const id = this.db.addRegion(p.buffer, p.paddr);
    const pages = bytes / PAGE_BYTES;
    this.db.mapRoot(
      space,
      vaddr / PAGE_BYTES,
      id,
      (paddr - p.paddr) / PAGE_BYTES,
      pages,
      rightsBits(rights),
    );
    if (this.phase === 'running') this.publishMemory();
  }

  /** A thread's name, domain (`space`) and state, or null for an unknown id (the sim kernel's `threadInfo`). */
  threadInfo(id: ThreadId): ThreadsThreadInfo | null {
    const t = this.threadList[id];
    if (t === undefined || !Number.isInteger(id)) return null;
    const state: ThreadStateName =
      this.blocks === null ? 'inactive' : STATE_NAMES[this.blocks.state(id)]!;
    return { id, name: t.name, space: t.domain, state };
  }

  /**
   * Add a device model to the device worker ("hardware"). Its register window reaches a
   * domain only through {@link ThreadsEngine.mapDevice}.
   *
   * @throws {@link ThreadsEngineError} `CONFIG` (bad reference, size or duplicate name), `STATE`
   */
  createDevice(options: DeviceOptions): DeviceId {
    this.requireSetup();
    const c = options.component;
    if (
      c === null ||
      typeof c !== 'object' ||
      typeof c.module !== 'string' ||
      typeof c.export !== 'string'
    ) {
      throw new ThreadsEngineError(
        'CONFIG',
        `device ${options.name}: component needs module and export strings`,
      );
    }
    const size = options.mmioBytes ?? 4096;
    if (!Number.isInteger(size) || size < 4 || size % 4 !== 0) {
      throw new ThreadsEngineError(
        'CONFIG',
        `device ${options.name}: mmioBytes must be a positive multiple of 4`,
      );
    }
    if (this.deviceList.some((d) => d.name === options.name)) {
      throw new ThreadsEngineError('CONFIG', `device name ${options.name} used twice`);
    }
    const w = options.wire;
    if (w !== undefined && w.kind !== 'udp' && w.kind !== 'link') {
      throw new ThreadsEngineError('CONFIG', `device ${options.name}: unknown wire kind`);
    }
    this.deviceList.push({
      ...options,
      mmioBytes: size,
      rings: [],
      status: new SharedArrayBuffer(STATUS_PAGE_BYTES),
      mappedIn: [],
    });
    return this.deviceList.length - 1;
  }

  /**
   * Map a device's register window into a domain at `vaddr`: `sys.mem.registers(vaddr)` there
   * returns it. A device may be mapped into several domains (a driver and a device
   * supervisor); each mapping gets its own MMIO ring (one producer each), which the device
   * worker drains in turn: accesses through one mapping stay in order, accesses through two
   * are ordered as two CPUs' would be (not at all).
   *
   * @throws {@link ThreadsEngineError} `CONFIG` (unknown device, bad address, already mapped in this domain), `OVERLAP`, `STATE`
   */
  mapDevice(domain: DomainId, device: DeviceId, vaddr: number): void {
    this.requireSetup();
    const d = this.domain(domain);
    const dev = this.deviceList[device];
    if (dev === undefined) throw new ThreadsEngineError('CONFIG', `no device ${device}`);
    if (dev.mappedIn.includes(domain)) {
      throw new ThreadsEngineError('CONFIG', `device ${dev.name} is already mapped into ${d.name}`);
    }
    if (!Number.isInteger(vaddr) || vaddr < 0 || vaddr % 4 !== 0) {
      throw new ThreadsEngineError(
        'CONFIG',
        `register window address must be a word-aligned integer, got ${vaddr}`,
      );
    }
    const size = dev.mmioBytes!;
    const first = Math.floor(vaddr / PAGE_BYTES);
    if (this.db.anyMapped(domain, first, Math.floor((vaddr + size - 1) / PAGE_BYTES) - first + 1)) {
      throw new ThreadsEngineError(
        'OVERLAP',
        `register window at ${vaddr} overlaps memory mapped in ${d.name}`,
      );
    }
    for (const [a, n] of d.devices.map((m) => [m.vaddr, m.size])) {
      if (vaddr < a! + n! && a! < vaddr + size) {
        throw new ThreadsEngineError(
          'OVERLAP',
          `register window at ${vaddr} overlaps a mapping at ${a} in ${d.name}`,
        );
      }
    }
    dev.mappedIn.push(domain);
    const ring = new SharedArrayBuffer(MMIO_RING_BYTES);
    dev.rings.push(ring);
    d.devices.push({ vaddr, size, ring, bell: this.deviceBell, status: dev.status });
  }

  /**
   * The local address each UDP wire is bound to, by device name (after start).
   */
  get wires(): Readonly<Record<string, UdpAddress>> {
    return this.wireAddresses;
  }

  /**
   * Why the device worker failed or exited while the engine was running (null: it did not).
   * Devices are not restarted.
   */
  get deviceError(): string | null {
    return this.deviceFailure;
  }

  /** The device worker's counters once it has stopped (null before). */
  get deviceCounters(): Readonly<Record<string, number>> | null {
    return this.deviceCounterValues;
  }

  private async startDevices(
    blocks: ControlBlocks,
    irq: InterruptTable | null,
    epochMs: number,
  ): Promise<void> {
    if (this.deviceList.length === 0) return;
    const w = defaultWorker('device-worker');
    const channel = new MessageChannel();
    this.regionPort = channel.port1;
    const data: DeviceWorkerData = {
      regionPort: channel.port2,
      entry: w.entry,
      kernel: blocks.buffer,
      irqTable: irq?.buffer ?? null,
      hz: this.hz,
      epochMs,
      spinMicros: this.options.deviceSpinMicros ?? 0,
      bell: this.deviceBell,
      regions: this.physical,
      devices: this.deviceList.map((d) => ({
        name: d.name,
        component: d.component,
        rings: d.rings,
        status: d.status,
        ...(d.wire === undefined ? {} : { wire: d.wire }),
      })),
    };
    const worker = this.newWorker(w, data, channel.port2);
    this.deviceWorker = worker;
    this.deviceExited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: DeviceWorkerReport) => {
        if (m.type === 'ready') {
          this.wireAddresses = m.addresses;
          resolve();
        } else if (m.type === 'stopped') this.deviceCounterValues = m.counters;
        else {
          this.deviceFailure ??= m.message;
          reject(new ThreadsEngineError('STATE', `device worker failed: ${m.message}`));
        }
      });
      worker.on('error', (e) => {
        this.deviceFailure ??= e.message;
        reject(e);
      });
      worker.on('exit', (code) => {
        if (this.phase !== 'stopped') {
          this.deviceFailure ??= `device worker exited with code ${code}`;
        }
        // its devices are gone: a domain waiting for a register read gets all ones
        for (const d of this.deviceList) for (const r of d.rings) markMmioRingDead(r);
        reject(new ThreadsEngineError('STATE', 'device worker exited before it was ready'));
      });
    });
  }

  /**
   * Lay out the control blocks, start one worker per domain that has threads, wait until each
   * has built its components, then let them run.
   *
   * @throws {@link ThreadsEngineError} `STATE` if already started, `TIMEOUT` if a worker does not report ready in time
   */
  async start(): Promise<void> {
    this.requireSetup();
    this.phase = 'running';
    // interrupt threads (and exit notifiers) are in a domain of their own with no worker
    // (ringing its doorbell wakes nobody)
    const irqDomain = this.domainList.length;
    const domainOf: number[] = [0];
    for (let id = 1; id < this.threadList.length; id++) {
      const d = this.threadList[id]!.domain;
      domainOf.push(d === KERNEL_DOMAIN ? irqDomain : d);
    }
    // interrupt threads follow the components' threads
    const irqBase = this.threadList.length;
    for (let l = 0; l < this.irqLines; l++) domainOf.push(irqDomain);
    const threads = domainOf.length - 1;
    const domains = this.domainList.length + 1;
    const blocks = new ControlBlocks(new SharedArrayBuffer(kernelRegionBytes(threads, domains)), {
      threads,
      domains,
      domainOf,
    });
    blocks.lockTimeoutMs = MAIN_LOCK_TIMEOUT_MS;
    this.blocks = blocks;
    const irqTable =
      this.irqLines === 0
        ? null
        : new InterruptTable(blocks, new SharedArrayBuffer(interruptTableBytes(this.irqLines)), {
            lines: this.irqLines,
            base: irqBase,
          });
    this.irq = irqTable;
    this.ipc = new IpcPath(blocks, this.options.latch ?? true, irqTable);
    const epochMs = sharedNowMs();
    this.epochMs = epochMs;
    const link = new SharedArrayBuffer(kernelLinkBytes(domains));
    this.link = new Int32Array(link);
    this.board = new CounterBoard(new SharedArrayBuffer(counterBoardBytes(this.domainList.length)));
    try {
      await this.startDevices(blocks, irqTable, epochMs);
    } catch (e) {
      await this.stop();
      throw e;
    }
    const ready: Promise<void>[] = [];
    const roots: { d: DomainRecord; scheduler: DomainScheduler }[] = [];
    this.domainList.forEach((d, index) => {
      if (d.threads.length === 0) return;
      if (d.root) {
        ready.push(
          this.buildRoot(d, index, irqTable, epochMs).then(
            (s) => void roots.push({ d, scheduler: s }),
          ),
        );
        return;
      }
      ready.push(this.spawn(d, index, d.threads, this.db.takeUpdate(index)));
    });
    const limit = this.options.startTimeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ThreadsEngineError('TIMEOUT', `domains not ready after ${limit} ms`)),
        limit,
      );
    });
    try {
      await Promise.race([Promise.all(ready), timeout]);
    } catch (e) {
      await this.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    for (const d of this.domainList) d.worker?.postMessage('start');
    for (const { d, scheduler } of roots) {
      d.run = scheduler.runAsync().then(
        (how) => {
          d.stopped = true;
          d.counters = {
            ...scheduler.counters,
            ...scheduler.ipcCounters,
            how: how === 'done' ? 1 : 0,
          };
        },
        (e: unknown) => this.domainFailed(d, e instanceof Error ? e.message : String(e)),
      );
    }
  }

  /**
   * Start a worker for domain `d` running `threads`, its page table `memory` (null: empty);
   * settles when it has built its components (it runs once it gets `start`).
   */
  private spawn(
    d: DomainRecord,
    index: number,
    threads: DomainRecord['threads'],
    memory: MemoryUpdate | null,
  ): Promise<void> {
    const w = this.options.worker ?? defaultWorker();
    const blocks = this.blocks!;
    const channel = new MessageChannel();
    d.memoryPort = channel.port1;
    const data: DomainWorkerData = {
      entry: w.entry,
      kernel: blocks.buffer,
      domain: index,
      hz: this.hz,
      epochMs: this.epochMs,
      latch: this.options.latch ?? true,
      spinMicros: this.options.spinMicros ?? 0,
      irqTable: this.irq?.buffer ?? null,
      threads,
      memory: memory ?? { regions: [], set: [], del: [] },
      link: this.link!.buffer as SharedArrayBuffer,
      memoryPort: channel.port2,
      devices: d.devices,
      board: this.board!.buffer,
    };
    const worker = this.newWorker(w, data, channel.port2);
    d.worker = worker;
    d.error = null;
    d.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerReport) => {
        if (d.worker !== worker) return; // a terminated worker's late word
        if (m.type === 'ready') resolve();
        else if (m.type === 'kernel') this.kernelRequest(index, m);
        else this.onReport(d, m);
      });
      worker.on('error', (e) => {
        d.error ??= { message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) };
        reject(e);
      });
      worker.on('exit', (code) => {
        this.workerExited(d, index, worker, code);
        reject(new ThreadsEngineError('STATE', `domain ${d.name} exited before it was ready`));
      });
    });
  }

  /**
   * A domain worker exited. Unless it stopped on request or ran out of threads, its threads
   * died with it: release the control-block locks it held (it may have been terminated inside
   * a locked section), mark its threads dead and fail their partners with
   * `non-existing-partner`; a supervised thread's supervisor gets an exit notice (not when the
   * engine terminated the worker on purpose, {@link ThreadsEngine.stopThread}), any other
   * thread is a `DOMAIN_FAILED` failure.
   */
  private workerExited(d: DomainRecord, index: number, worker: Worker, code: number): void {
    if (d.worker !== worker) return;
    d.worker = null;
    d.memoryPort?.close();
    d.memoryPort = null;
    if (this.phase === 'stopped' || this.blocks === null) return;
    const blocks = this.blocks;
    const on = d.terminating;
    d.terminating = false;
    if (d.stopped && !on) return; // its scheduler returned: nothing was held
    d.stopped = true;
    const message = d.error?.message ?? `worker exited with code ${code}`;
    const stack = d.error?.stack;
    const recovered = blocks.recoverLocks(index + 1);
    this.restartCounters.locksRecovered += recovered.length;
    for (const t of d.threads) {
      const rec = this.threadList[t.id]!;
      let note = '';
      try {
        if (blocks.state(t.id) !== ThreadState.Dead) this.ipc!.kill(t.id);
      } catch (e) {
        // a lock held by another worker that died: its partners cannot be failed cleanly
        note = ` (partners not failed: ${(e as Error).message})`;
      }
      if (rec.exited) continue;
      rec.exited = true;
      if (on) continue; // stopped on purpose: as the sim's kill, no notice
      const f = new ThreadFailedError(
        'DOMAIN_FAILED',
        t.id,
        rec.name,
        d.name,
        message + note,
        stack,
      );
      if (rec.supervisor !== undefined) {
        this.supervisedFailureList.push(f);
        this.notifyExit(t.id, EXIT_FAILED);
      } else this.failureList.push(f);
    }
    try {
      this.ipc?.failTransfers(new Set(d.threads.map((t) => t.id)));
    } catch {
      // a lock held by another dead worker: those partners cannot be failed cleanly (as above)
    }
    this.notifyWaiters();
  }

  /** Send thread `id`'s supervisor its exit notice from its notifier (one pending at a time). */
  private notifyExit(id: ThreadId, how: number): void {
    const rec = this.threadList[id]!;
    const n = rec.notifier;
    const ipc = this.ipc;
    if (n === undefined || rec.supervisor === undefined || ipc === null) return;
    if (ipc.blocks.state(n) === ThreadState.SendBlocked) return; // one already waits
    this.restartCounters.exitNotices++;
    ipc.send(n, rec.supervisor, THREAD_EXIT_LABEL, [id, how], Number.POSITIVE_INFINITY, false, 0);
  }

  // ------------------------------------------------------------------ supervision and restart

  /**
   * Supervise a thread (the sim kernel's `superviseThread`, L4's exception handler for death):
   * when its body returns or throws, or its domain worker exits or fails, the run goes on —
   * no entry in {@link ThreadsEngine.failures} — its partners get `non-existing-partner`, and
   * `handler` receives an IPC from the returned notifier id with label `THREAD_EXIT_LABEL` and
   * words `[thread, how]` (`EXIT_RETURNED` or `EXIT_FAILED`), as on the sim. The handler need
   * not reply. A thread stopped with {@link ThreadsEngine.stopThread} sends no notice.
   *
   * @returns the exit notifier's thread id (the `from` of the notices)
   * @throws {@link ThreadsEngineError} `NO_SUCH_THREAD`, `STATE` after start
   */
  superviseThread(thread: ThreadId, handler: ThreadId): ThreadId {
    this.requireSetup();
    const t = this.thread(thread);
    const h = this.thread(handler);
    if (t.kernel === true || h.kernel === true || thread === handler) {
      throw new ThreadsEngineError('NO_SUCH_THREAD', `cannot supervise ${thread} by ${handler}`);
    }
    t.supervisor = handler;
    if (t.notifier === undefined) {
      t.notifier = this.threadList.length;
      this.threadList.push({
        name: `exit-${t.name}`,
        domain: KERNEL_DOMAIN,
        exited: true,
        kernel: true,
      });
    }
    return t.notifier;
  }

  /**
   * Stop a thread by terminating its domain's worker (`worker.terminate()`) — a hung driver
   * cannot be stopped any other way. Its domain's device windows are fenced at once (what it
   * posted and the device has not executed is dropped); once the worker has exited, the
   * control-block locks it died holding are released, its threads are dead and their partners
   * get `non-existing-partner`. Root-task threads' next kernel calls wait for that cleanup.
   * No exit notice is sent. Nothing if the thread's worker is already gone.
   *
   * Every other live thread of the domain dies with it, so this is refused for a domain that
   * has live unsupervised threads (a driver embedded with its client's stack).
   *
   * @throws {@link ThreadsEngineError} `CONFIG` (a root-task thread, or a domain shared with live unsupervised threads), `STATE` before start
   */
  stopThread(thread: ThreadId): void {
    if (this.phase !== 'running') throw new ThreadsEngineError('STATE', 'engine not running');
    const t = this.thread(thread);
    const d = this.restartable(t);
    const worker = d.worker;
    if (worker === null || d.terminating) return;
    d.terminating = true;
    for (const m of d.devices) fenceMmioRing(m.ring, true);
    this.restartCounters.workersTerminated++;
    const exited = d.exited ?? Promise.resolve();
    void worker.terminate();
    const prior = this.recovery;
    const done: Promise<void> = Promise.all([prior, exited]).then(() => {
      if (this.recovery === done) this.recovery = null;
    });
    this.recovery = done;
  }

  /**
   * Restart a thread with the same id (the sim kernel's `restartThread`): a live one is stopped
   * first ({@link ThreadsEngine.stopThread}); once its domain's worker is gone, a fresh worker
   * for the domain runs just this thread, built from `component` (default: the reference it
   * was created with) — the domain keeps its mappings (the mapping database's view of it) and
   * its device windows. Its partners may name it again at once: until the worker runs it, a
   * send to it blocks (it is inactive).
   *
   * Root-task threads' next kernel calls wait until then (see {@link ThreadsEngine.stopThread}).
   *
   * @returns settles when the fresh worker has built the thread and runs; rejects with
   *   {@link ThreadsEngineError} as {@link ThreadsEngine.stopThread} would throw
   */
  restartThread(thread: ThreadId, component?: ComponentRef): Promise<void> {
    if (this.phase !== 'running') {
      return Promise.reject(new ThreadsEngineError('STATE', 'engine not running'));
    }
    const t = this.thread(thread);
    let d: DomainRecord;
    try {
      d = this.restartable(t);
    } catch (e) {
      return Promise.reject(e);
    }
    const index = t.domain;
    if (d.worker !== null) this.stopThread(thread);
    const prior = this.recovery; // the old worker's cleanup
    const run = (async () => {
      await prior;
      while (d.worker !== null) await d.exited;
      if (this.phase !== 'running') return;
      const blocks = this.blocks!;
      blocks.revive(thread);
      blocks.setHang(index, false);
      for (const m of d.devices) fenceMmioRing(m.ring, false);
      const spec = d.threads.find((x) => x.id === thread)!;
      t.exited = false;
      d.stopped = false;
      d.counters = null;
      this.board!.reset(index);
      this.restartCounters.threadsRestarted++;
      await this.spawn(
        d,
        index,
        [{ ...spec, component: component ?? spec.component }],
        this.db.snapshot(index),
      );
      (d.worker as Worker | null)?.postMessage('start');
    })();
    // root-task threads' next kernel calls wait until the fresh worker runs (as on the sim,
    // where the restart is one step of the supervisor)
    const gate: Promise<void> = run.then(
      () => {},
      () => {},
    );
    this.recovery = gate;
    void gate.then(() => {
      if (this.recovery === gate) this.recovery = null;
    });
    return run;
  }

  /** The domain of a thread that stop/restart may act on. */
  private restartable(t: ThreadRecord): DomainRecord {
    const d = this.domainList[t.domain];
    if (d === undefined || d.root || t.kernel === true) {
      throw new ThreadsEngineError('CONFIG', `thread ${t.name} is not in a domain worker`);
    }
    const others = d.threads.filter((x) => {
      const r = this.threadList[x.id]!;
      return r !== t && !r.exited && r.supervisor === undefined;
    });
    if (others.length > 0) {
      throw new ThreadsEngineError(
        'CONFIG',
        `thread ${t.name} shares domain ${d.name} with live unsupervised threads (${others.map((x) => this.threadList[x.id]!.name).join(', ')}): its worker cannot be replaced`,
      );
    }
    return d;
  }

  /**
   * True if interrupt line `line` has work its handler has not finished: asserted, queued for
   * the handler, or delivered and not acknowledged (the sim kernel's `interruptPending`).
   */
  interruptPending(line: number): boolean {
    const irq = this.irq;
    if (irq === null || !Number.isInteger(line) || line < 0 || line >= irq.lines) return false;
    return (irq.state(line) & (IRQ_ASSERTED | IRQ_QUEUED | IRQ_DELIVERED)) !== 0;
  }

  /**
   * Fault injection: the worker of `thread`'s domain hangs — at its next scheduling step it
   * blocks forever, running none of its threads, without dying (only a supervisor watching a
   * heartbeat can tell; {@link ThreadsEngine.stopThread} ends it).
   *
   * @throws {@link ThreadsEngineError} `CONFIG` for a root-task thread, `STATE` before start
   */
  injectHang(thread: ThreadId): void {
    if (this.phase !== 'running') throw new ThreadsEngineError('STATE', 'engine not running');
    const t = this.thread(thread);
    const d = this.domainList[t.domain];
    if (d === undefined || d.root) {
      throw new ThreadsEngineError('CONFIG', `thread ${t.name} is not in a domain worker`);
    }
    this.blocks!.setHang(t.domain, true);
  }

  /**
   * Fault injection: terminate the worker of `thread`'s domain as if it had crashed
   * (`worker.terminate()`): unlike {@link ThreadsEngine.stopThread}, its supervised threads'
   * supervisors get exit notices (`EXIT_FAILED`).
   *
   * @throws {@link ThreadsEngineError} `CONFIG` for a root-task thread, `STATE` before start
   */
  killWorker(thread: ThreadId): Promise<void> {
    if (this.phase !== 'running') throw new ThreadsEngineError('STATE', 'engine not running');
    const t = this.thread(thread);
    const d = this.domainList[t.domain];
    if (d === undefined || d.root) {
      throw new ThreadsEngineError('CONFIG', `thread ${t.name} is not in a domain worker`);
    }
    d.error ??= { message: 'worker terminated (fault injection)' };
    const exited = d.exited ?? Promise.resolve();
    void d.worker?.terminate();
    return exited;
  }

  /** Build a root-task domain's scheduler in the main thread (its threads are closures or components). */
  private async buildRoot(
    d: DomainRecord,
    index: number,
    irq: InterruptTable | null,
    epochMs: number,
  ): Promise<DomainScheduler> {
    const blocks = this.blocks!;
    const ipc = new IpcPath(blocks, this.options.latch ?? true, irq);
    ipc.slow = this.mainSlow;
    const memory = new DomainMemory(this.db.takeUpdate(index) ?? { regions: [], set: [], del: [] });
    d.memory = memory;
    const scheduler = new DomainScheduler({
      domain: index,
      blocks,
      ipc,
      clock: new CycleClock(this.hz, epochMs),
      memory,
      devices: new DomainDevices(d.devices),
      slow: this.mainSlow,
      gate: () => this.recovery,
      board: this.board!,
      onExit: (id, error) =>
        this.onReport(
          d,
          error === undefined
            ? { type: 'exit', id }
            : {
                type: 'exit',
                id,
                kind: 'THREAD_FAILED',
                message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
                ...(error instanceof Error && error.stack !== undefined
                  ? { stack: error.stack }
                  : {}),
              },
        ),
    });
    for (const t of d.threads) {
      try {
        const body = this.rootBodies.get(t.id) ?? (await loadComponent(t.component));
        scheduler.add(t.id, t.priority, body, t.pager);
      } catch (e) {
        ipc.kill(t.id);
        this.onReport(d, {
          type: 'exit',
          id: t.id,
          kind: 'COMPONENT_LOAD',
          message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
      }
    }
    return scheduler;
  }

  /**
   * Stop every domain: ask its scheduler to stop (it does at its next kernel call or wake-up and
   * reports its counters, see {@link ThreadsEngine.counters}), give the workers `graceMs` to
   * exit, then terminate the rest.
   *
   * @param graceMs - how long to wait for schedulers to stop by themselves (default 1000)
   */
  async stop(graceMs = 1000): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    const blocks = this.blocks;
    this.domainList.forEach((d, index) => {
      d.stopped = true;
      if (blocks !== null) blocks.requestStop(index);
    });
    const exits = this.domainList.flatMap((d) =>
      d.exited !== null ? [d.exited] : d.run !== null ? [d.run] : [],
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(exits),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    await Promise.all(this.domainList.map((d) => d.worker?.terminate()));
    const dw = this.deviceWorker;
    if (dw !== null) {
      dw.postMessage('stop');
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.deviceExited,
        new Promise<void>((resolve) => {
          t = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(t);
      await dw.terminate();
    }
    this.notifyWaiters();
  }

  /**
   * Wait until the given threads (default: all) have exited or failed.
   *
   * @param ids - threads to wait for
   * @param timeoutMs - give up after this long (default: wait forever)
   * @throws {@link ThreadsEngineError} `TIMEOUT` when `timeoutMs` passes first, `STATE` if not started
   */
  async join(ids?: readonly ThreadId[], timeoutMs?: number): Promise<void> {
    if (this.phase === 'setup') throw new ThreadsEngineError('STATE', 'engine not started');
    const list = ids ?? this.threadList.flatMap((t, i) => (i > 0 && t?.kernel !== true ? [i] : []));
    for (const id of list) this.thread(id);
    const done = () => this.phase === 'stopped' || list.every((id) => this.threadList[id]!.exited);
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const check = () => {
        if (!done()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      const waiter = () => {
        if (!check()) this.waiters.push(waiter);
      };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== waiter);
          const left = list.filter((id) => !this.threadList[id]!.exited);
          reject(
            new ThreadsEngineError(
              'TIMEOUT',
              `threads still running after ${timeoutMs} ms: ${left.map((id) => `${this.threadList[id]!.name} (${this.threadState(id)})`).join(', ')}`,
            ),
          );
        }, timeoutMs);
      }
    });
  }

  /**
   * The components' clock: cycles since the engine started, as `sys.now()` reads it in every
   * domain (0 before start).
   */
  now(): number {
    if (this.blocks === null) return 0;
    return (sharedNowMs() - this.epochMs) * (this.hz / 1000);
  }

  /** A thread's state from its control block ('inactive' before start). */
  threadState(id: ThreadId): ThreadStateName {
    this.thread(id);
    if (this.blocks === null) return 'inactive';
    return STATE_NAMES[this.blocks.state(id)]!;
  }

  /** Whether a thread has exited or failed. */
  hasExited(id: ThreadId): boolean {
    return this.thread(id).exited;
  }

  /**
   * Cancel a thread's blocked IPC: it returns `canceled` (L4 ExchangeRegisters).
   *
   * @returns whether the thread was blocked
   */
  cancelIpc(id: ThreadId): boolean {
    return this.interrupt(id, 'canceled');
  }

  /**
   * Abort a thread's blocked IPC: it returns `aborted`.
   *
   * @returns whether the thread was blocked
   */
  abortIpc(id: ThreadId): boolean {
    return this.interrupt(id, 'aborted');
  }

  private interrupt(id: ThreadId, code: 'canceled' | 'aborted'): boolean {
    this.thread(id);
    if (this.ipc === null) throw new ThreadsEngineError('STATE', 'engine not started');
    return this.ipc.interrupt(id, code);
  }

  /**
   * A domain worker's synchronous kernel request (`kernel-link.ts`): update the mapping
   * database, post every changed domain its update and bump its generation, then answer.
   */
  private kernelRequest(domain: number, r: KernelRequest): void {
    const blocks = this.blocks!;
    let result = 0;
    if (r.op === 'transfer') {
      const ok =
        blocks.isThread(r.from) &&
        blocks.isThread(r.to) &&
        (blocks.domainOf(r.from) === domain || blocks.domainOf(r.to) === domain);
      if (ok) {
        result = this.db.transfer(
          blocks.domainOf(r.from),
          blocks.domainOf(r.to),
          r.items,
          r.windowBase,
          r.windowLog2,
        );
      } else this.badRequests++;
    } else if (r.op === 'unmap') {
      if (blocks.isThread(r.self) && blocks.domainOf(r.self) === domain) {
        result = this.db.unmap(domain, r.fpage, r.flush);
      } else this.badRequests++;
    } else this.badRequests++;
    this.publishMemory();
    const w = this.link!;
    const base = domain * LINK_WORDS;
    Atomics.store(w, base + LINK_RESULT, result);
    Atomics.store(w, base + LINK_FLAG, 1);
    Atomics.notify(w, base + LINK_FLAG);
  }

  /** Post each domain whose page table changed its update, then bump its generation word. */
  private publishMemory(): void {
    const w = this.link!;
    for (const d of this.db.dirtyDomains()) {
      const rec = this.domainList[d];
      if (rec?.memory) {
        // a root domain's table lives in the main thread: apply at once
        const u = this.db.takeUpdate(d);
        if (u !== null) rec.memory.apply(u);
        continue;
      }
      const port = rec?.memoryPort ?? null;
      if (port === null) continue; // no worker: its changes wait (and its regions stay unheld)
      const u = this.db.takeUpdate(d);
      if (u === null) continue;
      port.postMessage(u);
      Atomics.add(w, d * LINK_WORDS + LINK_GEN, 1);
    }
  }

  private onReport(d: DomainRecord, m: WorkerReport): void {
    if (m.type === 'exit') {
      const t = this.threadList[m.id];
      if (t === undefined || t.exited) return;
      t.exited = true;
      const f =
        m.kind === undefined
          ? null
          : new ThreadFailedError(m.kind, m.id, t.name, d.name, m.message ?? 'failed', m.stack);
      if (t.supervisor !== undefined) {
        if (f !== null) this.supervisedFailureList.push(f);
        this.notifyExit(m.id, f === null ? EXIT_RETURNED : EXIT_FAILED);
      } else if (f !== null) this.failureList.push(f);
      this.notifyWaiters();
    } else if (m.type === 'stopped') {
      // the scheduler returned: the worker's exit that follows is not a failure
      d.stopped = true;
      d.counters = m.counters;
    }
  }

  /** The worker of `d` died: its live threads are dead, their partners get non-existing-partner. */
  private domainFailed(d: DomainRecord, message: string, stack?: string): void {
    if (d.stopped) return;
    d.stopped = true;
    for (const t of d.threads) {
      const rec = this.threadList[t.id]!;
      if (rec.exited) continue;
      rec.exited = true;
      let note = '';
      try {
        if (this.blocks !== null && this.blocks.state(t.id) !== ThreadState.Dead) {
          this.ipc!.kill(t.id);
        }
      } catch (e) {
        // the worker died inside a locked section: its partners cannot be failed cleanly
        note = ` (partners not failed: ${(e as Error).message})`;
      }
      this.failureList.push(
        new ThreadFailedError('DOMAIN_FAILED', t.id, rec.name, d.name, message + note, stack),
      );
    }
    try {
      this.ipc?.failTransfers(new Set(d.threads.map((t) => t.id)));
    } catch {
      // a lock held by the dead worker: those partners cannot be failed cleanly (as above)
    }
    this.notifyWaiters();
  }

  private notifyWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private requireSetup(): void {
    if (this.phase !== 'setup') {
      throw new ThreadsEngineError('STATE', 'the system can only be changed before start()');
    }
  }

  private domain(id: DomainId): DomainRecord {
    const d = this.domainList[id];
    if (d === undefined) throw new ThreadsEngineError('NO_SUCH_DOMAIN', `no domain ${id}`);
    return d;
  }

  private thread(id: ThreadId): ThreadRecord {
    const t = this.threadList[id];
    if (t === undefined) throw new ThreadsEngineError('NO_SUCH_THREAD', `no thread ${id}`);
    return t;
  }
}
