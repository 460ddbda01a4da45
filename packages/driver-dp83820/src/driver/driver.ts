/**
 * The user-level DP83820 driver (paper sections 4.1–4.5): one thread per driver domain that runs
 * one or several devices (isolated or clustered placement) and serves client sessions.
 *
 * Loop: do all work that can be done (harvest received frames into the sessions that posted the
 * buffers, reap transmit completions, take posted receive buffers and submitted frames from the
 * sessions: validate, translate and pin, hand to the device, kick), notify clients whose
 * notification bit says asleep; when nothing is left, announce sleep on every session (except,
 * with notification avoidance, while a transmit-complete interrupt is still due), re-check under
 * preemption control, and block — replying to the pending interrupt thread in the same call
 * (`replyWait`), which unmasks the line. An interrupt IPC runs the device's ISR.
 *
 * Several client sessions may share one device (they name it in their session config). A session
 * whose return ring is full costs only itself: its completions wait, in order, in a per-session
 * deferred queue (the buffer already unpinned and out of the device ring), and no new buffer is
 * taken from it until they have gone, so the device ring fills with the other sessions' buffers
 * and harvesting never stops at a buffer of a session that is not consuming
 * (`stats.returnsDeferred`).
 *
 * Receive steering: the device fills whichever buffer comes next in its ring, whoever posted it,
 * so on a device shared by several sessions a frame may land in another session's buffer. The
 * driver then decides the owning session from the frame itself (read through the sessions'
 * dataspaces, mapped in the driver's space: `dataspacesAt` of the session config) and the
 * addresses the sessions registered (`address`):
 *
 * 1. a unicast destination MAC a session registered → that session;
 * 2. IPv4 (validated: length, version 4, header length ≥ 5 words): the session whose IPv4 address
 *    is the destination; otherwise, for a broadcast or multicast destination (MAC or IP), the
 *    device's first session (lowest session index); otherwise nobody;
 * 3. ARP: the session whose IPv4 address is the target protocol address (requests and replies
 *    alike), otherwise nobody (no session would answer it);
 * 4. any other ethertype → the device's first session;
 * 5. frames too short for what they claim to be → nobody.
 *
 * A frame for nobody is dropped (`stats.rxUnclaimed`). A frame for another session is copied into
 * a buffer that session posted (taken from its `rxFree` ring and validated like any other;
 * `stats.steeredCopies`, the copy charged per byte to `Driver`), or dropped if that session has
 * no posted buffer, completions waiting or a full return ring (`stats.steerDrops`: the cost of
 * that session only). In both cases the buffer it landed in goes straight back to the device,
 * still pinned: its session does not see it. A device with one session is never steered (no
 * header read, no cost): its frames stay in the buffers they landed in, as before.
 *
 * What steering cannot give: a frame that lands in another session's buffer sits in that
 * session's memory until the driver copies it, so that session can read or alter it first (and
 * a buffer it posted twice holds one frame for two slots). Sessions sharing a NIC share the
 * confidentiality and integrity of their received frames; only their availability is isolated.
 *
 * Client descriptors are validated against the session's dataspaces before anything else; an
 * invalid one is returned at once with an error status and counted; the device never sees it.
 * Buffers are pinned for the duration of DMA: pinned when handed to the device, unpinned when
 * the device gives them back. Every page the device can reach is pinned (one pin per page, so
 * the manager's pin quota counts pages): a receive buffer may be posted with any size up to
 * 0xffff, but the device is told at most one maximal frame (1518 B, it drops longer frames), so
 * DMA never reaches past the pages pinned for it, whatever the client posts.
 *
 * Pin quota (section 4.4): a dataspace manager that finds the driver over its pin quota disables
 * it and recovers its pins; its hook (`onDriverDisabled` of `@udf/dataspace`'s AnonymousManager)
 * calls {@link Dp83820Driver.quotaExceeded}. That runs outside the driver thread, so it does only
 * what is safe there: it resets every device through the register window — DMA stops before the
 * manager recycles the pages — and raises the device's software interrupt to wake the driver
 * thread. Everything touching sessions happens in the driver thread at its next wake-up (the
 * session rings have one producer, and the thread may be suspended in the middle of a pass):
 * it resets the devices once more, returns every buffer they held with `DescStatus.Aborted`, and
 * from then on returns every posted or submitted descriptor with `Aborted` too.
 *
 * Restart (DESIGN.md, "Crash and restart"): the driver holds only soft state. It bumps each
 * session's heartbeat on every pass of its loop (the device supervisor watches it), and a driver
 * the supervisor restarted after a crash first waits for its clients to acknowledge their
 * sessions' new epoch — all together, and at most {@link RESTART_ACK_WAIT_SECONDS} — drops what
 * was left in the post rings, serves the epoch, and only then initialises its devices and opens
 * a fresh translation cache (see `SessionControl` in `@udf/netdev`). A session whose client has
 * not acknowledged by then is left untouched and served from the pass where it does: a hung or
 * hostile client holds up only itself.
 *
 * Hostile clients: besides the descriptor validation above, every session has counters of its
 * own on the counters page (`<prefix>.sessions.<i>`, {@link Dp83820SessionStats}): rejections by
 * cause, wake-ups from its client, corrupt words read in its region. Wake-ups after which a pass
 * found nothing to do are counted in `stats.idleWakeups`; the device supervisor's liveness probe
 * is not counted as a client's.
 *
 * @module
 */
import { CountersPage, DRIVER_DISABLED_LABEL, Session, ValidationStatus } from '@udf/dataspace';
import {
  ANY_THREAD,
  INTERRUPT_LABEL,
  type KernelCall,
  type Message,
  NEVER,
  NIL_THREAD,
  type Sys,
  type ThreadBody,
  type ThreadId,
  ZERO,
} from '@udf/l4-kernel';
import { DescStatus, NetSessionDriver, netSessionLayout } from '@udf/netdev';
import { MAX_RX_FRAME } from '../device/dp83820.js';
import {
  type Dp83820DriverConfig,
  Dp83820DriverConfigError,
  type Dp83820SessionConfig,
  type DriverTranslation,
} from './config.js';
import {
  DP83820_DRIVER_COSTS,
  DP83820_STEERING_COSTS,
  type Dp83820DriverCosts,
  type Dp83820SteeringCosts,
} from './costs.js';
import { type Completion, DeviceDriver } from './device-driver.js';

/** Smallest receive buffer a client may post: one maximal frame (1514 B + VLAN tag). */
export const MIN_RX_BUFFER = MAX_RX_FRAME;
/** Largest frame a client may submit (without FCS): 1514 B + a 4-byte VLAN tag. */
export const MAX_TX_FRAME = MAX_RX_FRAME;
/** Smallest frame a client may submit: an Ethernet header. */
export const MIN_TX_FRAME = 14;
/** Label of the notification IPC the driver sends a client (clients may use any label towards the driver). */
export const DRIVER_NOTIFY_LABEL = 0x4e44;

const PAGE_SIZE = 4096;

/**
 * Bytes of a client buffer of `len` bytes the device may write or read: a receive buffer is
 * handed to the device with its size bounded to one maximal frame (the device drops longer
 * frames unless RXCFG.ALP, which the driver never sets), and a transmit frame is at most that
 * long; only this span is pinned.
 */
function dmaSpan(len: number): number {
  return Math.min(len, MAX_RX_FRAME);
}
/**
 * How often a restarted driver re-checks whether its clients acknowledged the new epoch (see
 * `SessionControl` in `@udf/netdev`), in seconds. A client's acknowledgement also wakes the
 * driver by IPC; the poll only bounds the wait when that wake-up found the driver busy. Not a
 * measured figure: a latency bound on the restart handshake, far below any outage it is part of.
 */
export const RESTART_POLL_SECONDS = 50e-6;
/**
 * How long a restarted driver waits for its clients' acknowledgements before it initialises its
 * devices anyway, in seconds. A client that has not acknowledged by then (hung, dead, hostile)
 * holds up only its own session, which the driver serves from the pass where the
 * acknowledgement appears. Not a measured figure: far above the microseconds an honest client
 * takes once woken, far below the outages a restart costs.
 */
export const RESTART_ACK_WAIT_SECONDS = 1e-3;

const NOTIFY_MSG: Message = Object.freeze({ label: DRIVER_NOTIFY_LABEL, words: Object.freeze([]) });
const EMPTY_MSG: Message = Object.freeze({ label: 0, words: Object.freeze([]) });

/** Counters of one driver domain. */
export interface Dp83820DriverStats {
  /** Interrupt IPCs handled. */
  interrupts: number;
  /** Client notifications received. */
  clientNotifications: number;
  /** Frames delivered to clients with status OK. */
  rxFrames: number;
  /** Receive buffers returned with a device error. */
  rxErrors: number;
  /** Frames the device sent for clients. */
  txFrames: number;
  /** Transmit buffers returned with a device error. */
  txErrors: number;
  /** Posted receive descriptors rejected by validation (never given to the device). */
  rxRejected: number;
  /** Submitted transmit descriptors rejected by validation (never given to the device). */
  txRejected: number;
  /** Buffers whose translation failed even after a refill. */
  translationFailures: number;
  /** Translation misses resolved by a refill IPC. */
  translationRefills: number;
  /** Notification IPCs sent to clients. */
  notificationsSent: number;
  /** Notifications a client was not waiting for (zero-timeout send failed; it must recover). */
  notificationsMissed: number;
  /**
   * Completions (received frames, transmit completions, rejected or aborted descriptors) that
   * found their session's return ring full and waited in the driver's per-session queue instead
   * (delivered in order once the client makes room; the rest of the device keeps being served).
   */
  returnsDeferred: number;
  /**
   * Completions lost because a session's deferred queue was full too (a bound the protocol
   * never reaches: a session gets no new buffers taken while it has deferred completions).
   */
  returnDrops: number;
  /** Descriptors taken from the sessions' `rxFree` and `txReq` rings (valid or not). */
  descriptorsTaken: number;
  /** Descriptors put on the sessions' `rxUsed` and `txDone` rings (completed, rejected or aborted). */
  descriptorsReturned: number;
  /** Times the driver was disabled for exceeding its pin quota ({@link Dp83820Driver.quotaExceeded}; 0 or 1). */
  quotaDisables: number;
  /** Client buffers the devices held when the driver was disabled, returned with `DescStatus.Aborted`. */
  buffersAborted: number;
  /** Receive buffers posted to a disabled driver, returned with `DescStatus.Aborted`. */
  rxAborted: number;
  /** Transmit descriptors submitted to a disabled driver, returned with `DescStatus.Aborted`. */
  txAborted: number;
  /**
   * Corruptions the driver's session ends have seen in the shared session regions: ring indices
   * out of range and garbage in the notification bits (netdev `NetSessionStats.corruptions +
   * bitCorruptions`, summed over every session; each read of a corrupt word counts). A client
   * that scribbles on its region costs counted corruptions here, never a crash. Refreshed at the
   * end of every pass of the driver's loop (a plain number, so it lives on the counters page).
   */
  sessionCorruptions: number;
  /**
   * Client notifications after which the driver's next pass found nothing to do: wake-ups that
   * only cost a pass (a client flooding the driver with notifications shows up here).
   */
  idleWakeups: number;
  /** Received frames copied from the buffer they landed in to a buffer of the session they belong to (receive steering). */
  steeredCopies: number;
  /**
   * Received frames dropped because the session they belong to had no posted receive buffer,
   * completions waiting or a full return ring, or its dataspaces are not mapped in the driver
   * (receive steering; the other sessions keep being served).
   */
  steerDrops: number;
  /** Received frames that belong to no session (unknown destination, or a malformed header) and were dropped (receive steering). */
  rxUnclaimed: number;
  /**
   * Descriptors a restarted driver found left in its sessions' post rings from before the
   * restart and dropped (their clients had reclaimed those buffers).
   */
  staleDiscarded: number;
}

/**
 * Counters of one session of a driver (what that client's descriptors and wake-ups cost), kept
 * on the counters page as `<prefix>.sessions.<i>.<name>` (i: the session's position in the
 * driver's configuration). A hostile client's misbehaviour is counted on its own session here,
 * the other sessions' counters stay clean.
 */
export interface Dp83820SessionStats {
  /** Descriptors taken from this session's `rxFree` and `txReq` rings (valid or not). */
  descriptorsTaken: number;
  /** Posted receive descriptors rejected by validation (returned at once with their status). */
  rxRejected: number;
  /** Submitted transmit descriptors rejected by validation. */
  txRejected: number;
  /** Rejected: the dataspace is not one of the session's (`DescStatus.ForeignDataspace`). */
  foreignDataspace: number;
  /** Rejected: the range lies (partly) outside the dataspace (`DescStatus.OutOfRange`). */
  outOfRange: number;
  /** Rejected: a length out of bounds (`DescStatus.BadLength`). */
  badLength: number;
  /** Wake-up IPCs from the session's client thread. */
  notifications: number;
  /**
   * Corrupt words seen in the session's region (ring indices, notification bits; each read of
   * one counts), refreshed at the end of every pass. The driver's `sessionCorruptions` is their
   * sum (named apart so that a total over every counter counts each once).
   */
  corruptReads: number;
}

/** Allocation-free scratch for one descriptor taken from a session ring. */
const DESC_WORDS = 4;

interface SessionState {
  readonly config: Dp83820SessionConfig;
  readonly index: number;
  readonly device: DeviceDriver;
  readonly validation: Session;
  net: NetSessionDriver | null;
  pendingNotify: number;
  readonly deferred: DeferredReturns;
  /** The session's dataspaces as mapped in the driver's space (same order as `config.dataspaces`; null = not mapped). */
  readonly views: (Uint8Array | null)[];
  /** Registered IPv4 address, or -1. */
  readonly ipv4: number;
  /** Registered MAC, or null. */
  readonly mac: Uint8Array | null;
  /** Every dataspace of the session is mapped in the driver's space (set at initialisation). */
  mapped: boolean;
  /** The session's counters. */
  readonly stats: Dp83820SessionStats;
  /**
   * The driver serves the session's epoch (set at once on a first start; after a restart, once
   * the client acknowledged the new epoch). Until then nothing of the session is touched.
   */
  serving: boolean;
}

/**
 * Completions waiting for room in one session's return rings, in order (a FIFO of fixed
 * capacity in typed arrays: nothing allocated per packet). The buffers are unpinned: only the
 * descriptor waits, no DMA reaches them any more.
 */
class DeferredReturns {
  private readonly ds: Float64Array;
  private readonly off: Float64Array;
  private readonly len: Float64Array;
  private readonly status: Uint8Array;
  /** 1 = receive (`rxUsed`), 0 = transmit (`txDone`). */
  private readonly rx: Uint8Array;
  private head = 0;
  /** Entries waiting. */
  count = 0;

  constructor(readonly capacity: number) {
    this.ds = new Float64Array(capacity);
    this.off = new Float64Array(capacity);
    this.len = new Float64Array(capacity);
    this.status = new Uint8Array(capacity);
    this.rx = new Uint8Array(capacity);
  }

  push(rx: boolean, ds: number, off: number, len: number, status: number): boolean {
    if (this.count === this.capacity) return false;
    const i = (this.head + this.count) % this.capacity;
    this.ds[i] = ds;
    this.off[i] = off;
    this.len[i] = len;
    this.status[i] = status;
    this.rx[i] = rx ? 1 : 0;
    this.count++;
    return true;
  }

  /** Deliver from the head while the session's rings take them; returns how many went. */
  flush(net: NetSessionDriver): number {
    let n = 0;
    while (this.count > 0) {
      const i = this.head;
      const ok =
        this.rx[i] === 1
          ? net.deliverRx(this.ds[i]!, this.off[i]!, this.len[i]!, this.status[i]!)
          : net.completeTx(this.ds[i]!, this.off[i]!, this.len[i]!, this.status[i]!);
      if (!ok) break;
      this.head = (i + 1) % this.capacity;
      this.count--;
      n++;
    }
    return n;
  }
}

/**
 * One driver domain. `body` is the thread body to create in the driver's address space;
 * `stats` and `devices` stay readable by the assembler.
 *
 * ```ts
 * const driver = new Dp83820Driver({ devices: [...], sessions: [...], translation });
 * kernel.createThread({ name: 'dp83820', space: driverSpace, priority: 200, body: driver.body });
 * ```
 */
export class Dp83820Driver {
  /** The thread body. */
  readonly body: ThreadBody;
  /** Counters (plain numeric fields). */
  readonly stats: Dp83820DriverStats = {
    interrupts: 0,
    clientNotifications: 0,
    rxFrames: 0,
    rxErrors: 0,
    txFrames: 0,
    txErrors: 0,
    rxRejected: 0,
    txRejected: 0,
    translationFailures: 0,
    translationRefills: 0,
    notificationsSent: 0,
    notificationsMissed: 0,
    returnsDeferred: 0,
    returnDrops: 0,
    descriptorsTaken: 0,
    descriptorsReturned: 0,
    quotaDisables: 0,
    buffersAborted: 0,
    rxAborted: 0,
    txAborted: 0,
    sessionCorruptions: 0,
    idleWakeups: 0,
    steeredCopies: 0,
    steerDrops: 0,
    rxUnclaimed: 0,
    staleDiscarded: 0,
  };
  /** Station addresses of the devices (valid once the driver has initialised them). */
  readonly macs: readonly Uint8Array[];
  /** Per-session validation state (its `counters` count results by `ValidationStatus`). */
  readonly sessions: readonly Session[];
  /** Per-session counters, in configuration order. */
  readonly sessionStats: readonly Dp83820SessionStats[];

  private readonly config: Dp83820DriverConfig;
  private readonly costs: Dp83820DriverCosts;
  private readonly steerCosts: Dp83820SteeringCosts;
  private readonly devices: DeviceDriver[];
  private readonly states: SessionState[];
  private readonly avoidance: boolean;
  private translation: DriverTranslation | null = null;
  private readonly slot = new Uint32Array(DESC_WORDS);
  private readonly done: Completion = { tag: 0, length: 0, ok: false };
  // Buffer records by tag (tag = index into these arrays).
  private readonly bufSession: Int32Array;
  private readonly bufDs: Float64Array;
  private readonly bufOff: Float64Array;
  private readonly bufLen: Float64Array;
  private readonly bufPaddr: Float64Array;
  /** Per device: its sessions in index order when there are several (receive steering), else null. */
  private readonly steerGroups: (SessionState[] | null)[];
  private readonly freeTags: Int32Array;
  private freeTagCount: number;
  private ready = false;
  /** Set by {@link Dp83820Driver.quotaExceeded}, from any context; the driver thread acts on it. */
  private disableRequested = false;
  /** The driver thread has stopped its devices (it then only returns buffers, `Aborted`). */
  private stopped = false;

  /** @param config - devices, sessions, translation, costs */
  constructor(config: Dp83820DriverConfig) {
    this.config = config;
    this.costs = { ...DP83820_DRIVER_COSTS, ...config.costs };
    this.steerCosts = { ...DP83820_STEERING_COSTS, ...config.steeringCosts };
    this.avoidance = config.notifyAvoidance ?? true;
    if (config.devices.length === 0) throw new Dp83820DriverConfigError('no devices');
    this.devices = config.devices.map((d) => new DeviceDriver(d, this.costs));
    this.macs = this.devices.map((d) => d.mac);
    this.states = config.sessions.map((s, index) => {
      const device = this.devices[s.device];
      if (!device) throw new Dp83820DriverConfigError(`session ${index}: no device ${s.device}`);
      return {
        config: s,
        index,
        device,
        validation: new Session({ id: index, maxDataspaces: Math.max(1, s.dataspaces.length) }),
        net: null,
        pendingNotify: 0,
        deferred: new DeferredReturns(device.rxSlots + device.txSlots + 2 * s.capacity),
        views: s.dataspaces.map(() => null),
        ipv4: validIpv4(s.address?.ipv4),
        mac: validMac(index, s.address?.mac),
        mapped: false,
        stats: {
          descriptorsTaken: 0,
          rxRejected: 0,
          txRejected: 0,
          foreignDataspace: 0,
          outOfRange: 0,
          badLength: 0,
          notifications: 0,
          corruptReads: 0,
        },
        serving: false,
      };
    });
    this.steerGroups = this.devices.map((d) => {
      const group = this.states.filter((s) => s.device === d);
      return group.length > 1 ? group : null;
    });
    this.sessions = this.states.map((s) => s.validation);
    this.sessionStats = this.states.map((s) => s.stats);
    let tags = 0;
    for (const d of this.devices) tags += d.rxSlots + d.txSlots;
    this.bufSession = new Int32Array(tags);
    this.bufDs = new Float64Array(tags);
    this.bufOff = new Float64Array(tags);
    this.bufLen = new Float64Array(tags);
    this.bufPaddr = new Float64Array(tags);
    this.freeTags = new Int32Array(tags);
    for (let i = 0; i < tags; i++) this.freeTags[i] = tags - 1 - i;
    this.freeTagCount = tags;
    this.body = (sys: Sys) => this.run(sys);
  }

  /** True once every device and session is initialised and the driver serves requests. */
  get running(): boolean {
    return this.ready;
  }

  /**
   * Client descriptors the driver holds: in the devices' rings or waiting in a session's deferred
   * queue. At every moment `stats.descriptorsTaken = stats.descriptorsReturned + buffersHeld +
   * stats.returnDrops`: no client buffer is ever lost or duplicated by the driver.
   */
  get buffersHeld(): number {
    let n = 0;
    for (const d of this.devices) n += d.rxInUse + d.txInUse;
    for (const s of this.states) n += s.deferred.count;
    return n;
  }

  /** True once {@link Dp83820Driver.quotaExceeded} has been called: the driver accepts no more work. */
  get disabled(): boolean {
    return this.disableRequested;
  }

  /**
   * Disable the driver because it exceeded its pin quota (paper section 4.4). Call it from the
   * dataspace manager's hook, which runs before the manager recovers the driver's pins:
   *
   * ```ts
   * new AnonymousManager({ pool, onDriverDisabled: (id) => { if (id === driverThread) driver.quotaExceeded(); } });
   * ```
   *
   * At once, in the caller's context: every device is reset through the driver's register window
   * (CR.RST), so no DMA reaches client buffers from here on (a burst already on the bus completes
   * without effect), and raises its software interrupt so the driver thread wakes.
   *
   * In the driver thread, at its next wake-up (or next pass, if it is running): the devices are
   * reset again and never handed a descriptor; every client buffer they held goes back to its
   * session with `DescStatus.Aborted` (as return-ring space allows; `stats.buffersAborted`); a
   * buffer being taken when the call came is returned `Aborted` too; and every receive buffer
   * posted or frame submitted afterwards is returned `Aborted` without validation
   * (`stats.rxAborted`, `stats.txAborted`). The driver's own pins are released as buffers go
   * back. Counted once in `stats.quotaDisables`; later calls do nothing. Never throws. Runs only
   * in the address space holding the driver object (the sim engine, or the driver's own domain).
   */
  quotaExceeded(): void {
    if (this.disableRequested) return;
    this.disableRequested = true;
    this.stats.quotaDisables++;
    for (const d of this.devices) d.resetAndWake();
  }

  private *run(sys: Sys): Generator<KernelCall, void, unknown> {
    const counters = this.config.counters;
    const page = counters ? yield* CountersPage.open(sys, counters.vaddr) : null;
    if (page && counters) {
      page.bind(counters.prefix, this.stats);
      for (const s of this.states) page.bind(`${counters.prefix}.sessions.${s.index}`, s.stats);
    }
    yield* this.init(sys);
    this.ready = true;
    page?.ready();
    let pendingIrq: ThreadId = NIL_THREAD;
    /** Woken by a client's notification: was the next pass of any use? */
    let wokenByClient = false;
    for (;;) {
      const moved = yield* this.work(sys);
      if (wokenByClient && !moved) this.stats.idleWakeups++;
      wokenByClient = false;
      if (moved) {
        if (pendingIrq !== NIL_THREAD) {
          sys.charge('Interrupt', this.costs.interruptAck);
          yield* sys.ipc.reply(pendingIrq, EMPTY_MSG);
          pendingIrq = NIL_THREAD;
        }
        continue;
      }
      sys.charge('Notification', this.costs.sleepPerSession * this.states.length);
      sys.preemption.begin();
      this.announceSleep();
      if ((yield* this.work(sys)) || sys.preemption.preempted()) {
        sys.preemption.end();
        this.cancelSleep();
        continue;
      }
      // The window stays open across the blocking receive: if the thread was preempted after
      // announcing sleep (a client's wake-up may have been sent and missed meanwhile), the kernel
      // aborts the receive and the loop re-checks instead of sleeping through it.
      const r =
        pendingIrq !== NIL_THREAD
          ? yield* sys.ipc.replyWait(pendingIrq, EMPTY_MSG, NEVER)
          : yield* sys.ipc.receive(ANY_THREAD, NEVER);
      sys.preemption.end();
      pendingIrq = NIL_THREAD;
      this.cancelSleep();
      if (!r.ok) continue;
      if (r.msg.label === INTERRUPT_LABEL) {
        const d = this.deviceForIrq(r.from);
        if (d) {
          sys.charge('Interrupt', this.costs.interruptAck);
          this.stats.interrupts++;
          d.isr(sys);
          pendingIrq = r.from;
        }
      } else if (
        r.msg.label === DRIVER_DISABLED_LABEL &&
        this.config.supervisor !== undefined &&
        r.from === this.config.supervisor
      ) {
        // Told by the device supervisor (which has reset the devices): stop them here too
        // before acknowledging, so no later pass of this thread hands them work.
        this.disableInThread();
        yield* sys.ipc.reply(r.from, EMPTY_MSG);
      } else if (r.from !== this.config.supervisor) {
        // (The supervisor's liveness probe only wakes the driver for a pass.)
        this.stats.clientNotifications++;
        wokenByClient = true;
        for (const s of this.states) if (s.config.client === r.from) s.stats.notifications++;
      }
    }
  }

  /** Disable from inside the driver thread (the supervisor's message). */
  private disableInThread(): void {
    if (!this.disableRequested) {
      this.disableRequested = true;
      this.stats.quotaDisables++;
    }
    if (!this.stopped) {
      this.stopped = true;
      for (const d of this.devices) d.stop();
    }
  }

  private *init(sys: Sys): Generator<KernelCall, void, unknown> {
    for (const s of this.states) {
      const layout = netSessionLayout(s.config.capacity);
      const view = yield* sys.mem.access(s.config.region, layout.byteLength, 'write');
      if (!('buffer' in view)) {
        throw new Dp83820DriverConfigError(
          `session ${s.index}: region at ${s.config.region} not accessible (${view.error})`,
        );
      }
      s.net = new NetSessionDriver({
        buffer: view.buffer,
        byteOffset: view.byteOffset,
        capacity: s.config.capacity,
        ...(s.config.notify?.kind === 'per-item' ? { policy: s.config.notify } : {}),
      });
    }
    // A driver restarted after a crash: its clients first reclaim what the dead one held.
    // Before the devices are initialised, so no interrupt arrives while this waits.
    yield* this.awaitEpochs(sys);
    for (const d of this.devices) yield* d.init(sys);
    const tc = yield* this.config.translation(sys);
    this.translation = tc;
    const added = new Map<number, { id: number; size: number }>();
    for (const s of this.states) {
      for (const ds of s.config.dataspaces) {
        let info = added.get(ds);
        if (!info) {
          info = yield* tc.add(ds);
          added.set(ds, info);
        }
        s.validation.add(info);
      }
      const at = s.config.dataspacesAt;
      if (at) {
        for (let i = 0; i < s.config.dataspaces.length; i++) {
          const vaddr = at[i];
          if (vaddr === undefined) continue;
          const size = added.get(s.config.dataspaces[i]!)!.size;
          const v = yield* sys.mem.access(vaddr, size, 'write');
          if (!('bytes' in v)) {
            throw new Dp83820DriverConfigError(
              `session ${s.index}: dataspace ${s.config.dataspaces[i]} not accessible at ${vaddr} (${v.error})`,
            );
          }
          s.views[i] = v.bytes;
        }
        s.mapped = s.views.every((v) => v !== null);
      }
    }
  }

  /**
   * The restart handshake (see `SessionControl` in `@udf/netdev`): for every session whose epoch
   * this driver does not serve yet, wait until the client acknowledged it (it has reclaimed every
   * buffer it had given the dead driver), drop what is left in its post rings, serve the epoch
   * and wake the client. The sessions are waited for together, and for at most
   * {@link RESTART_ACK_WAIT_SECONDS}: a client that does not acknowledge (hung, dead, hostile)
   * must not hold up the others; its session is served from the pass where its acknowledgement
   * appears ({@link serveEpoch}). The heartbeat goes on meanwhile: waiting is not a hang.
   */
  private *awaitEpochs(sys: Sys): Generator<KernelCall, void, unknown> {
    const poll = Math.max(1, Math.round(RESTART_POLL_SECONDS * sys.hz));
    const until = sys.now() + RESTART_ACK_WAIT_SECONDS * sys.hz;
    for (const s of this.states) {
      const c = s.net!.control;
      if (c.driverEpoch() === c.epoch()) s.serving = true;
    }
    for (;;) {
      let waiting = false;
      for (const s of this.states) {
        if (!s.serving && !(yield* this.serveEpoch(sys, s))) waiting = true;
      }
      if (!waiting || sys.now() >= until) return;
      for (const s of this.states) s.net!.control.beat();
      yield* sys.ipc.receive(ANY_THREAD, poll);
    }
  }

  /**
   * Serve a session's new epoch if its client acknowledged it: drop what is left in its post
   * rings, serve the epoch, wake the client. True once the session is served.
   */
  private *serveEpoch(sys: Sys, s: SessionState): Generator<KernelCall, boolean, unknown> {
    const c = s.net!.control;
    const e = c.epoch();
    if (c.clientEpoch() !== e) return false;
    this.stats.staleDiscarded += s.net!.discardStale();
    c.serve(e);
    s.serving = true;
    yield* sys.ipc.send(s.config.client, NOTIFY_MSG, ZERO);
    return true;
  }

  /** One pass over every device and session, then the corruption counters; true if anything moved. */
  private *work(sys: Sys): Generator<KernelCall, boolean, unknown> {
    const moved = yield* this.pass(sys);
    let n = 0;
    for (const s of this.states) {
      s.stats.corruptReads = s.net!.corruptionCount();
      n += s.stats.corruptReads;
    }
    this.stats.sessionCorruptions = n;
    return moved;
  }

  /** One pass over every device and session; true if anything moved. */
  private *pass(sys: Sys): Generator<KernelCall, boolean, unknown> {
    for (const s of this.states) s.net!.control.beat();
    if (this.disableRequested) return yield* this.workDisabled(sys);
    let progress = false;
    for (let i = 0; i < this.devices.length; i++) {
      const d = this.devices[i]!;
      if (this.harvest(sys, d, this.steerGroups[i]!)) progress = true;
      if (this.reap(sys, d)) progress = true;
    }
    for (const s of this.states) {
      if (!s.serving) {
        // A session whose client has not acknowledged the restart yet: untouched until it does.
        if (!(yield* this.serveEpoch(sys, s))) continue;
        progress = true;
      }
      if (this.flushDeferred(s)) progress = true;
      if (yield* this.takeRx(sys, s)) progress = true;
      if (yield* this.takeTx(sys, s)) progress = true;
    }
    // Disabled while this pass was suspended (in a refill): do not kick; the next pass stops.
    if (this.disableRequested) return true;
    for (const d of this.devices) d.kickRxIfIdle();
    yield* this.notifyClients(sys);
    return progress;
  }

  /**
   * A pass of a disabled driver: stop the devices (once), return the buffers they held, return
   * every new descriptor; true if anything moved.
   */
  private *workDisabled(sys: Sys): Generator<KernelCall, boolean, unknown> {
    let progress = false;
    if (!this.stopped) {
      this.stopped = true;
      for (const d of this.devices) d.stop();
      progress = true;
    }
    for (const d of this.devices) {
      if (this.abortHeld(sys, d)) progress = true;
    }
    for (const s of this.states) {
      if (!s.serving) continue;
      if (this.flushDeferred(s)) progress = true;
      if (this.refuseNew(sys, s)) progress = true;
    }
    yield* this.notifyClients(sys);
    return progress;
  }

  /** Notify every session that has completions and whose client announced sleep. */
  private *notifyClients(sys: Sys): Generator<KernelCall, void, unknown> {
    for (const s of this.states) {
      if (s.pendingNotify === 0) continue;
      const n = s.pendingNotify;
      s.pendingNotify = 0;
      sys.charge('Notification', this.costs.notifyCheck);
      // One IPC per wake-up the session's policy asks for: one per completed item under
      // `per-item`, else at most one (this end notifies only a client that announced sleep).
      for (let k = s.net!.notificationsFor(n); k > 0; k--) {
        sys.charge('Notification', this.costs.notifySend);
        const r = yield* sys.ipc.send(s.config.client, NOTIFY_MSG, ZERO);
        if (r.ok) this.stats.notificationsSent++;
        else this.stats.notificationsMissed++;
      }
    }
  }

  /** Return the client buffers a stopped device still holds, `Aborted`, while rings have room. */
  private abortHeld(sys: Sys, d: DeviceDriver): boolean {
    let moved = false;
    for (let tag = d.oldestRxTag(); tag >= 0; tag = d.oldestRxTag()) {
      const s = this.states[this.bufSession[tag]!]!;
      d.dropRx();
      this.returnAborted(sys, s, tag, true);
      moved = true;
    }
    for (let tag = d.oldestTxTag(); tag >= 0; tag = d.oldestTxTag()) {
      const s = this.states[this.bufSession[tag]!]!;
      d.dropTx();
      this.returnAborted(sys, s, tag, false);
      moved = true;
    }
    return moved;
  }

  private returnAborted(sys: Sys, s: SessionState, tag: number, rx: boolean): void {
    const ds = this.bufDs[tag]!;
    const off = this.bufOff[tag]!;
    const len = this.bufLen[tag]!;
    this.unpin(ds, off, len);
    this.stats.buffersAborted++;
    if (rx) this.returnRx(sys, s, ds, off, len, DescStatus.Aborted);
    else this.returnTx(sys, s, ds, off, len, DescStatus.Aborted);
    this.releaseTag(tag);
  }

  /** A disabled driver takes no work: return every posted or submitted descriptor `Aborted`. */
  private refuseNew(sys: Sys, s: SessionState): boolean {
    const net = s.net!;
    const w = this.slot;
    let moved = false;
    while (s.deferred.count === 0 && net.rxReturnSpace() > 0 && net.takeRxBuffer(w)) {
      sys.charge('Buffer', this.costs.bufferTake);
      this.stats.descriptorsTaken++;
      s.stats.descriptorsTaken++;
      this.stats.rxAborted++;
      this.returnRx(sys, s, w[0]!, w[1]!, w[2]!, DescStatus.Aborted);
      moved = true;
    }
    while (s.deferred.count === 0 && net.txReturnSpace() > 0 && net.takeTx(w)) {
      sys.charge('Buffer', this.costs.bufferTake);
      this.stats.descriptorsTaken++;
      s.stats.descriptorsTaken++;
      this.stats.txAborted++;
      this.returnTx(sys, s, w[0]!, w[1]!, w[2]!, DescStatus.Aborted);
      moved = true;
    }
    return moved;
  }

  private harvest(sys: Sys, d: DeviceDriver, group: SessionState[] | null): boolean {
    let moved = false;
    const c = this.done;
    for (;;) {
      const tag = d.peekRxTag();
      if (tag < 0) break;
      const s = this.states[this.bufSession[tag]!]!;
      // A session whose return ring is full does not hold up the device: its completion waits
      // in the session's deferred queue (the buffer is unpinned and leaves the device ring).
      d.harvestRx(sys, c);
      moved = true;
      if (group !== null && c.ok && this.steer(sys, d, group, s, tag, c.length)) continue;
      const ds = this.bufDs[tag]!;
      const off = this.bufOff[tag]!;
      this.unpin(ds, off, this.bufLen[tag]!);
      if (c.ok) this.stats.rxFrames++;
      else this.stats.rxErrors++;
      this.returnRx(
        sys,
        s,
        ds,
        off,
        c.ok ? c.length : this.bufLen[tag]!,
        c.ok ? DescStatus.Ok : DescStatus.DeviceError,
      );
      this.releaseTag(tag);
    }
    return moved;
  }

  /**
   * Receive steering of one frame of `len` bytes that landed in buffer `tag` of session `s`:
   * false if it stays there (it belongs to `s`, or `s`'s buffer cannot be read); otherwise it
   * was copied to its session or dropped, and the buffer went back to the device.
   */
  private steer(
    sys: Sys,
    d: DeviceDriver,
    group: SessionState[],
    s: SessionState,
    tag: number,
    len: number,
  ): boolean {
    const src = this.viewOf(s, this.bufDs[tag]!);
    if (src === null) return false;
    sys.charge('Driver', this.steerCosts.steerClassify);
    const at = this.bufOff[tag]!;
    // The device wrote at most the buffer's DMA span; a bogus length is treated as garbage.
    const n = len <= dmaSpan(this.bufLen[tag]!) && at + len <= src.length ? len : 0;
    const owner = classify(src, at, n, group);
    if (owner === s) return false;
    if (owner === null) this.stats.rxUnclaimed++;
    else this.copyTo(sys, owner, src, at, n);
    // The buffer never left its pins: straight back into the device ring (a slot was just freed).
    if (!d.postRx(sys, this.bufPaddr[tag]!, dmaSpan(this.bufLen[tag]!), tag)) {
      const ds = this.bufDs[tag]!;
      this.unpin(ds, at, this.bufLen[tag]!);
      this.returnRx(sys, s, ds, at, this.bufLen[tag]!, DescStatus.Aborted);
      this.releaseTag(tag);
    }
    return true;
  }

  /** Copy a steered frame into a buffer `o` posted, or drop it (counted) if `o` cannot take it now. */
  private copyTo(sys: Sys, o: SessionState, src: Uint8Array, at: number, len: number): void {
    const net = o.net!;
    const w = this.slot;
    if (
      !o.serving ||
      o.deferred.count !== 0 ||
      !o.mapped ||
      net.rxReturnSpace() <= 0 ||
      !net.takeRxBuffer(w)
    ) {
      this.stats.steerDrops++;
      return;
    }
    sys.charge('Buffer', this.costs.bufferTake);
    this.stats.descriptorsTaken++;
    o.stats.descriptorsTaken++;
    const ds = w[0]!;
    const off = w[1]!;
    const blen = w[2]!;
    const status = this.check(sys, o, ds, off, blen, MIN_RX_BUFFER, 0xffff);
    if (status !== DescStatus.Ok) {
      this.stats.rxRejected++;
      o.stats.rxRejected++;
      this.returnRx(sys, o, ds, off, blen, status);
      this.stats.steerDrops++;
      return;
    }
    const dst = this.viewOf(o, ds)!;
    for (let i = 0; i < len; i++) dst[off + i] = src[at + i]!;
    sys.charge('Driver', this.steerCosts.steerCopyPerByte * len);
    this.stats.steeredCopies++;
    this.stats.rxFrames++;
    this.returnRx(sys, o, ds, off, len, DescStatus.Ok);
  }

  /** The mapping of dataspace `ds` of session `s` in the driver's space, or null. */
  private viewOf(s: SessionState, ds: number): Uint8Array | null {
    const list = s.config.dataspaces;
    for (let i = 0; i < list.length; i++) if (list[i] === ds) return s.views[i]!;
    return null;
  }

  private reap(sys: Sys, d: DeviceDriver): boolean {
    let moved = false;
    const c = this.done;
    while (d.reapTx(sys, c)) {
      const tag = c.tag;
      const s = this.states[this.bufSession[tag]!]!;
      const ds = this.bufDs[tag]!;
      const off = this.bufOff[tag]!;
      const len = this.bufLen[tag]!;
      this.unpin(ds, off, len);
      if (c.ok) this.stats.txFrames++;
      else this.stats.txErrors++;
      this.returnTx(sys, s, ds, off, len, c.ok ? DescStatus.Ok : DescStatus.DeviceError);
      this.releaseTag(tag);
      moved = true;
    }
    return moved;
  }

  private *takeRx(sys: Sys, s: SessionState): Generator<KernelCall, boolean, unknown> {
    const d = s.device;
    const net = s.net!;
    const w = this.slot;
    let moved = false;
    while (
      !this.disableRequested &&
      d.rxRoom > 0 &&
      s.deferred.count === 0 &&
      net.rxReturnSpace() > 0 &&
      net.takeRxBuffer(w)
    ) {
      moved = true;
      sys.charge('Buffer', this.costs.bufferTake);
      this.stats.descriptorsTaken++;
      s.stats.descriptorsTaken++;
      const ds = w[0]!;
      const off = w[1]!;
      const len = w[2]!;
      const status = this.check(sys, s, ds, off, len, MIN_RX_BUFFER, 0xffff);
      if (status !== DescStatus.Ok) {
        this.stats.rxRejected++;
        s.stats.rxRejected++;
        this.returnRx(sys, s, ds, off, len, status);
        continue;
      }
      const paddr = yield* this.pin(sys, ds, off, dmaSpan(len));
      if (this.disableRequested) {
        // Disabled while the pin waited for a refill: the device must not get this buffer.
        if (paddr >= 0) this.unpin(ds, off, len);
        this.stats.rxAborted++;
        this.returnRx(sys, s, ds, off, len, DescStatus.Aborted);
        continue;
      }
      if (paddr < 0) {
        this.returnRx(sys, s, ds, off, len, DescStatus.TranslationFailed);
        continue;
      }
      const tag = this.claimTag(s.index, ds, off, len, paddr);
      sys.charge('Buffer', this.costs.bufferTrack);
      d.postRx(sys, paddr, dmaSpan(len), tag);
    }
    return moved;
  }

  private *takeTx(sys: Sys, s: SessionState): Generator<KernelCall, boolean, unknown> {
    const d = s.device;
    const net = s.net!;
    const w = this.slot;
    let queued = 0;
    let moved = false;
    while (
      !this.disableRequested &&
      d.txRoom > 0 &&
      s.deferred.count === 0 &&
      net.txReturnSpace() > 0 &&
      net.takeTx(w)
    ) {
      moved = true;
      sys.charge('Buffer', this.costs.bufferTake);
      this.stats.descriptorsTaken++;
      s.stats.descriptorsTaken++;
      const ds = w[0]!;
      const off = w[1]!;
      const len = w[2]!;
      const status = this.check(sys, s, ds, off, len, MIN_TX_FRAME, MAX_TX_FRAME);
      if (status !== DescStatus.Ok) {
        this.stats.txRejected++;
        s.stats.txRejected++;
        this.returnTx(sys, s, ds, off, len, status);
        continue;
      }
      const paddr = yield* this.pin(sys, ds, off, dmaSpan(len));
      if (this.disableRequested) {
        if (paddr >= 0) this.unpin(ds, off, len);
        this.stats.txAborted++;
        this.returnTx(sys, s, ds, off, len, DescStatus.Aborted);
        continue;
      }
      if (paddr < 0) {
        this.returnTx(sys, s, ds, off, len, DescStatus.TranslationFailed);
        continue;
      }
      const tag = this.claimTag(s.index, ds, off, len, paddr);
      sys.charge('Buffer', this.costs.bufferTrack);
      d.postTx(sys, paddr, len, tag);
      queued++;
    }
    if (queued > 0 && !this.disableRequested) d.kickTx();
    return moved;
  }

  /** Validate a client descriptor: session membership, range, and length bounds. */
  private check(
    sys: Sys,
    s: SessionState,
    ds: number,
    off: number,
    len: number,
    minLen: number,
    maxLen: number,
  ): DescStatus {
    sys.charge('Driver', this.costs.validate);
    switch (s.validation.validate(ds, off, len)) {
      case ValidationStatus.OK:
        if (len >= minLen && len <= maxLen) return DescStatus.Ok;
        s.stats.badLength++;
        return DescStatus.BadLength;
      case ValidationStatus.FOREIGN_DATASPACE:
        s.stats.foreignDataspace++;
        return DescStatus.ForeignDataspace;
      case ValidationStatus.BAD_LENGTH:
        s.stats.badLength++;
        return DescStatus.BadLength;
      default:
        s.stats.outOfRange++;
        return DescStatus.OutOfRange;
    }
  }

  private returnRx(sys: Sys, s: SessionState, ds: number, off: number, len: number, st: number) {
    sys.charge('Buffer', this.costs.bufferReturn);
    if (s.deferred.count === 0 && s.net!.deliverRx(ds, off, len, st)) {
      s.pendingNotify++;
      this.stats.descriptorsReturned++;
    } else this.defer(s, true, ds, off, len, st);
  }

  private returnTx(sys: Sys, s: SessionState, ds: number, off: number, len: number, st: number) {
    sys.charge('Buffer', this.costs.bufferReturn);
    if (s.deferred.count === 0 && s.net!.completeTx(ds, off, len, st)) {
      s.pendingNotify++;
      this.stats.descriptorsReturned++;
    } else this.defer(s, false, ds, off, len, st);
  }

  private defer(s: SessionState, rx: boolean, ds: number, off: number, len: number, st: number) {
    if (s.deferred.push(rx, ds, off, len, st)) this.stats.returnsDeferred++;
    else this.stats.returnDrops++;
  }

  /** Deliver a session's deferred completions as its rings make room; true if any went. */
  private flushDeferred(s: SessionState): boolean {
    if (s.deferred.count === 0) return false;
    const n = s.deferred.flush(s.net!);
    s.pendingNotify += n;
    this.stats.descriptorsReturned += n;
    return n > 0;
  }

  /**
   * Translate and pin every page of `[off, off + span)` for DMA, refilling the translation cache
   * on a miss; `span` is what the device can reach ({@link dmaSpan}). One pin per page, so the
   * manager's quota sees exactly the pages DMA may touch. Returns the physical address of `off`,
   * or -1 (nothing left pinned) if a page cannot be translated or the range is not physically
   * contiguous (the device takes one buffer per descriptor).
   */
  private *pin(
    sys: Sys,
    ds: number,
    off: number,
    span: number,
  ): Generator<KernelCall, number, unknown> {
    const first = yield* this.pinPage(sys, ds, off);
    if (first < 0) return -1;
    const lastPage = Math.floor((off + span - 1) / PAGE_SIZE);
    for (let page = Math.floor(off / PAGE_SIZE) + 1; page <= lastPage; page++) {
      const at = page * PAGE_SIZE;
      const p = yield* this.pinPage(sys, ds, at);
      if (p < 0 || p - first !== at - off) {
        if (p >= 0) this.translation!.unpin(ds, at);
        this.unpinRange(ds, off, at - off);
        if (p >= 0) this.stats.translationFailures++;
        return -1;
      }
    }
    return first;
  }

  private *pinPage(sys: Sys, ds: number, off: number): Generator<KernelCall, number, unknown> {
    const tc = this.translation!;
    let p = tc.pin(ds, off);
    if (p >= 0) return p;
    this.stats.translationRefills++;
    yield* tc.refill(sys, ds, off);
    p = tc.pin(ds, off);
    if (p < 0) this.stats.translationFailures++;
    return p;
  }

  /** Release the pins of every page of `[off, off + span)` (one per page, as {@link pin} took them). */
  private unpinRange(ds: number, off: number, span: number): void {
    if (span <= 0) return;
    const tc = this.translation!;
    const lastPage = Math.floor((off + span - 1) / PAGE_SIZE);
    for (let page = Math.floor(off / PAGE_SIZE); page <= lastPage; page++) {
      tc.unpin(ds, page === Math.floor(off / PAGE_SIZE) ? off : page * PAGE_SIZE);
    }
  }

  /** Unpin the DMA span of a buffer of `len` bytes at `off`. */
  private unpin(ds: number, off: number, len: number): void {
    this.unpinRange(ds, off, dmaSpan(len));
  }

  private claimTag(session: number, ds: number, off: number, len: number, paddr: number): number {
    const tag = this.freeTags[--this.freeTagCount]!;
    this.bufPaddr[tag] = paddr;
    this.bufSession[tag] = session;
    this.bufDs[tag] = ds;
    this.bufOff[tag] = off;
    this.bufLen[tag] = len;
    return tag;
  }

  private releaseTag(tag: number): void {
    this.freeTags[this.freeTagCount++] = tag;
  }

  private announceSleep(): void {
    for (const s of this.states) {
      // Avoidance: a transmit-complete interrupt is due, so the client need not wake us (none
      // is due from a stopped device).
      if (this.avoidance && !this.stopped && s.device.txInterruptDue) s.net!.cancelSleep();
      else s.net!.prepareSleep();
    }
  }

  private cancelSleep(): void {
    for (const s of this.states) s.net!.cancelSleep();
  }

  private deviceForIrq(from: ThreadId): DeviceDriver | undefined {
    for (const d of this.devices) if (d.irqThread === from) return d;
    return undefined;
  }
}

/** The addresses receive steering compares a frame with ({@link classify}). */
export interface SteerAddress {
  /** IPv4 address as an unsigned 32-bit number, or -1 for none. */
  readonly ipv4: number;
  /** MAC (6 bytes), or null for none. */
  readonly mac: Uint8Array | null;
}

/** A registered IPv4 address as an unsigned 32-bit number, or -1 if none. */
function validIpv4(ip: number | undefined): number {
  if (ip === undefined) return -1;
  if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) {
    throw new Dp83820DriverConfigError(`bad IPv4 address ${ip} (a 32-bit unsigned number)`);
  }
  return ip;
}

function validMac(index: number, mac: readonly number[] | undefined): Uint8Array | null {
  if (mac === undefined) return null;
  if (mac.length !== 6 || !mac.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    throw new Dp83820DriverConfigError(`session ${index}: bad MAC (6 bytes)`);
  }
  return Uint8Array.from(mac);
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;

/** Big-endian unsigned 32-bit read. */
function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * The session a frame of `len` bytes at `b[at]` belongs to, among `group` (the sessions of its
 * device, in index order), or null for none; the rule is in the module documentation. Reads only
 * inside `[at, at + len)` and never throws.
 */
export function classify<T extends SteerAddress>(
  b: Uint8Array,
  at: number,
  len: number,
  group: readonly T[],
): T | null {
  if (len < 14) return null;
  const multicast = (b[at]! & 1) !== 0;
  if (!multicast) {
    for (let i = 0; i < group.length; i++) {
      const s = group[i]!;
      const m = s.mac;
      if (
        m !== null &&
        m[0] === b[at] &&
        m[1] === b[at + 1] &&
        m[2] === b[at + 2] &&
        m[3] === b[at + 3] &&
        m[4] === b[at + 4] &&
        m[5] === b[at + 5]
      ) {
        return s;
      }
    }
  }
  const type = (b[at + 12]! << 8) | b[at + 13]!;
  if (type === ETHERTYPE_IPV4) {
    if (len < 34) return null;
    const vihl = b[at + 14]!;
    if (vihl >> 4 !== 4 || (vihl & 15) < 5) return null;
    const dst = be32(b, at + 30);
    for (let i = 0; i < group.length; i++) if (group[i]!.ipv4 === dst) return group[i]!;
    if (multicast || dst === 0xffffffff || dst >>> 28 === 14) return group[0] ?? null;
    return null;
  }
  if (type === ETHERTYPE_ARP) {
    if (len < 42) return null;
    const target = be32(b, at + 38);
    for (let i = 0; i < group.length; i++) if (group[i]!.ipv4 === target) return group[i]!;
    return null;
  }
  return group[0] ?? null;
}

/** The thread body of a driver domain (a shorthand for `new Dp83820Driver(config).body`). */
export function dp83820DriverThread(config: Dp83820DriverConfig): ThreadBody {
  return new Dp83820Driver(config).body;
}
