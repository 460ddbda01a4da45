/** One measurement of the target's CPU over a window. */
export interface CpuReading {
  /** Busy share of the target's CPU(s) over the window, 0..1 (1 − idle share). */
  utilisation: number;
  /** Per-CPU (or per idle-loop worker) busy share, when the meter knows it. */
  perCpu?: readonly number[];
  /** Per-thread share of one CPU, keyed by thread id, when the meter knows it (schedstat). */
  perThread?: Readonly<Record<string, number>>;
  /** Share of the window per profile category (IPC, Driver, …, Idle), summing to ≈ 1. */
  profile?: Readonly<Record<string, number>>;
  /** Window length in seconds, when known. */
  seconds?: number;
  /** The target's own result text, as ipbench's `cpu_target` sent it (remote meters only). */
  text?: string;
}

/**
 * Measures the target's CPU utilisation between `start()` and `stop()`.
 *
 * @remarks Engines implement it: on the sim engine from the kernel's cycle accounting
 * ({@link IdleAccountingCpuMeter}); on real threads with ipbench's calibrated idle loop
 * ({@link IdleLoopCpuMeter}) or Linux per-thread CPU time ({@link SchedstatCpuMeter}); for a
 * remote ipbench target daemon with {@link RemoteCpuMeter}. Either call may return a promise.
 */
export interface TargetCpuMeter {
  /**
   * Gets ready to measure (e.g. calibrates). The `Ramp` calls it before it starts the load,
   * so set-up work never falls in the warm-up or the measured window.
   */
  prepare?(): void | Promise<void>;
  /** Gives up a prepared or open window without a reading (e.g. after a failed step). */
  abort?(): void;
  /** Opens a measurement window. */
  start(): void | Promise<void>;
  /** Closes the window and reports on it. */
  stop(): CpuReading | Promise<CpuReading>;
}

/** Cumulative cycle counts a sim kernel exposes. */
export interface CycleAccounting {
  /** Cycles the idle thread has run since boot. */
  idle: number;
  /** Cycles elapsed since boot (times the number of CPUs). */
  total: number;
  /** Cycles charged per profile category since boot (optional, for Figure 1(a)). */
  categories?: Readonly<Record<string, number>>;
}

/**
 * The sim engine's meter: utilisation = 1 − Δidle / Δtotal from the kernel's cycle accounting.
 *
 * @remarks This is the accounting equivalent of the paper's method (cycle counter in a
 * low-priority background loop); the paper reports it agrees with PC sampling within 1%.
 */
export class IdleAccountingCpuMeter implements TargetCpuMeter {
  readonly #read: () => CycleAccounting;
  readonly #hz: number | undefined;
  #from: CycleAccounting | null = null;

  /**
   * @param read - returns cumulative counts (copied by the meter)
   * @param hz - cycles per second of `total`, to report `seconds` (optional)
   */
  constructor(read: () => CycleAccounting, hz?: number) {
    this.#read = read;
    this.#hz = hz;
  }

  /** Snapshots the counters. */
  start(): void {
    this.#from = snapshot(this.#read());
  }

  /** Reads the counters again and reports the shares of the window. */
  stop(): CpuReading {
    const to = snapshot(this.#read());
    const from = this.#from ?? { idle: 0, total: 0 };
    this.#from = null;
    const total = to.total - from.total;
    if (total <= 0) return { utilisation: 0 };
    const idle = to.idle - from.idle;
    const reading: CpuReading = {
      utilisation: clamp01(1 - idle / total),
      ...(this.#hz ? { seconds: total / this.#hz } : {}),
    };
    if (to.categories) {
      const profile: Record<string, number> = {};
      for (const [k, v] of Object.entries(to.categories)) {
        profile[k] = (v - (from.categories?.[k] ?? 0)) / total;
      }
      return { ...reading, profile };
    }
    return reading;
  }
}

function snapshot(a: CycleAccounting): CycleAccounting {
  return {
    idle: a.idle,
    total: a.total,
    ...(a.categories ? { categories: { ...a.categories } } : {}),
  };
}

/** Clamps to [0, 1]. */
export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
