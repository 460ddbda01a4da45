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
 * A domain's worker can change: a restarted driver runs in a fresh worker, with a Linux thread
 * of its own. The {@link ThreadRunLedger} keeps each domain's run time across its workers — the
 * dead worker's last reading is carried into the domain's total when the name's thread id
 * changes — so the CPU a domain used never drops at a restart. It also reads how long a thread
 * waited on a run queue (schedstat's second field): the device supervisor's view, on threads,
 * of a worker the OS did not schedule (`threads-restart.ts`).
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

/**
 * One thread's cumulative run and run-queue wait times in ns from schedstat (`null`: unreadable,
 * or the kernel keeps no scheduler statistics — all zeros).
 */
export function threadSchedNs(
  tid: number,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): { readonly runNs: number; readonly waitNs: number } | null {
  try {
    const m = /^\s*(\d+)\s+(\d+)\s+\d+\s*$/.exec(read(`/proc/self/task/${tid}/schedstat`));
    if (!m) return null;
    const runNs = Number(m[1]);
    const waitNs = Number(m[2]);
    return runNs === 0 && waitNs === 0 ? null : { runNs, waitNs };
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

/** One name's thread and what the ledger has read of it. */
interface Tracked {
  /** The Linux thread id read last. */
  tid: number;
  /** Its run time at the last successful reading, ns. */
  lastNs: number;
  /** Run time of the name's earlier threads, ns. */
  carriedNs: number;
}

/**
 * Each named thread's (domain's) cumulative run time across the Linux threads it has had: when
 * the thread id a name maps to changes (a restarted driver's fresh worker), the old thread's last
 * reading — taken once more then if it still exists — is carried into the name's total, so
 * {@link ThreadRunLedger.runNs} never decreases. Readers that share a ledger (the meter, the
 * restarter, which reads a driver's worker at every heartbeat check and just before stopping it)
 * keep the carried reading fresh; what a worker that died by itself ran after its last reading
 * is not counted.
 */
export class ThreadRunLedger {
  /** The source it reads (decided at the first reading with a known thread id). */
  source: ThreadCpuSource | null = null;
  readonly #threads: () => Readonly<Record<string, number>>;
  readonly #read: ((path: string) => string) | undefined;
  readonly #tracked = new Map<string, Tracked>();

  /**
   * @param threads - returns the Linux thread id of each named thread (non-positive: unknown)
   * @param read - reads a `/proc` file (tests; default `readFileSync`)
   */
  constructor(threads: () => Readonly<Record<string, number>>, read?: (path: string) => string) {
    this.#threads = threads;
    this.#read = read;
  }

  /** The Linux thread id of each named thread now (non-positive: unknown). */
  threadIds(): Readonly<Record<string, number>> {
    return this.#threads();
  }

  #source(named: Readonly<Record<string, number>>): ThreadCpuSource {
    if (this.source !== null) return this.source;
    const tids = Object.values(named);
    if (!tids.some((t) => t > 0)) return 'none';
    this.source = detectCpuSource(tids, this.#read);
    return this.source;
  }

  #update(name: string, tid: number, source: Exclude<ThreadCpuSource, 'none'>): number | null {
    let t = this.#tracked.get(name);
    if (t !== undefined && t.tid !== tid) {
      // a new thread for this name: the old one's last reading is carried
      const last = threadRunNs(t.tid, source, this.#read);
      if (last !== null && last > t.lastNs) t.lastNs = last;
      t = { tid, lastNs: 0, carriedNs: t.carriedNs + t.lastNs };
      this.#tracked.set(name, t);
    }
    const ns = threadRunNs(tid, source, this.#read);
    if (t === undefined) {
      if (ns === null) return null;
      t = { tid, lastNs: ns, carriedNs: 0 };
      this.#tracked.set(name, t);
    } else if (ns !== null && ns > t.lastNs) {
      t.lastNs = ns;
    }
    return t.carriedNs + t.lastNs;
  }

  /** Run time of one Linux thread of this process, ns, by the ledger's source (null: unreadable). */
  threadRunNs(tid: number): number | null {
    const source = this.source ?? detectCpuSource([tid], this.#read);
    return source === 'none' ? null : threadRunNs(tid, source, this.#read);
  }

  /**
   * Run time of every named thread with a known id, ns, across its threads (see the class
   * comment); empty where there is no source.
   */
  sample(): Map<string, number> {
    const named = this.#threads();
    const source = this.#source(named);
    const out = new Map<string, number>();
    if (source === 'none') return out;
    for (const [name, tid] of Object.entries(named)) {
      if (tid <= 0) continue;
      const ns = this.#update(name, tid, source);
      if (ns !== null) out.set(name, ns);
    }
    return out;
  }

  /** Run time of one named thread across its threads, ns (null: unknown or no source). */
  runNs(name: string): number | null {
    const named = this.#threads();
    const tid = named[name] ?? 0;
    const source = this.#source(named);
    if (tid <= 0 || source === 'none') return null;
    return this.#update(name, tid, source);
  }

  /**
   * The current thread's run and run-queue wait times of a named thread, ns, from schedstat
   * (null: unknown, or the kernel keeps no scheduler statistics). Also refreshes its run time.
   */
  sched(name: string): { readonly runNs: number; readonly waitNs: number } | null {
    const tid = this.#threads()[name] ?? 0;
    if (tid <= 0) return null;
    this.runNs(name);
    return threadSchedNs(tid, this.#read);
  }
}

/**
 * A target CPU meter over named threads (domains): `utilisation` is Σ Δrun / (Δwall × CPUs),
 * `perThread[name]` each thread's share of one CPU.
 */
export class ThreadCpuMeter implements TargetCpuMeter {
  /** What it reads: each name's run time across its threads. */
  readonly ledger: ThreadRunLedger;
  readonly #cpus: number;
  #from: { at: number; run: Map<string, number> } | null = null;

  /**
   * @param threads - a ledger of the named threads (shared with others that read them: a
   *   restarted domain's total then carries its old worker's time), or a function returning the
   *   Linux thread id of each named thread (non-positive: unknown)
   * @param cpus - CPUs the threads share (default `os.availableParallelism()`)
   */
  constructor(
    threads: ThreadRunLedger | (() => Readonly<Record<string, number>>),
    cpus = availableParallelism(),
  ) {
    this.ledger = threads instanceof ThreadRunLedger ? threads : new ThreadRunLedger(threads);
    this.#cpus = cpus;
  }

  /** The source the meter reads (decided at the first window with a known thread). */
  get source(): ThreadCpuSource | null {
    return this.ledger.source;
  }

  #sample(): Map<string, number> {
    return this.ledger.sample();
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
