/**
 * The device supervisor: a privileged root-task thread the realiser creates, holding its own
 * mapping of every NIC's register window and of every session's control region. It owns the
 * reset path and the restart of drivers.
 *
 * Pin-quota abuse (paper section 4.4: "disabling the driver and resetting the device to recover
 * pinned pages"), reached by IPC (see `DRIVER_DISABLE_LABEL` in `@udf/dataspace`):
 *
 * 1. the dataspace manager calls it with a driver's thread id;
 * 2. it resets each of that driver's devices (CR.RST: their DMA stops) and raises their software
 *    interrupt, so the driver wakes;
 * 3. it tells the driver it is disabled (a call with a bounded timeout: an honest driver stops
 *    its devices in its own thread and acknowledges, so no later pass of it restarts them);
 * 4. it replies to the manager, which only then recovers the driver's pins.
 *
 * With a {@link DriverRestarter} (and the driver's restart budget not spent), steps 3–4 become:
 * stop the driver thread (nothing can restart its devices then), reply to the manager, and
 * restart the driver like a crashed one (below).
 *
 * Driver faults (DESIGN.md, "Crash and restart"), detected three ways: the kernel tells the
 * supervisor when a driver thread throws or returns (`THREAD_EXIT_LABEL`, the supervisor is the
 * driver's exit handler); a driver whose heartbeat (a word in each session's control region, see
 * `SessionControl` in `@udf/netdev`) stays still for a whole check interval while a session has
 * work pending, at two checks in a row, and that does not take a zero-timeout wake-up probe (a
 * driver blocked in its receive is asleep, whatever its clients wrote into the shared words), is
 * hung. Recovery, in this order:
 *
 * 1. reset the driver's devices (their DMA stops before any buffer is reused);
 * 2. stop the driver thread if it still exists (its IPC partners get `non-existing-partner`);
 * 3. ask the dataspace manager to recover its pins and drop its translation caches
 *    (`DRIVER_RECOVER_LABEL`);
 * 4. start a new epoch on each of its sessions and restart the driver thread with the same id,
 *    handing it the session-open records it reported when it first started
 *    (`SESSIONS_OPENED_LABEL`); wake each session's client, which reclaims its buffers.
 *
 * IOMMU faults (the IOMMU's fault handler lives here): the supervisor attaches the fault line of
 * every IOMMU-protected NIC ({@link SupervisedDriver.faultLines}). A fault means the driver
 * programmed its device to DMA outside the frames pinned in its translation caches — a buggy or
 * malicious driver — so it is treated as a crash of that NIC's driver: the same recovery as
 * above (cause `'iommu'`, counted in `iommuFaults`). The driver gets no say: it neither sees the
 * fault first nor keeps the device running. The reset lowers the fault line, so the unmask (the
 * reply to the line's interrupt thread, sent once the recovery is done) does not redeliver it. A
 * driver that is not restartable (no restarter, or a driver in the kernel) only has its device
 * reset and its software interrupt raised, as a bare fault handler would.
 *
 * @module
 */
import {
  DRIVER_DISABLE_LABEL,
  DRIVER_DISABLED_LABEL,
  DRIVER_RECOVER_LABEL,
  SESSIONS_OPENED_LABEL,
  SUPERVISOR_OK,
  SUPERVISOR_REFUSED,
} from '@udf/dataspace';
import { resetAndRaiseSoftwareInterrupt, resetDevice } from '@udf/driver-dp83820';
import {
  ANY_THREAD,
  type Cycles,
  INTERRUPT_LABEL,
  type KernelCall,
  type Message,
  NEVER,
  type RegisterWindow,
  type Sys,
  THREAD_EXIT_LABEL,
  type ThreadId,
  ZERO,
} from '@udf/l4-kernel';
import { NetSessionMonitor, netSessionLayout } from '@udf/netdev';

/** One session of a supervised driver, as the supervisor sees it. */
export interface SupervisedSession {
  /** Where the session's control region is mapped in the supervisor's space. */
  readonly vaddr: number;
  /** Descriptors per ring (fixes the region's layout). */
  readonly capacity: number;
  /** The client thread, woken when the session gets a new epoch. */
  readonly client: ThreadId;
}

/** One driver the supervisor watches. */
export interface SupervisedDriver {
  /** The driver thread. */
  readonly thread: ThreadId;
  /** Where the supervisor's space maps each of its devices' register windows. */
  readonly registers: readonly number[];
  /** Its sessions (empty: the driver is reset on a quota disable, never restarted). */
  readonly sessions?: readonly SupervisedSession[];
  /** The thread id the kernel's exit notices for this driver come from (none: not notified). */
  readonly exitNotifier?: ThreadId;
  /**
   * The IOMMU fault line of each of its devices, in {@link registers} order (null: that device is
   * not behind an IOMMU). The supervisor attaches every line at start.
   */
  readonly faultLines?: readonly (number | null)[];
}

/**
 * The root task's privileges the supervisor uses to restart a driver. On the sim engine the
 * realiser implements them with the kernel's `kill` and `restartThread`.
 */
export interface DriverRestarter {
  /** Stop a live (hung) driver thread; its partners get `non-existing-partner`. */
  stop(thread: ThreadId): void;
  /**
   * Start the driver thread afresh with the same id, handing it its session-open records
   * (`[session, dataspace]` pairs).
   */
  restart(thread: ThreadId, reopened: readonly (readonly [number, number])[]): void;
  /**
   * True if a device of the driver waits for it: an interrupt delivered and not acknowledged,
   * or raised (the kernel's view of the driver's interrupt lines).
   */
  interruptPending(thread: ThreadId): boolean;
  /**
   * Optional; called at every heartbeat check of the driver: true if the interval since its
   * previous check says nothing about the driver, because the system did not let it run — the
   * threads engine's restarter answers from Linux's run-queue wait of the driver's worker and
   * the workers it waits on. A driver that looks hung over such an interval is not judged; the
   * next interval is. Absent (the sim, where a ready driver runs within its timeslice): never.
   */
  starved?(thread: ThreadId): boolean;
}

/** Configuration of a {@link DeviceSupervisor}. */
export interface DeviceSupervisorConfig {
  /** The only thread that may ask for a disable (the dataspace manager). */
  readonly manager: ThreadId;
  /** The drivers it supervises. */
  readonly drivers: readonly SupervisedDriver[];
  /** How long to wait for a driver's acknowledgement, in cycles. */
  readonly ackTimeout: Cycles;
  /** Cycles between heartbeat checks (0: no hang detection). */
  readonly heartbeatInterval?: Cycles;
  /** Restart drivers that die, hang or are disabled (absent: reset only, as before). */
  readonly restarter?: DriverRestarter;
  /**
   * Restart budget: a driver restarted this many times within {@link restartWindow} cycles is
   * left stopped (default 5), so a driver that fails at every start does not restart forever.
   */
  readonly maxRestarts?: number;
  /** The budget's window in cycles (default: no window, the budget is for the whole run). */
  readonly restartWindow?: Cycles;
}

/** Why the supervisor restarted a driver. */
export type DriverFaultCause = 'failed' | 'exited' | 'hung' | 'quota' | 'iommu';

/** One restart, as the supervisor recorded it. */
export interface DriverRestartRecord {
  /** The driver thread. */
  readonly thread: ThreadId;
  /** How the fault was detected. */
  readonly cause: DriverFaultCause;
  /** When it was detected (cycles). */
  readonly detectedAt: Cycles;
  /** When the fresh driver thread was started (cycles). */
  readonly restartedAt: Cycles;
  /** Pins the manager recovered. */
  readonly pinsRecovered: number;
}

/** Counters of a {@link DeviceSupervisor}. */
export interface DeviceSupervisorStats {
  /** Drivers disabled on the manager's request. */
  driversDisabled: number;
  /** Devices reset. */
  devicesReset: number;
  /** Disabled drivers that acknowledged. */
  acknowledged: number;
  /** Requests refused (unknown requester or driver). */
  refused: number;
  /** Exit notices of driver threads (thrown or returned). */
  exitsNotified: number;
  /** Drivers found hung by their heartbeat. */
  hangsDetected: number;
  /** Drivers restarted. */
  driversRestarted: number;
  /** Pins the manager recovered from restarted drivers. */
  pinsRecovered: number;
  /** Heartbeat checks made. */
  heartbeatChecks: number;
  /** Restarts refused because the driver spent its restart budget (it stays stopped). */
  restartsRefused: number;
  /** IOMMU fault interrupts taken (each a DMA of a driver's device that the IOMMU refused). */
  iommuFaults: number;
  /**
   * IOMMU faults of a driver's other devices, signalled before the recovery of its first one
   * reset them: part of that fault, no recovery of their own.
   */
  iommuFaultsMerged: number;
  /**
   * Drivers that looked hung (heartbeat still, work pending at two checks) but took the
   * supervisor's wake-up probe: blocked in their receive, so asleep — the pending work was what
   * a client wrote into the shared session words — and not restarted.
   */
  probesAnswered: number;
}

const EMPTY: Message = Object.freeze({ label: DRIVER_DISABLED_LABEL, words: [] });
const WAKE: Message = Object.freeze({ label: 0x5257, words: Object.freeze([]) });
const UNMASK: Message = Object.freeze({ label: 0, words: Object.freeze([]) });
/** The supervisor's liveness probe of a driver that looks hung (any label wakes a driver). */
const PROBE: Message = Object.freeze({ label: 0x5052, words: Object.freeze([]) });

interface Watched {
  readonly config: SupervisedDriver;
  readonly regs: RegisterWindow[];
  readonly monitors: NetSessionMonitor[];
  readonly lastBeat: number[];
  readonly wasPending: boolean[];
  reopened: (readonly [number, number])[] | null;
  /** When it was restarted (cycles), most recent last. */
  readonly restartedAt: number[];
}

/** Every {@link DeviceSupervisorStats} counter at zero (also what a realiser reports before the supervisor exists). */
export function emptyDeviceSupervisorStats(): DeviceSupervisorStats {
  return {
    driversDisabled: 0,
    devicesReset: 0,
    acknowledged: 0,
    refused: 0,
    exitsNotified: 0,
    hangsDetected: 0,
    driversRestarted: 0,
    pinsRecovered: 0,
    heartbeatChecks: 0,
    restartsRefused: 0,
    iommuFaults: 0,
    probesAnswered: 0,
    iommuFaultsMerged: 0,
  };
}

/** The device supervisor thread; run {@link DeviceSupervisor.body}. */
export class DeviceSupervisor {
  /** Counters. */
  readonly stats: DeviceSupervisorStats = emptyDeviceSupervisorStats();
  /** Every restart, in order (read by the engine side: `udf chaos`). */
  readonly restarts: DriverRestartRecord[] = [];

  /** @param config - manager, drivers and their register windows and sessions, policies */
  constructor(private readonly config: DeviceSupervisorConfig) {}

  /** The thread body. */
  *body(sys: Sys): Generator<KernelCall, void, unknown> {
    const watched = new Map<ThreadId, Watched>();
    /** The interrupt thread of each IOMMU fault line, and the driver whose device it serves. */
    const faultOf = new Map<ThreadId, Watched>();
    for (const d of this.config.drivers) {
      const regs = d.registers.map((vaddr) => {
        const w = sys.mem.registers(vaddr);
        if (w === null) throw new Error(`supervisor: no register window at ${vaddr}`);
        return w;
      });
      const monitors: NetSessionMonitor[] = [];
      for (const s of d.sessions ?? []) {
        const bytes = netSessionLayout(s.capacity).byteLength;
        const view = yield* sys.mem.access(s.vaddr, bytes, 'write');
        if (!('buffer' in view))
          throw new Error(`supervisor: no session region at ${s.vaddr}: ${view.error}`);
        monitors.push(
          new NetSessionMonitor({
            buffer: view.buffer,
            byteOffset: view.byteOffset,
            capacity: s.capacity,
          }),
        );
      }
      watched.set(d.thread, {
        config: d,
        regs,
        monitors,
        lastBeat: monitors.map(() => -1),
        wasPending: monitors.map(() => false),
        reopened: null,
        restartedAt: [],
      });
      for (const line of d.faultLines ?? []) {
        if (line === null) continue;
        const attached = yield* sys.irq.attach(line);
        if (!attached.ok)
          throw new Error(`supervisor: IOMMU fault line ${line}: ${attached.error}`);
        faultOf.set(attached.irqThread, watched.get(d.thread)!);
      }
    }
    const interval = this.config.heartbeatInterval ?? 0;
    let nextCheck = interval > 0 ? sys.now() + interval : Number.POSITIVE_INFINITY;
    for (;;) {
      const timeout = interval > 0 ? Math.max(1, nextCheck - sys.now()) : NEVER;
      const r = yield* sys.ipc.receive(ANY_THREAD, timeout);
      if (sys.now() >= nextCheck) {
        nextCheck = sys.now() + interval;
        for (const w of watched.values()) {
          if (!this.hung(w)) continue;
          // The sessions' words are shared with the clients, which can fake pending work (write
          // "awake" into the driver's bit, or leave frames it cannot take). A driver blocked in
          // its receive takes the probe and runs a pass: it is asleep, not hung.
          const probe = yield* sys.ipc.send(w.config.thread, PROBE, ZERO);
          if (probe.ok) {
            this.stats.probesAnswered++;
            w.wasPending.fill(false);
            continue;
          }
          this.stats.hangsDetected++;
          yield* this.recover(sys, w, 'hung');
        }
      }
      if (!r.ok) continue;
      const faulted = r.msg.label === INTERRUPT_LABEL ? faultOf.get(r.from) : undefined;
      if (faulted !== undefined) {
        this.stats.iommuFaults++;
        yield* this.iommuFault(sys, faulted);
        yield* sys.ipc.reply(r.from, UNMASK);
        // The recovery reset every device of the driver: a fault another of them signalled
        // meanwhile is part of this one (a second recovery would restart the fresh driver).
        for (const [line, w] of faultOf) {
          if (w !== faulted || line === r.from) continue;
          const stale = yield* sys.ipc.receive(line, ZERO);
          if (!stale.ok) continue;
          this.stats.iommuFaults++;
          this.stats.iommuFaultsMerged++;
          yield* sys.ipc.reply(line, UNMASK);
        }
        continue;
      }
      const label = r.msg.label;
      const driver = r.msg.words[0];
      const w = driver === undefined ? undefined : watched.get(driver);
      if (label === THREAD_EXIT_LABEL) {
        // From the kernel, on the driver's exit notifier: no reply is due.
        if (w === undefined || w.config.exitNotifier !== r.from) {
          this.stats.refused++;
          continue;
        }
        this.stats.exitsNotified++;
        yield* this.recover(sys, w, r.msg.words[1] === 0 ? 'exited' : 'failed');
        continue;
      }
      if (label === SESSIONS_OPENED_LABEL) {
        this.record(watched.get(r.from), r.msg.words);
        continue;
      }
      if (r.from !== this.config.manager || label !== DRIVER_DISABLE_LABEL || w === undefined) {
        this.stats.refused++;
        yield* sys.ipc.reply(r.from, { label: SUPERVISOR_REFUSED, words: [] });
        continue;
      }
      this.stats.driversDisabled++;
      if (this.mayRestart(sys, w)) {
        // The driver is stopped before the manager recovers its pins, then restarted.
        for (const regs of w.regs) resetDevice(regs);
        this.stats.devicesReset += w.regs.length;
        this.config.restarter!.stop(w.config.thread);
        yield* sys.ipc.reply(r.from, { label: SUPERVISOR_OK, words: [] });
        yield* this.recover(sys, w, 'quota');
        continue;
      }
      for (const regs of w.regs) resetAndRaiseSoftwareInterrupt(regs);
      this.stats.devicesReset += w.regs.length;
      const ack = yield* sys.ipc.call(driver!, EMPTY, this.config.ackTimeout);
      if (ack.ok) this.stats.acknowledged++;
      yield* sys.ipc.reply(r.from, { label: SUPERVISOR_OK, words: [] });
    }
  }

  /**
   * An IOMMU fault of one of a driver's devices: a crash of that driver (reset, stop, recover,
   * restart); a driver that cannot be restarted only has its devices reset and woken.
   */
  private *iommuFault(sys: Sys, w: Watched): Generator<KernelCall, void, unknown> {
    if (this.config.restarter === undefined || w.config.exitNotifier === undefined) {
      for (const regs of w.regs) resetAndRaiseSoftwareInterrupt(regs);
      this.stats.devicesReset += w.regs.length;
      return;
    }
    yield* this.recover(sys, w, 'iommu');
  }

  /** Keep a driver's session-open records (sent once, by the driver itself, at its first start). */
  private record(w: Watched | undefined, words: readonly number[]): void {
    if (w === undefined || w.reopened !== null || words.length % 2 !== 0) {
      this.stats.refused++;
      return;
    }
    const pairs: (readonly [number, number])[] = [];
    for (let i = 0; i < words.length; i += 2) pairs.push([words[i]!, words[i + 1]!]);
    w.reopened = pairs;
  }

  /**
   * A heartbeat check of one driver: hung if, in some session, the heartbeat has not moved since
   * the last check while work was pending at both checks — the session's (the driver is awake,
   * or its client submitted frames) or its devices' (an interrupt it has not acknowledged) — and
   * the restarter does not say the driver was starved of the CPU meanwhile
   * ({@link DriverRestarter.starved}).
   */
  private hung(w: Watched): boolean {
    this.stats.heartbeatChecks++;
    let hung = false;
    const restarter = this.config.restarter;
    const starved = restarter?.starved?.(w.config.thread) ?? false;
    const device = restarter?.interruptPending(w.config.thread) ?? false;
    for (let i = 0; i < w.monitors.length; i++) {
      const m = w.monitors[i]!;
      const beat = m.control.heartbeat();
      const pending = device || m.pendingWork();
      if (beat === w.lastBeat[i] && pending && w.wasPending[i]) hung = true;
      w.lastBeat[i] = beat;
      w.wasPending[i] = pending;
    }
    return hung && !starved;
  }

  /** True if the driver can be restarted: a restarter, its records, and budget left. */
  private mayRestart(sys: Sys, w: Watched): boolean {
    if (this.config.restarter === undefined || w.reopened === null) return false;
    const window = this.config.restartWindow ?? Number.POSITIVE_INFINITY;
    const since = sys.now() - window;
    const recent = w.restartedAt.filter((t) => t > since).length;
    return recent < (this.config.maxRestarts ?? 5);
  }

  /**
   * Reset, stop, recover pins, new epochs, restart; see the module comment. A driver that cannot
   * be restarted is reset and stopped (its pins recovered all the same).
   */
  private *recover(
    sys: Sys,
    w: Watched,
    cause: DriverFaultCause,
  ): Generator<KernelCall, void, unknown> {
    const restarter = this.config.restarter;
    if (restarter === undefined) return;
    const restart = cause === 'quota' || this.mayRestart(sys, w);
    const detectedAt = sys.now();
    const thread = w.config.thread;
    if (cause !== 'quota') {
      for (const regs of w.regs) resetDevice(regs);
      this.stats.devicesReset += w.regs.length;
    }
    restarter.stop(thread);
    const r = yield* sys.ipc.call(this.config.manager, {
      label: DRIVER_RECOVER_LABEL,
      words: [thread],
    });
    const pins = r.ok ? (r.msg.words[1] ?? 0) : 0;
    this.stats.pinsRecovered += pins;
    if (!restart || w.reopened === null) {
      this.stats.restartsRefused++;
      return;
    }
    w.restartedAt.push(detectedAt);
    for (const m of w.monitors) m.control.bumpEpoch();
    w.lastBeat.fill(-1);
    w.wasPending.fill(false);
    restarter.restart(thread, w.reopened);
    this.stats.driversRestarted++;
    this.restarts.push({ thread, cause, detectedAt, restartedAt: sys.now(), pinsRecovered: pins });
    for (const s of w.config.sessions ?? []) yield* sys.ipc.send(s.client, WAKE, ZERO);
  }
}
