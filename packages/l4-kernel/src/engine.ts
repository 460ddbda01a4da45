/**
 * The sim engine: a deterministic discrete-event run of the kernel model on the simulated
 * machine, in virtual CPU cycles. This is what assemblers and tests use; components see only
 * `Sys`.
 *
 * @module
 */
import { KernelError, type ThreadFailedError } from './errors.js';
import { DEFAULT_TIMESLICE_SECONDS, Kernel, type KernelCounters } from './kernel/kernel.js';
import { createSys } from './kernel/sys-impl.js';
import { type TraceRecord, Tracer } from './kernel/trace.js';
import { Accounting } from './machine/accounting.js';
import { CostModel, type CostName, type CostTable, PENTIUM4_XEON_2_66 } from './machine/costs.js';
import { Machine } from './machine/machine.js';
import type { MemoryLayout } from './machine/memory.js';
import type { Cycles } from './sys.js';

/** Options of a {@link SimEngine}. */
export interface SimEngineOptions {
  /** Clock in Hz; default: the cost table's clock (2.66 GHz for the default table). */
  readonly hz?: number;
  /** Physical memory in bytes; default 64 MiB. */
  readonly memoryBytes?: number;
  /**
   * How physical memory regions are backed: `'shared'` (default) windows on one buffer, or
   * `'separate'`, a `SharedArrayBuffer` per region as on the threads engine (tests select it to
   * prove that nothing reaches across a region).
   */
  readonly memoryLayout?: MemoryLayout;
  /** Cost model or table; default {@link PENTIUM4_XEON_2_66}. */
  readonly costs?: CostModel | CostTable;
  /** Scale factors applied on top of `costs` (e.g. `{ ipc: 2 }`). */
  readonly costScale?: Partial<Record<CostName, number>>;
  /** Seed of {@link SimEngine.random}; default 1. */
  readonly seed?: number;
  /** Record a trace: `true` keeps records in {@link SimEngine.trace}; a function receives each. */
  readonly trace?: boolean | ((record: TraceRecord) => void);
  /** Timeslice in cycles; default 10 ms. */
  readonly timeslice?: Cycles;
  /**
   * What a thread that dies of an exception does to the run: `'throw'` (default) stops
   * `runUntil`/`runFor` with a {@link ThreadFailedError} naming the thread; `'record'` only
   * records it in `kernel.failures` (fault-injection experiments that expect deaths).
   */
  readonly threadFailures?: 'throw' | 'record';
}

/**
 * The simulation: machine, kernel, accounting.
 *
 * @example
 * ```ts
 * const sim = new SimEngine();
 * const space = sim.kernel.createSpace('app');
 * const pong = sim.kernel.createThread({ name: 'pong', space, body: function* (sys) {
 *   let r = yield* sys.ipc.receive(ANY_THREAD);
 *   for (;;) if (r.ok) r = yield* sys.ipc.replyWait(r.from, { label: 0, words: [] });
 * } });
 * sim.kernel.createThread({ name: 'ping', space, body: function* (sys) {
 *   for (;;) yield* sys.ipc.call(pong, { label: 1, words: [42] });
 * } });
 * sim.runFor(sim.machine.cycles(0.001));
 * ```
 */
export class SimEngine {
  /** The machine (the {@link DeviceHost} device models use). */
  readonly machine: Machine;
  /** The kernel and its privileged setup API. */
  readonly kernel: Kernel;
  /** Per-thread, per-category cycle accounting. */
  readonly accounting: Accounting;
  /** The cost model in use. */
  readonly costs: CostModel;
  private readonly tracer: Tracer | null;
  private rng: number;

  /** @param options - see {@link SimEngineOptions} */
  constructor(options: SimEngineOptions = {}) {
    const c = options.costs;
    let costs = c instanceof CostModel ? c : new CostModel(c ?? PENTIUM4_XEON_2_66);
    if (options.costScale !== undefined) costs = costs.scaled(options.costScale);
    this.costs = costs;
    const hz = options.hz ?? costs.table.hz;
    let kernel: Kernel | null = null;
    this.machine = new Machine({
      hz,
      memoryBytes: options.memoryBytes ?? 64 * 1024 * 1024,
      memoryLayout: options.memoryLayout ?? 'shared',
      onInterrupt: (line) => kernel?.onInterrupt(line),
    });
    this.accounting = new Accounting(() => this.machine.clock);
    const tr = options.trace;
    this.tracer =
      tr === undefined || tr === false ? null : tr === true ? new Tracer() : new Tracer(tr, false);
    const slice = options.timeslice ?? DEFAULT_TIMESLICE_SECONDS * hz;
    if (!(slice > 0)) throw new KernelError('CONFIG', `timeslice must be positive, got ${slice}`);
    kernel = new Kernel(this.machine, this.accounting, costs, slice, this.tracer);
    const failures = options.threadFailures ?? 'throw';
    if (failures !== 'throw' && failures !== 'record') {
      throw new KernelError('CONFIG', `threadFailures must be 'throw' or 'record'`);
    }
    kernel.throwOnFailure = failures === 'throw';
    const k = kernel;
    k.makeSys = (t) => createSys(k, t);
    this.kernel = kernel;
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw new KernelError('CONFIG', `seed must be an integer`);
    this.rng = seed >>> 0 || 0x9e3779b9;
  }

  /** Current virtual time in cycles. */
  now(): Cycles {
    return this.machine.clock;
  }

  /**
   * Run until absolute virtual time `cycles`.
   * @throws ThreadFailedError when a thread dies of an exception (see {@link SimEngineOptions.threadFailures})
   */
  runUntil(cycles: Cycles): void {
    this.kernel.runUntil(cycles);
  }

  /**
   * Run for `cycles` more virtual cycles.
   * @throws ThreadFailedError when a thread dies of an exception (see {@link SimEngineOptions.threadFailures})
   */
  runFor(cycles: Cycles): void {
    this.kernel.runUntil(this.machine.clock + cycles);
  }

  /** Trace records (empty unless the engine was created with `trace: true`). */
  get trace(): readonly TraceRecord[] {
    return this.tracer?.records ?? [];
  }

  /** Kernel counters plus events fired. */
  get counters(): Readonly<KernelCounters & { eventsFired: number }> {
    return { ...this.kernel.counters, eventsFired: this.machine.eventsFired };
  }

  /** Deterministic pseudo-random number in [0, 1) from the engine's seed (mulberry32). */
  random(): number {
    this.rng = (this.rng + 0x6d2b79f5) | 0;
    let x = this.rng;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }
}
