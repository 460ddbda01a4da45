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
 *
 * A driver can be restarted this way only if its domain holds nothing else that lives: the
 * isolated and clustered placements. In the embedded placement the driver shares its worker
 * with the client's stack, and replacing the worker would take the stack with it, so
 * {@link driversRestartable} says no and the realiser does not supervise such drivers (a
 * quota disable still resets their NICs; a driver that dies fails the run, as before).
 *
 * @module
 */
import type { ComponentRef, ThreadsEngine } from '@udf/engine-threads';
import type { ThreadId } from '@udf/l4-kernel';
import type { DriverRestarter, DriverRestartRecord } from './device-supervisor.js';
import type { SystemPlan } from './plan.js';

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

/** One driver a {@link ThreadsDriverRestarter} may restart. */
export interface ThreadsRestartableDriver {
  /** The driver thread. */
  readonly thread: ThreadId;
  /** The component reference it was created from (its configuration is extended on restart). */
  readonly component: ComponentRef;
  /** Its devices' interrupt lines. */
  readonly lines: readonly number[];
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
}

/** The threads engine's {@link DriverRestarter} (see the module comment). */
export class ThreadsDriverRestarter implements DriverRestarter {
  /** Counters. */
  readonly stats: ThreadsRestarterStats = { stops: 0, restarts: 0, restarted: 0, refused: 0 };
  /** Why a stop or restart failed, in order (the engine's messages). */
  readonly errors: string[] = [];
  private readonly drivers = new Map<ThreadId, ThreadsRestartableDriver>();
  private pending: Promise<void>[] = [];

  /**
   * @param engine - the engine the drivers run on
   * @param drivers - the drivers it may stop and restart (more with {@link ThreadsDriverRestarter.add})
   */
  constructor(
    private readonly engine: ThreadsEngine,
    drivers: readonly ThreadsRestartableDriver[] = [],
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
    const p = this.engine.restartThread(thread, component).then(
      () => {
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
