/**
 * Driver restart on the threads engine: the {@link DriverRestarter} the device supervisor (a
 * root-task thread in the main thread) uses there, as the sim realiser's uses the sim kernel's
 * `kill` and `restartThread`.
 *
 * - `stop` terminates the driver domain's worker (`worker.terminate()`, the only way to stop a
 *   hung driver): the engine fences the domain's device windows at once, and once the worker
 *   has exited it releases the control-block locks the worker died holding and fails the
 *   driver's IPC partners with `non-existing-partner`; the supervisor's next kernel call waits
 *   for that.
 * - `restart` starts a fresh worker for the domain running the driver thread with the same id,
 *   built from the same component reference with the session-open records added to its
 *   configuration (`reopened`, as on the sim); the domain keeps its mappings and device windows.
 * - `interruptPending` reads the engine's interrupt table for the driver's lines.
 * - `starved` tells the supervisor a heartbeat check's interval says nothing about a driver: the
 *   OS kept its worker, or a worker it waits on, off the CPU for most of it (see
 *   {@link THREADS_STARVED_SHARE}).
 *
 * With a {@link ThreadsRestartCpu}, the restarter also keeps the CPU meter on the driver's domain:
 * it reads the worker's run time at every check and just before stopping it, and once a fresh
 * worker runs, it finds that worker's Linux thread id (the one new thread of the process; the
 * busiest if several appeared) and records it as the domain's — the {@link ThreadRunLedger}
 * carries the old worker's time into the domain's total.
 *
 * A driver can be restarted this way only if its domain holds nothing else that lives: the
 * isolated and clustered placements. In the embedded placement the driver shares its worker
 * with the client's stack, and replacing the worker would take the stack with it, so
 * {@link driversRestartable} says no and the realiser does not supervise such drivers (a
 * quota disable still resets their NICs; a driver that dies fails the run, as before).
 *
 * @module
 */
import { readdirSync } from 'node:fs';
import type { ComponentRef, ThreadsEngine } from '@udf/engine-threads';
import type { ThreadId } from '@udf/l4-kernel';
import type { DriverRestarter, DriverRestartRecord } from './device-supervisor.js';
import type { SystemPlan } from './plan.js';
import type { ThreadRunLedger } from './threads-cpu.js';

/**
 * Shortest heartbeat check period on the threads engine, seconds. On the sim a ready driver that
 * has not run for one timeslice (the default period, 10 ms) is hung; on threads the OS schedules
 * the workers, and on a loaded machine (this one: 2 vCPUs shared by several jobs) a ready worker
 * can wait tens of milliseconds for a CPU — and a fresh driver needs its client's epoch
 * acknowledgement (real IPC round trips) before it beats. A period of 10 ms would call such a
 * driver hung. The realiser uses the plan's period or this, whichever is longer; hang
 * detection then takes one to two of these periods.
 */
export const THREADS_MIN_HEARTBEAT_SECONDS = 0.1;

/**
 * On threads, a heartbeat check's interval counts against a driver only if none of its worker and
 * the workers it waits on (the device worker, whose register reads it waits for, and the
 * dataspace manager's, which it calls) was starved over it: runnable and waiting for a CPU for
 * this share of the interval or more (schedstat's run-queue wait) while it ran for less than
 * {@link THREADS_STARVED_RUN_SHARE} of it. A driver's pass takes microseconds: one that made none
 * in a whole interval while those threads had the CPU when they wanted it is hung, but one whose
 * device worker or manager sat in the run queue much of the time was not given the chance.
 *
 * Measured on this machine (2 vCPUs, load 10–15 from other jobs, 100 ms periods): of three
 * spurious restarts, two had the device worker waiting 100–140 ms of the interval and running
 * under a millisecond (the driver blocked in a register read), one had the driver and the device
 * worker asleep and the manager's worker waiting 45–52 % of two intervals in a row, running 3 %
 * (the driver blocked in a call to it): a blocked chain compounds the waits of its links, so a
 * quarter, not a half. Excusing an interval costs nothing when the driver is well (its heartbeat
 * moved anyway) and delays a hung driver's detection by at most
 * {@link THREADS_MAX_STARVED_CHECKS} periods.
 */
export const THREADS_STARVED_SHARE = 0.25;

/**
 * A thread that ran for this share of a check's interval or more is not starved whatever it waited
 * ({@link THREADS_STARVED_SHARE}): a tenth of the 100 ms floor is thousands of driver passes, so a
 * driver that spins (runs, and makes no pass) is judged as hung, and a device worker that ran that
 * long has served the register reads waiting for it.
 */
export const THREADS_STARVED_RUN_SHARE = 0.1;

/**
 * At most this many checks in a row are excused as starved ({@link THREADS_STARVED_SHARE}); the
 * next is judged as on the sim. A driver on a machine so overloaded that it cannot make a pass in
 * this many periods (a second at the 100 ms floor) is not serving its clients either, and a
 * spinning hung driver competing for the CPU must not be excused for ever.
 */
export const THREADS_MAX_STARVED_CHECKS = 10;

/**
 * What a {@link ThreadsDriverRestarter} reads and writes of the workers' Linux threads (the
 * realiser's: the tids the domains' probes wrote).
 */
export interface ThreadsRestartCpu {
  /** The domains' run times (the CPU meter's ledger), by domain name; also `devices`. */
  readonly ledger: ThreadRunLedger;
  /** Record `tid` as the Linux thread of `domain`'s worker (a fresh worker after a restart). */
  moved(domain: string, tid: number): void;
  /** Read a `/proc` directory (tests; default `readdirSync`). */
  readonly list?: (path: string) => readonly string[];
  /** Wall clock in ms (tests; default `performance.now()`). */
  readonly now?: () => number;
}

/** One driver a {@link ThreadsDriverRestarter} may restart. */
export interface ThreadsRestartableDriver {
  /** The driver thread. */
  readonly thread: ThreadId;
  /** The component reference it was created from (its configuration is extended on restart). */
  readonly component: ComponentRef;
  /** Its devices' interrupt lines. */
  readonly lines: readonly number[];
  /** Its domain's name (the {@link ThreadsRestartCpu} ledger's; absent: not metered). */
  readonly domain?: string;
  /**
   * Names (in the ledger) of the other workers it waits on: the device worker's, the dataspace
   * manager's domain.
   */
  readonly waitsOn?: readonly string[];
}

/** Counters of a {@link ThreadsDriverRestarter}. */
export interface ThreadsRestarterStats {
  /** Drivers stopped (their workers terminated, or already gone). */
  stops: number;
  /** Restarts begun. */
  restarts: number;
  /** Fresh workers that have built their driver and run. */
  restarted: number;
  /** Stops or restarts refused (unknown driver, or the engine refused). */
  refused: number;
  /** Fresh workers whose Linux thread id was found and given to the CPU meter. */
  workersFollowed: number;
  /** Heartbeat checks at which a driver was starved ({@link THREADS_STARVED_SHARE}). */
  starvedChecks: number;
}

/** The threads engine's {@link DriverRestarter} (see the module comment). */
export class ThreadsDriverRestarter implements DriverRestarter {
  /** Counters. */
  readonly stats: ThreadsRestarterStats = {
    stops: 0,
    restarts: 0,
    restarted: 0,
    refused: 0,
    workersFollowed: 0,
    starvedChecks: 0,
  };
  /** Why a stop or restart failed, in order (the engine's messages). */
  readonly errors: string[] = [];
  private readonly drivers = new Map<ThreadId, ThreadsRestartableDriver>();
  private pending: Promise<void>[] = [];
  /** Per driver: wall time (ms), run and run-queue wait times (ns, by ledger name and tid) at its last check. */
  private readonly lastCheck = new Map<
    ThreadId,
    { at: number; waits: Map<string, { readonly runNs: number; readonly waitNs: number }> }
  >();
  /** Per driver: checks in a row found starved. */
  private readonly starvedRun = new Map<ThreadId, number>();

  /**
   * @param engine - the engine the drivers run on
   * @param drivers - the drivers it may stop and restart (more with {@link ThreadsDriverRestarter.add})
   * @param cpu - the workers' Linux threads (absent: no CPU meter to keep, no starvation view)
   */
  constructor(
    private readonly engine: ThreadsEngine,
    drivers: readonly ThreadsRestartableDriver[] = [],
    private readonly cpu: ThreadsRestartCpu | null = null,
  ) {
    for (const d of drivers) this.add(d);
  }

  /** Let it stop and restart one more driver (before the engine starts). */
  add(driver: ThreadsRestartableDriver): void {
    this.drivers.set(driver.thread, driver);
  }

  /** Terminate the driver's worker (nothing if it is already gone). */
  stop(thread: ThreadId): void {
    if (!this.drivers.has(thread)) {
      this.stats.refused++;
      return;
    }
    // the worker's run time up to now, carried into its domain's total once a fresh one runs
    const d = this.drivers.get(thread)!;
    if (d.domain !== undefined) this.cpu?.ledger.runNs(d.domain);
    try {
      this.engine.stopThread(thread);
      this.stats.stops++;
    } catch (e) {
      this.refuse(e);
    }
  }

  /** Start a fresh worker running the driver with the same id and its session-open records. */
  restart(thread: ThreadId, reopened: readonly (readonly [number, number])[]): void {
    const d = this.drivers.get(thread);
    if (d === undefined) {
      this.stats.refused++;
      return;
    }
    const component: ComponentRef = {
      ...d.component,
      config: { ...(d.component.config as object), reopened: reopened.map(([i, ds]) => [i, ds]) },
    };
    this.stats.restarts++;
    const before = this.tasks();
    this.lastCheck.delete(thread);
    this.starvedRun.delete(thread);
    const p = this.engine.restartThread(thread, component).then(
      () => {
        this.follow(d, before);
        this.stats.restarted++;
      },
      (e: unknown) => this.refuse(e),
    );
    this.pending.push(p);
  }

  /** True if one of the driver's interrupt lines is asserted, queued or delivered and not acknowledged. */
  interruptPending(thread: ThreadId): boolean {
    const d = this.drivers.get(thread);
    if (d === undefined) return false;
    for (const l of d.lines) if (this.engine.interruptPending(l)) return true;
    return false;
  }

  /**
   * True if the interval since the driver's previous check says nothing about it: its worker or
   * one it waits on was starved over it ({@link THREADS_STARVED_SHARE}) — at most
   * {@link THREADS_MAX_STARVED_CHECKS} checks in a row. False without schedstat (the kernel keeps
   * no run-queue wait) or a CPU view.
   */
  starved(thread: ThreadId): boolean {
    const d = this.drivers.get(thread);
    const ledger = this.cpu?.ledger;
    if (d === undefined || ledger === undefined || d.domain === undefined) return false;
    const at = this.cpu?.now?.() ?? performance.now();
    const waits = new Map<string, { readonly runNs: number; readonly waitNs: number }>();
    for (const name of [d.domain, ...(d.waitsOn ?? [])]) {
      const s = ledger.sched(name);
      if (s !== null) waits.set(`${name}:${ledger.threadIds()[name]}`, s);
    }
    const last = this.lastCheck.get(thread);
    this.lastCheck.set(thread, { at, waits });
    if (last === undefined) return false;
    const intervalNs = (at - last.at) * 1e6;
    let starved = false;
    for (const [key, now] of waits) {
      const before = last.waits.get(key);
      if (
        before !== undefined &&
        now.waitNs - before.waitNs >= THREADS_STARVED_SHARE * intervalNs &&
        now.runNs - before.runNs < THREADS_STARVED_RUN_SHARE * intervalNs
      )
        starved = true;
    }
    const run = starved ? (this.starvedRun.get(thread) ?? 0) + 1 : 0;
    this.starvedRun.set(thread, run);
    if (!starved || run > THREADS_MAX_STARVED_CHECKS) return false;
    this.stats.starvedChecks++;
    return true;
  }

  /** The process's Linux thread ids now (empty off Linux). */
  private tasks(): Set<number> {
    try {
      const list = this.cpu?.list ?? ((p: string) => readdirSync(p));
      return new Set(list('/proc/self/task').map(Number));
    } catch {
      return new Set();
    }
  }

  /**
   * A fresh worker runs: its Linux thread is the one that appeared since `before` and is no
   * other domain's (the busiest, if the process started several meanwhile: the worker has just
   * loaded its modules). Recorded as the driver's domain's thread.
   */
  private follow(d: ThreadsRestartableDriver, before: ReadonlySet<number>): void {
    const cpu = this.cpu;
    if (cpu === null || d.domain === undefined || before.size === 0) return;
    const known = new Set(Object.values(cpu.ledger.threadIds()));
    let best = -1;
    let bestNs = -1;
    for (const tid of this.tasks()) {
      if (before.has(tid) || known.has(tid)) continue;
      const ns = cpu.ledger.threadRunNs(tid) ?? 0;
      if (ns > bestNs) {
        best = tid;
        bestNs = ns;
      }
    }
    if (best <= 0) return;
    cpu.moved(d.domain, best);
    cpu.ledger.runNs(d.domain);
    this.stats.workersFollowed++;
  }

  /** Settles when every restart begun so far has its fresh worker running (or failed). */
  async settled(): Promise<void> {
    while (this.pending.length > 0) {
      const p = this.pending;
      this.pending = [];
      await Promise.all(p);
    }
  }

  private refuse(e: unknown): void {
    this.stats.refused++;
    this.errors.push(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Whether the threads engine can restart every user-level driver of `plan`: each driver's
 * domain holds no other component (the isolated and clustered placements; not embedded, where
 * the client's stack shares the driver's worker).
 */
export function driversRestartable(plan: SystemPlan): boolean {
  const drivers = plan.components.filter((c) => c.kind === 'dp83820-driver');
  return (
    drivers.length > 0 &&
    drivers.every((d) => plan.components.every((c) => c === d || c.space !== d.space))
  );
}

/** What a threads system tells about driver restart (`ThreadsSystem.restart`). */
export interface ThreadsRestartView {
  /** The restarter the supervisor uses. */
  readonly restarter: ThreadsDriverRestarter;
  /** The supervised driver threads, in plan order. */
  readonly drivers: readonly ThreadId[];
  /** Every restart the supervisor made, in order (cycles are the engine's clock: `hz` per second). */
  records(): readonly DriverRestartRecord[];
}
