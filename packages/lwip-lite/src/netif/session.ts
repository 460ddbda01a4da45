/**
 * The stack on a driver session (`@udf/netdev`, paper section 4.2): a {@link NetDevice} over the
 * client end of the session's descriptor rings. Receive buffers are pbufs of a pool in a session
 * dataspace, posted empty on `rxFree` and returned full on `rxUsed`; frames go out on `txReq` and
 * their buffers come back on `txDone`. Nothing is copied: descriptors name `(dataspace, offset,
 * length)` and the pbuf is the memory the driver filled.
 *
 * The driver is another protection domain: every descriptor it returns is validated (our
 * dataspace, the start of one of our buffers, a buffer we actually gave it, a sane length) and a
 * bad one is counted and dropped, never thrown.
 *
 * Buffer accounting: every buffer is always in exactly one place — its pool, with the driver
 * (posted on `rxFree`/`txReq`, or held by the driver until it returns it), or with the stack (a
 * received frame not yet released, a transmit buffer being filled). A post the ring refuses
 * puts the buffer back in its pool (counted in `rxPostRefused`); {@link SessionNetDevice.census}
 * reports the three places so a test can check that they always add up to the pool size.
 *
 * Driver restarts (the session's epoch, see `SessionControl` in `@udf/netdev`): when the device
 * supervisor has restarted the driver, {@link SessionNetDevice.checkEpoch} takes what the dead
 * driver had returned, then reclaims every buffer it still held — receive buffers go back to the
 * pool (`rxReclaimed`), transmit frames in flight are counted lost (`txLost`) — acknowledges the
 * epoch and, once the fresh driver serves it, posts its receive buffers again. Nothing above the
 * device notices but the lost frames: the stack, its sockets and ARP cache carry on.
 *
 * Wake-ups are not sent from here (that takes a kernel call): {@link SessionNetDevice.takeNotify}
 * tells the component's thread whether the session's policy asks to wake the driver.
 *
 * @module
 */
import {
  DESC_DATASPACE,
  DESC_LENGTH,
  DESC_OFFSET,
  DESC_STATUS,
  DESC_WORDS,
  DescStatus,
  type NetSessionClient,
} from '@udf/netdev';
import type { Pbuf, PbufPool } from '../pbuf/pbuf.js';
import type { NetDevice } from '../phy/device.js';

/** Configuration of a {@link SessionNetDevice}. */
export interface SessionNetDeviceOptions {
  /** The client end of the session. */
  readonly client: NetSessionClient;
  /** Receive buffers (in a dataspace associated with the session). */
  readonly rxPool: PbufPool;
  /** Transmit buffers (may share the dataspace, not the slots). */
  readonly txPool: PbufPool;
  /** Largest frame (default 1514). */
  readonly mtu?: number;
}

/** Counters of a {@link SessionNetDevice}. */
export interface SessionNetDeviceStats {
  /** Frames received. */
  rxFrames: number;
  /** Receive descriptors returned with an error status (buffer re-posted). */
  rxErrors: number;
  /** Receive buffers the driver returned unused because it is shutting down (kept, not re-posted). */
  rxAborted: number;
  /** Transmit descriptors submitted. */
  txFrames: number;
  /** Transmit completions with an error status. */
  txErrors: number;
  /** Frames not submitted: the transmit ring was full. */
  txRingFull: number;
  /** Descriptors from the driver that named no buffer we gave it (foreign, misaligned, duplicate, bad length). */
  corrupt: number;
  /**
   * Receive buffers the post ring refused (full): put back in the pool, posted again by a later
   * {@link SessionNetDevice.refill}; none is lost.
   */
  rxPostRefused: number;
  /** Driver restarts this end has recovered from (new epochs acknowledged). */
  restarts: number;
  /** Receive buffers the dead driver held, taken back into the pool at a restart. */
  rxReclaimed: number;
  /** Transmit frames the dead driver held (submitted, not completed): lost at a restart. */
  txLost: number;
  /** Frames not submitted because the session was between a restart and the fresh driver. */
  txDuringRestart: number;
  /**
   * Corruptions this session end has seen in the shared region: ring indices out of range (all
   * four rings) and garbage in the notification bits (netdev `NetSessionStats.corruptions +
   * bitCorruptions`; each read of a corrupt word counts). Refreshed whenever the device polls its
   * rings ({@link SessionNetDevice.nextRx} finding nothing, {@link SessionNetDevice.reapTx},
   * {@link SessionNetDevice.refill}): a plain number, so it lives on a counters page.
   */
  sessionCorruptions: number;
}

/** Where a {@link SessionNetDevice}'s buffers are; for each pool, `pool + driver + stack = count`. */
export interface SessionBufferCensus {
  /** Receive buffers free in the pool. */
  rxPool: number;
  /** Receive buffers posted to (or held by) the driver. */
  rxDriver: number;
  /** Received frames handed to the stack and not yet released. */
  rxStack: number;
  /** Transmit buffers free in the pool. */
  txPool: number;
  /** Transmit buffers submitted to the driver and not yet completed. */
  txDriver: number;
  /** Transmit buffers allocated by the stack and not yet submitted or released. */
  txStack: number;
}

/** A {@link NetDevice} on the client end of a network driver session. */
export class SessionNetDevice implements NetDevice {
  /** Largest frame. */
  readonly mtu: number;
  /** Counters. */
  readonly stats: SessionNetDeviceStats;
  private readonly client: NetSessionClient;
  private readonly rxPool: PbufPool;
  private readonly txPool: PbufPool;
  /** 1 while the driver holds the slot's buffer. */
  private readonly rxPosted: Uint8Array;
  private readonly txPosted: Uint8Array;
  private readonly desc = new Uint32Array(DESC_WORDS);
  /** Wake-ups due to the driver (the policy's count; restart steps ask for one). */
  private notifyDue = 0;
  /** Whether the session's policy is `per-item` (a wake-up per enqueued item, not per pass). */
  private readonly perItem: boolean;
  private aborted = false;
  private rxWithDriver = 0;
  private rxWithStack = 0;
  private txWithDriver = 0;
  /** The epoch this end has acknowledged. */
  private epoch: number;
  /** Acknowledged a new epoch; the fresh driver does not serve it yet. */
  private waiting = false;

  /** @param options - the session end and the buffer pools */
  constructor(options: SessionNetDeviceOptions) {
    this.client = options.client;
    this.perItem = options.client.notifyPolicy.kind === 'per-item';
    this.rxPool = options.rxPool;
    this.txPool = options.txPool;
    this.mtu = options.mtu ?? 1514;
    this.rxPosted = new Uint8Array(this.rxPool.count);
    this.txPosted = new Uint8Array(this.txPool.count);
    this.stats = {
      rxFrames: 0,
      rxErrors: 0,
      rxAborted: 0,
      txFrames: 0,
      txErrors: 0,
      txRingFull: 0,
      corrupt: 0,
      rxPostRefused: 0,
      restarts: 0,
      rxReclaimed: 0,
      txLost: 0,
      txDuringRestart: 0,
      sessionCorruptions: 0,
    };
    this.epoch = this.client.control.epoch();
    this.refill();
  }

  /**
   * True while a driver restart needs this end: a new epoch to acknowledge, or the fresh driver
   * now serving the acknowledged one. The component's loop calls {@link checkEpoch} then.
   */
  restartPending(): boolean {
    const c = this.client.control;
    const e = c.epoch();
    return e !== this.epoch || (this.waiting && c.driverEpoch() === e);
  }

  /**
   * Follow the session's restart handshake; true if anything changed. At a new epoch, once the
   * stack has taken what the dead driver returned: reclaim every buffer it held, acknowledge the
   * epoch (and ask for the driver to be woken). Once the fresh driver serves it: post the
   * receive buffers again.
   */
  checkEpoch(): boolean {
    const c = this.client.control;
    const e = c.epoch();
    if (e !== this.epoch) {
      // Frames the dead driver delivered are good: the stack takes them first (nextRx).
      if (this.client.rxReturned() > 0) return false;
      this.reapTx();
      this.reclaim();
      this.epoch = e;
      this.aborted = false;
      this.waiting = true;
      this.stats.restarts++;
      c.acknowledge(e);
      if (this.notifyDue === 0) this.notifyDue = 1;
      return true;
    }
    if (this.waiting && c.driverEpoch() === e) {
      this.waiting = false;
      this.refill();
      if (this.notifyDue === 0) this.notifyDue = 1;
      return true;
    }
    return false;
  }

  /** Take back every buffer the dead driver held. */
  private reclaim(): void {
    for (let i = 0; i < this.rxPosted.length; i++) {
      if (this.rxPosted[i] !== 1) continue;
      this.rxPosted[i] = 0;
      this.rxWithDriver--;
      this.stats.rxReclaimed++;
      this.rxPool.free(this.rxPool.byId(i)!);
    }
    for (let i = 0; i < this.txPosted.length; i++) {
      if (this.txPosted[i] !== 1) continue;
      this.txPosted[i] = 0;
      this.txWithDriver--;
      this.stats.txLost++;
      this.txPool.free(this.txPool.byId(i)!);
    }
  }

  /**
   * True once the driver returned a buffer `Aborted`: the session is being shut down, so no more
   * receive buffers are posted (they would only come straight back).
   */
  get sessionAborted(): boolean {
    return this.aborted;
  }

  /** Post every free receive buffer the ring has room for; returns how many (none once aborted). */
  refill(): number {
    let n = 0;
    if (!this.aborted && !this.waiting) {
      while (this.client.rxPostSpace() > 0) {
        const p = this.rxPool.alloc();
        if (!p) break;
        if (!this.post(p)) break;
        n++;
      }
    }
    this.stats.sessionCorruptions = this.client.corruptionCount();
    return n;
  }

  /** Take back transmit buffers the driver has finished with; returns how many. */
  reapTx(): number {
    const d = this.desc;
    let n = 0;
    while (this.client.pollTxDone(d)) {
      const p = this.validate(this.txPool, this.txPosted, d);
      if (!p) continue;
      if (d[DESC_STATUS] !== DescStatus.Ok) this.stats.txErrors++;
      this.txPosted[p.id] = 0;
      this.txWithDriver--;
      this.txPool.free(p);
      n++;
    }
    this.stats.sessionCorruptions = this.client.corruptionCount();
    return n;
  }

  /**
   * How many wake-ups the session's notification policy asks the driver to be sent now, and
   * forget them: under `per-item` one per frame and receive buffer enqueued since the last call
   * (the per-item baseline); otherwise 0 or 1 — the decisions of a pass are one wake-up.
   */
  takeNotify(): number {
    let due = this.notifyDue;
    if (due === 0 && this.client.shouldNotifyOnDry()) due = 1;
    this.notifyDue = 0;
    return this.perItem ? due : Math.min(due, 1);
  }

  nextRx(): Pbuf | null {
    const d = this.desc;
    while (this.client.pollRx(d)) {
      const p = this.validate(this.rxPool, this.rxPosted, d);
      if (!p) continue;
      this.rxPosted[p.id] = 0;
      this.rxWithDriver--;
      if (d[DESC_STATUS] === DescStatus.Aborted) {
        // The driver is shutting the session down (e.g. disabled for exceeding its pin quota):
        // keep the buffer instead of bouncing it back and forth.
        this.stats.rxAborted++;
        this.aborted = true;
        this.rxPool.free(p);
        continue;
      }
      if (d[DESC_STATUS] !== DescStatus.Ok) {
        this.stats.rxErrors++;
        this.post(p);
        continue;
      }
      p.offset = p.base;
      p.length = d[DESC_LENGTH]!;
      this.stats.rxFrames++;
      this.rxWithStack++;
      return p;
    }
    this.stats.sessionCorruptions = this.client.corruptionCount();
    return null;
  }

  releaseRx(pbuf: Pbuf): void {
    this.rxWithStack--;
    if (this.aborted || this.waiting || this.client.rxPostSpace() === 0) this.rxPool.free(pbuf);
    else this.post(pbuf);
  }

  allocTx(length: number): Pbuf | null {
    if (length > this.txPool.bufferSize) return null;
    let p = this.txPool.alloc();
    if (!p && this.reapTx() > 0) p = this.txPool.alloc();
    return p;
  }

  transmit(pbuf: Pbuf): boolean {
    if (this.waiting) {
      this.stats.txDuringRestart++;
      this.txPool.free(pbuf);
      return false;
    }
    if (!this.client.submitTx(pbuf.dataspaceId, pbuf.offset, pbuf.length)) {
      this.stats.txRingFull++;
      this.txPool.free(pbuf);
      return false;
    }
    this.txPosted[pbuf.id] = 1;
    this.txWithDriver++;
    this.stats.txFrames++;
    this.notifyDue += this.client.notificationsFor(1);
    return true;
  }

  releaseTx(pbuf: Pbuf): void {
    this.txPool.free(pbuf);
  }

  /**
   * Where every buffer is, by this end's own records: for each pool the three places add up to
   * its `count` (a driver that keeps buffers keeps them in `rxDriver`/`txDriver`; it cannot make
   * one vanish or appear twice). Fills and returns `out` (nothing allocated when one is passed).
   */
  census(
    out: SessionBufferCensus = {
      rxPool: 0,
      rxDriver: 0,
      rxStack: 0,
      txPool: 0,
      txDriver: 0,
      txStack: 0,
    },
  ): SessionBufferCensus {
    out.rxPool = this.rxPool.available;
    out.rxDriver = this.rxWithDriver;
    out.rxStack = this.rxWithStack;
    out.txPool = this.txPool.available;
    out.txDriver = this.txWithDriver;
    out.txStack = this.txPool.count - this.txPool.available - this.txWithDriver;
    return out;
  }

  /** Post a receive buffer; if the ring refuses it, it goes back to the pool (counted). */
  private post(p: Pbuf): boolean {
    if (!this.client.postRx(p.dataspaceId, p.base, p.capacity)) {
      this.stats.rxPostRefused++;
      this.rxPool.free(p);
      return false;
    }
    this.rxPosted[p.id] = 1;
    this.rxWithDriver++;
    // A driver that ran out of receive buffers may be asleep waiting for them.
    this.notifyDue += this.client.notificationsFor(1);
    return true;
  }

  /** The pbuf a returned descriptor names, if it is one we handed out; else counts it corrupt. */
  private validate(pool: PbufPool, posted: Uint8Array, d: Uint32Array): Pbuf | null {
    const slot = d[DESC_DATASPACE] === pool.dataspaceId ? pool.slotOf(d[DESC_OFFSET]!) : -1;
    if (slot < 0 || posted[slot] !== 1 || d[DESC_LENGTH]! > pool.bufferSize) {
      this.stats.corrupt++;
      return null;
    }
    return pool.byId(slot)!;
  }
}
