/**
 * CPU per protection domain on the threads engine: every domain is a worker thread, and Linux
 * accounts CPU time per thread. The meter reads each worker's run time from
 * `/proc/self/task/TID/schedstat` (nanoseconds) and, where the kernel does not keep scheduler
 * statistics (schedstat reads all zeros, as on kernels without `CONFIG_SCHED_INFO` or with it
 * off), from `/proc/self/task/TID/stat` (utime + stime in clock ticks, 10 ms at Linux's
 * USER_HZ of 100: coarse, so use windows of a second or more). The thread ids come from the
 * workers themselves (the realiser's probe thread in each domain, the NIC factory in the device
 * worker). Off Linux the meter reports nothing (utilisation 0, no per-domain shares).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { CpuReading, TargetCpuMeter } from '@udf/ipbench';

/** Linux's USER_HZ: the unit of utime/stime in `/proc/.../stat`. */
const USER_HZ = 100;

/** Where the run times come from. */
export type ThreadCpuSource = 'schedstat' | 'stat' | 'none';

/** One thread's cumulative run time in ns by the given source, or null if unreadable. */
export function threadRunNs(
  tid: number,
  source: Exclude<ThreadCpuSource, 'none'>,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number | null {
  try {
    if (source === 'schedstat') {
      const m = /^\s*(\d+)\s+\d+\s+\d+\s*$/.exec(read(`/proc/self/task/${tid}/schedstat`));
      return m ? Number(m[1]) : null;
    }
    const text = read(`/proc/self/task/${tid}/stat`);
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // after the command: state is field 3, utime field 14, stime field 15
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return ((utime + stime) * 1e9) / USER_HZ;
  } catch {
    return null;
  }
}

/** The best source on this machine for `tids`: schedstat if it counts, else stat. */
export function detectCpuSource(
  tids: readonly number[],
  read?: (path: string) => string,
): ThreadCpuSource {
  const live = tids.filter((t) => t > 0);
  if (live.length === 0) return 'none';
  if (live.some((t) => (threadRunNs(t, 'schedstat', read) ?? 0) > 0)) return 'schedstat';
  return live.some((t) => threadRunNs(t, 'stat', read) !== null) ? 'stat' : 'none';
}

/**
 * A target CPU meter over named threads (domains): `utilisation` is Σ Δrun / (Δwall × CPUs),
 * `perThread[name]` each thread's share of one CPU.
 */
export class ThreadCpuMeter implements TargetCpuMeter {
  /** The source the meter reads (decided at the first window). */
  source: ThreadCpuSource | null = null;
  readonly #threads: () => Readonly<Record<string, number>>;
  readonly #cpus: number;
  #from: { at: number; run: Map<string, number> } | null = null;

  /**
   * @param threads - returns the Linux thread id of each named thread (non-positive: unknown)
   * @param cpus - CPUs the threads share (default `os.availableParallelism()`)
   */
  constructor(threads: () => Readonly<Record<string, number>>, cpus = availableParallelism()) {
    this.#threads = threads;
    this.#cpus = cpus;
  }

  #sample(): Map<string, number> {
    const named = this.#threads();
    this.source ??= detectCpuSource(Object.values(named));
    const out = new Map<string, number>();
    const source = this.source;
    if (source === 'none') return out;
    for (const [name, tid] of Object.entries(named)) {
      if (tid <= 0) continue;
      const ns = threadRunNs(tid, source);
      if (ns !== null) out.set(name, ns);
    }
    return out;
  }

  /** Opens a window. */
  start(): void {
    this.#from = { at: performance.now(), run: this.#sample() };
  }

  /** Closes the window: each named thread's share of one CPU, and the total over all CPUs. */
  stop(): CpuReading {
    const run = this.#sample();
    const at = performance.now();
    const from = this.#from ?? { at, run };
    this.#from = null;
    const wallNs = (at - from.at) * 1e6;
    if (wallNs <= 0) return { utilisation: 0 };
    const perThread: Record<string, number> = {};
    let busy = 0;
    for (const [name, ns] of run) {
      const d = ns - (from.run.get(name) ?? ns);
      busy += d;
      perThread[name] = d / wallNs;
    }
    return {
      utilisation: Math.min(1, Math.max(0, busy / (wallNs * this.#cpus))),
      perThread,
      seconds: wallNs / 1e9,
    };
  }
}
