import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { IpbenchError } from '../errors.js';
import { type CpuReading, clamp01, type TargetCpuMeter } from './meter.js';

/** The three fields of a Linux `schedstat` file. */
export interface Schedstat {
  /** Nanoseconds spent running on a CPU. */
  runNs: number;
  /** Nanoseconds spent runnable but waiting for a CPU. */
  waitNs: number;
  /** Number of timeslices run. */
  timeslices: number;
}

/** Parses `"run_ns wait_ns slices\n"`; returns null for anything else. */
export function parseSchedstat(text: string): Schedstat | null {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(text);
  if (!m) return null;
  return { runNs: Number(m[1]), waitNs: Number(m[2]), timeslices: Number(m[3]) };
}

/** The Linux thread id of the calling thread (main or worker), from `/proc/thread-self`. */
export function currentThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    throw new IpbenchError(
      'IPBENCH_UNSUPPORTED',
      '/proc/thread-self is not available (Linux only)',
    );
  }
}

/** Options of a {@link SchedstatCpuMeter}. */
export interface SchedstatOptions {
  /** Thread ids to account (e.g. the domains' workers); default every thread of this process. */
  threads?: readonly number[] | (() => readonly number[]);
  /** CPUs the threads share; the denominator. Default `os.availableParallelism()`. */
  cpus?: number;
  /** Reads a file (injectable for tests). Default `fs.readFileSync(path, 'utf8')`. */
  readFile?: (path: string) => string;
  /** Lists thread ids of this process (injectable for tests). */
  listThreads?: () => readonly number[];
  /** Monotonic time in ms (injectable for tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * Target CPU from Linux per-thread CPU time: Σ Δrun_time of the target's threads over
 * (Δwall × CPUs), read from `/proc/self/task/<tid>/schedstat` (a thread's own view is
 * `/proc/thread-self/schedstat`).
 */
export class SchedstatCpuMeter implements TargetCpuMeter {
  readonly #threads: () => readonly number[];
  readonly #cpus: number;
  readonly #read: (path: string) => string;
  readonly #now: () => number;
  #from: { at: number; run: Map<number, number> } | null = null;

  /** @param options - threads, CPUs and injectable I/O */
  constructor(options: SchedstatOptions = {}) {
    const list =
      options.listThreads ??
      (() => readdirSync('/proc/self/task').map(Number).filter(Number.isInteger));
    const t = options.threads;
    this.#threads = t === undefined ? list : typeof t === 'function' ? t : () => t;
    this.#cpus = options.cpus ?? availableParallelism();
    this.#read = options.readFile ?? ((p) => readFileSync(p, 'utf8'));
    this.#now = options.now ?? (() => performance.now());
  }

  #sample(): Map<number, number> {
    const out = new Map<number, number>();
    for (const tid of this.#threads()) {
      try {
        const s = parseSchedstat(this.#read(`/proc/self/task/${tid}/schedstat`));
        if (s) out.set(tid, s.runNs);
      } catch {
        // the thread exited; it simply stops contributing
      }
    }
    return out;
  }

  /** Opens a window. */
  start(): void {
    this.#from = { at: this.#now(), run: this.#sample() };
  }

  /** Closes the window. */
  stop(): CpuReading {
    const run = this.#sample();
    const at = this.#now();
    const from = this.#from ?? { at, run };
    this.#from = null;
    const wallNs = (at - from.at) * 1e6;
    if (wallNs <= 0) return { utilisation: 0 };
    const perThread: Record<string, number> = {};
    let busy = 0;
    for (const [tid, ns] of run) {
      const d = ns - (from.run.get(tid) ?? ns);
      busy += d;
      perThread[String(tid)] = d / wallNs;
    }
    return { utilisation: clamp01(busy / (wallNs * this.#cpus)), perThread, seconds: wallNs / 1e9 };
  }
}
