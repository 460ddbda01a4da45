/**
 * The network driver session (paper sections 4.2–4.5): the shared-memory region a NIC driver and
 * one client use to exchange work descriptors by reference, and the notification bits that let
 * each side skip waking the other when it is already awake.
 *
 * Region layout (all offsets relative to the region's `byteOffset`, every part 64-byte aligned):
 *
 * ```
 * rxFree  SpscRing  client → driver  empty receive buffers the client posts
 * rxUsed  SpscRing  driver → client  filled receive buffers (length + status set)
 * txReq   SpscRing  client → driver  frames to send
 * txDone  SpscRing  driver → client  sent (or rejected) transmit buffers (status set)
 * driverBit  NotificationBit  the driver's "I am asleep" flag
 * clientBit  NotificationBit  the client's "I am asleep" flag
 * control    4 words          epoch, clientEpoch, driverEpoch (restart handshake), heartbeat
 * ```
 *
 * Restart handshake (see {@link SessionControl}): the device supervisor bumps `epoch` once the
 * dead driver's devices are reset; the client reclaims every buffer it had given the driver and
 * acknowledges by writing `clientEpoch = epoch`; the fresh driver then discards what was left in
 * `rxFree`/`txReq`, writes `driverEpoch = epoch` and serves again. The driver bumps `heartbeat`
 * on every pass of its loop, so the supervisor can tell a hung driver from an idle one.
 *
 * Capacity lives in each side's private object and is never read from shared memory; every ring
 * index read from the region is validated by `@udf/lockfree` (a hostile peer costs counted
 * corruptions, not a crash). Descriptor contents are validated by the driver against its
 * dataspace session before the device ever sees them.
 *
 * @module
 */
import { LayoutError, NotificationBit, Notifier, type NotifyPolicy, SpscRing } from '@udf/lockfree';
import { DESC_WORDS } from './descriptor.js';

const LINE = 64;
const align = (n: number): number => Math.ceil(n / LINE) * LINE;

/** Byte offsets of the parts of a session region. */
export interface NetSessionOffsets {
  readonly rxFree: number;
  readonly rxUsed: number;
  readonly txReq: number;
  readonly txDone: number;
  readonly driverBit: number;
  readonly clientBit: number;
  /** The control words (see {@link SessionControl}). */
  readonly control: number;
  /** Total bytes of the region. */
  readonly byteLength: number;
}

/** Compute the layout of a session region whose rings hold `capacity` descriptors each. */
export function netSessionLayout(capacity: number): NetSessionOffsets {
  const ring = align(SpscRing.byteLength(capacity, DESC_WORDS));
  const bit = align(NotificationBit.BYTE_LENGTH);
  return {
    rxFree: 0,
    rxUsed: ring,
    txReq: 2 * ring,
    txDone: 3 * ring,
    driverBit: 4 * ring,
    clientBit: 4 * ring + bit,
    control: 4 * ring + 2 * bit,
    byteLength: 4 * ring + 2 * bit + LINE,
  };
}

const EPOCH = 0;
const CLIENT_EPOCH = 1;
const DRIVER_EPOCH = 2;
const HEARTBEAT = 3;

/**
 * The control words of a session region: the restart handshake's three epochs and the driver's
 * heartbeat. Each word has one writer (epoch: the device supervisor; clientEpoch: the client;
 * driverEpoch and heartbeat: the driver); every reader treats what it reads as a number to
 * compare, never as an index, so garbage written by a hostile peer costs at most a restart.
 */
export class SessionControl {
  private readonly words: Uint32Array;

  /**
   * @param buffer - the shared buffer holding the session region
   * @param byteOffset - the region's offset (64-byte aligned)
   * @param capacity - descriptors per ring (fixes the layout)
   */
  constructor(buffer: SharedArrayBuffer | ArrayBuffer, byteOffset: number, capacity: number) {
    this.words = new Uint32Array(buffer, byteOffset + netSessionLayout(capacity).control, 4);
  }

  /** The session's epoch: 0 until the first restart of its driver. */
  epoch(): number {
    return Atomics.load(this.words, EPOCH);
  }

  /** The epoch the client has acknowledged (it reclaimed its buffers for it). */
  clientEpoch(): number {
    return Atomics.load(this.words, CLIENT_EPOCH);
  }

  /** The epoch the driver serves (it discarded the stale ring contents for it). */
  driverEpoch(): number {
    return Atomics.load(this.words, DRIVER_EPOCH);
  }

  /** The driver's heartbeat: bumped on every pass of its loop. */
  heartbeat(): number {
    return Atomics.load(this.words, HEARTBEAT);
  }

  /** Supervisor: start a new epoch (the driver is dead and its devices reset); returns it. */
  bumpEpoch(): number {
    return (Atomics.add(this.words, EPOCH, 1) + 1) >>> 0;
  }

  /** Client: acknowledge epoch `e` (every buffer the old driver held is reclaimed). */
  acknowledge(e: number): void {
    Atomics.store(this.words, CLIENT_EPOCH, e);
  }

  /** Driver: serve epoch `e` (stale ring contents discarded). */
  serve(e: number): void {
    Atomics.store(this.words, DRIVER_EPOCH, e);
  }

  /** Driver: one more pass of its loop. */
  beat(): void {
    Atomics.add(this.words, HEARTBEAT, 1);
  }

  /** True while the session is between a restart and the fresh driver serving it. */
  recovering(): boolean {
    return this.driverEpoch() !== this.epoch();
  }
}

/** How a session end is placed in shared memory. */
export interface NetSessionOptions {
  /** The shared buffer holding the region (on the sim engine: a view of the control dataspace). */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the region in `buffer` (64-byte aligned). */
  readonly byteOffset: number;
  /** Descriptors per ring (power of two), agreed at session setup; never read from shared memory. */
  readonly capacity: number;
  /** When this end wakes its peer (default: only when the peer is asleep, the paper's policy). */
  readonly policy?: NotifyPolicy;
}

/** Counters of one session end. */
export interface NetSessionStats {
  /** Corrupt ring indices seen by this end (sum over the four rings it reads or writes). */
  readonly corruptions: number;
  /** Garbage values found in the notification bits (this end's own flag and its peer's). */
  readonly bitCorruptions: number;
  /** Wake-ups this end decided to send to its peer. */
  readonly notifications: number;
  /** Wake-ups suppressed because the peer was awake (or batching deferred them). */
  readonly suppressed: number;
}

abstract class NetSessionEnd {
  protected readonly rxFree: SpscRing;
  protected readonly rxUsed: SpscRing;
  protected readonly txReq: SpscRing;
  protected readonly txDone: SpscRing;
  /** This end's own "asleep" flag, read by the peer. */
  protected readonly own: NotificationBit;
  /** Decides when to wake the peer, from the peer's flag. */
  protected readonly notifier: Notifier;
  /** The peer's "asleep" flag (read through {@link notifier}). */
  private readonly peer: NotificationBit;
  private readonly slot = new Uint32Array(DESC_WORDS);
  /** The session's control words (epochs and heartbeat). */
  readonly control: SessionControl;

  constructor(options: NetSessionOptions, side: 'driver' | 'client') {
    const { buffer, byteOffset, capacity } = options;
    if (byteOffset % LINE !== 0) {
      throw new LayoutError(`session region offset ${byteOffset} is not ${LINE}-byte aligned`);
    }
    const o = netSessionLayout(capacity);
    if (byteOffset + o.byteLength > buffer.byteLength) {
      throw new LayoutError(
        `session region needs ${o.byteLength} bytes at ${byteOffset}, buffer has ${buffer.byteLength}`,
      );
    }
    this.rxFree = new SpscRing(buffer, byteOffset + o.rxFree, capacity, DESC_WORDS);
    this.rxUsed = new SpscRing(buffer, byteOffset + o.rxUsed, capacity, DESC_WORDS);
    this.txReq = new SpscRing(buffer, byteOffset + o.txReq, capacity, DESC_WORDS);
    this.txDone = new SpscRing(buffer, byteOffset + o.txDone, capacity, DESC_WORDS);
    const driverBit = new NotificationBit(buffer, byteOffset + o.driverBit);
    const clientBit = new NotificationBit(buffer, byteOffset + o.clientBit);
    this.own = side === 'driver' ? driverBit : clientBit;
    const peer = side === 'driver' ? clientBit : driverBit;
    this.peer = peer;
    this.notifier = new Notifier(peer, options.policy ?? { kind: 'when-asleep' });
    this.control = new SessionControl(buffer, byteOffset, capacity);
  }

  /** Push one descriptor built from its fields; false when the ring is full. */
  protected put(ring: SpscRing, dataspace: number, offset: number, length: number, status: number) {
    const s = this.slot;
    s[0] = dataspace;
    s[1] = offset;
    s[2] = length;
    s[3] = status;
    return ring.push(s);
  }

  /**
   * Announce that this end is about to sleep. The caller must then re-check for work
   * ({@link NetSessionClient.hasWork} / {@link NetSessionDriver.hasWork}) and call
   * {@link cancelSleep} if there is some; only then may it block. A peer that enqueues after the
   * flag is set sees it and sends a wake-up, so no wake-up is lost.
   */
  prepareSleep(): void {
    this.own.prepareSleep();
  }

  /** Withdraw a sleep announcement (work was found, or the thread woke up). */
  cancelSleep(): void {
    this.own.cancelSleep();
  }

  /** This end's notification policy. */
  get notifyPolicy(): NotifyPolicy {
    return this.notifier.policy;
  }

  /** True while this end's flag says it is asleep. */
  isAsleep(): boolean {
    return this.own.isAsleep();
  }

  /**
   * After enqueueing `n` items for the peer: whether to send it a wake-up now, under this end's
   * notification policy.
   */
  shouldNotify(n = 1): boolean {
    return this.notifier.afterEnqueue(n);
  }

  /**
   * After enqueueing `n` items for the peer: how many wake-ups to send it now, under this end's
   * notification policy — one per item under `per-item`, at most one otherwise.
   */
  notificationsFor(n = 1): number {
    return this.notifier.wakeupsAfterEnqueue(n);
  }

  /** When this end has nothing more to enqueue for now: whether a deferred wake-up is due. */
  shouldNotifyOnDry(): boolean {
    return this.notifier.onDry();
  }

  /**
   * Corruptions this end has seen so far — ring indices out of range and garbage in the
   * notification bits, the sum of {@link NetSessionStats.corruptions} and `bitCorruptions` —
   * without allocating (for a counter refreshed on every pass of a loop).
   */
  corruptionCount(): number {
    return (
      this.rxFree.stats.corruptions +
      this.rxUsed.stats.corruptions +
      this.txReq.stats.corruptions +
      this.txDone.stats.corruptions +
      this.own.stats.corruptions +
      this.peer.stats.corruptions
    );
  }

  /** Counters of this end. */
  stats(): NetSessionStats {
    return {
      corruptions:
        this.rxFree.stats.corruptions +
        this.rxUsed.stats.corruptions +
        this.txReq.stats.corruptions +
        this.txDone.stats.corruptions,
      bitCorruptions: this.own.stats.corruptions + this.peer.stats.corruptions,
      notifications: this.notifier.stats.notifications,
      suppressed: this.notifier.stats.suppressed,
    };
  }
}

/** The client's end of a network session (an IP stack, an echo server with an embedded stack). */
export class NetSessionClient extends NetSessionEnd {
  constructor(options: NetSessionOptions) {
    super(options, 'client');
  }

  /** Post an empty receive buffer of `length` bytes; false when the ring is full. */
  postRx(dataspace: number, offset: number, length: number): boolean {
    return this.put(this.rxFree, dataspace, offset, length, 0);
  }

  /** Take one returned receive descriptor into `out` (4 words); false when there is none. */
  pollRx(out: Uint32Array): boolean {
    return this.rxUsed.pop(out);
  }

  /** Submit a frame of `length` bytes for transmission; false when the ring is full. */
  submitTx(dataspace: number, offset: number, length: number): boolean {
    return this.put(this.txReq, dataspace, offset, length, 0);
  }

  /** Take one completed transmit descriptor into `out`; false when there is none. */
  pollTxDone(out: Uint32Array): boolean {
    return this.txDone.pop(out);
  }

  /** Free slots for posting receive buffers. */
  rxPostSpace(): number {
    return this.rxFree.space();
  }

  /** Free slots for submitting frames. */
  txSpace(): number {
    return this.txReq.space();
  }

  /** True if the driver has returned anything (received frames or transmit completions). */
  hasWork(): boolean {
    return this.rxUsed.count() > 0 || this.txDone.count() > 0;
  }

  /** Returned receive descriptors not yet taken. */
  rxReturned(): number {
    return this.rxUsed.count();
  }
}

/** The driver's end of a network session. */
export class NetSessionDriver extends NetSessionEnd {
  constructor(options: NetSessionOptions) {
    super(options, 'driver');
  }

  /** Take one empty receive buffer the client posted; false when there is none. */
  takeRxBuffer(out: Uint32Array): boolean {
    return this.rxFree.pop(out);
  }

  /** Return a receive buffer holding a frame of `length` bytes (or an error status). */
  deliverRx(dataspace: number, offset: number, length: number, status: number): boolean {
    return this.put(this.rxUsed, dataspace, offset, length, status);
  }

  /** Take one frame the client submitted; false when there is none. */
  takeTx(out: Uint32Array): boolean {
    return this.txReq.pop(out);
  }

  /** Return a transmit buffer with its completion status. */
  completeTx(dataspace: number, offset: number, length: number, status: number): boolean {
    return this.put(this.txDone, dataspace, offset, length, status);
  }

  /** Posted receive buffers waiting. */
  rxBuffersAvailable(): number {
    return this.rxFree.count();
  }

  /** Room to return receive buffers. */
  rxReturnSpace(): number {
    return this.rxUsed.space();
  }

  /** Room to return transmit completions. */
  txReturnSpace(): number {
    return this.txDone.space();
  }

  /** True if the client submitted frames (or posted receive buffers) the driver has not taken. */
  hasWork(): boolean {
    return this.txReq.count() > 0 || this.rxFree.count() > 0;
  }

  /**
   * A fresh driver, once the client acknowledged the new epoch: drop what the client had posted
   * for the dead driver (the client reclaimed those buffers already). Returns how many.
   */
  discardStale(): number {
    const d = new Uint32Array(DESC_WORDS);
    let n = 0;
    while (this.rxFree.pop(d)) n++;
    while (this.txReq.pop(d)) n++;
    return n;
  }
}

/**
 * The device supervisor's view of a session (it maps every session region of the drivers it
 * supervises): the control words, and whether the driver has work it should be doing.
 */
export class NetSessionMonitor {
  /** The session's control words. */
  readonly control: SessionControl;
  private readonly txReq: SpscRing;
  private readonly driverBit: NotificationBit;

  /** @param options - where the session region is (the policy is ignored) */
  constructor(options: NetSessionOptions) {
    const { buffer, byteOffset, capacity } = options;
    const o = netSessionLayout(capacity);
    if (byteOffset % LINE !== 0 || byteOffset + o.byteLength > buffer.byteLength) {
      throw new LayoutError(`session region at ${byteOffset} does not fit its buffer`);
    }
    this.control = new SessionControl(buffer, byteOffset, capacity);
    this.txReq = new SpscRing(buffer, byteOffset + o.txReq, capacity, DESC_WORDS);
    this.driverBit = new NotificationBit(buffer, byteOffset + o.driverBit);
  }

  /**
   * True if the driver should be running: it has not announced sleep, or the client submitted
   * frames it has not taken (a driver asleep with frames queued was woken by its client).
   */
  pendingWork(): boolean {
    return !this.driverBit.isAsleep() || this.txReq.count() > 0;
  }
}
