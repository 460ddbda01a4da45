/**
 * The receive side: frames accepted by the filter enter the receive FIFO whole (store-and-forward;
 * a frame that does not fit is lost: RXORN and the MIB missed-packet count). A DMA state machine
 * drains the FIFO into the descriptor chain at RXDP: fetch descriptor → write the frame in bursts
 * → write CMDSTS/EXTSTS back (OWN set, OK, length, destination class) → follow the link.
 *
 * The engine fetches a descriptor when a frame is waiting. It goes idle with RXIDLE when the
 * descriptor at RXDP is not available (OWN set by the driver) or RXDP is 0; while idle the MAC
 * keeps filling the FIFO until it overflows, so a driver that does not refill and re-kick (CR.RXE)
 * sees overruns. A frame longer than the buffer completes that descriptor with ERR|LONG and is
 * dropped (the chip would continue it into the next descriptor; our drivers never post short
 * buffers, so the model keeps one frame per descriptor).
 *
 * Receive drain threshold (RXCFG.DRTH, semantics and sources at `rxDrainThresholdBytes` in
 * `registers.ts`): a frame normally enters the FIFO whole, when its last bit has arrived (the
 * wire contract of `@udf/netdev`), and DMA can only then move it: store-and-forward, whatever
 * DRTH says. A sender that reports a frame at its first bit (`Dp83820.receiveStarting`)
 * lets the MAC fill the FIFO at line rate instead: byte k is in at start + (8 + k) byte times.
 * With DRTH = 0 DMA still waits for the whole frame; with DRTH > 0 it may fetch a descriptor and
 * start writing once DRTH bytes are in, each burst waiting until its bytes have arrived, and it
 * writes the status only after the last byte (and FCS) is in. The FIFO reserves the frame's
 * whole length when it starts (the length is known to the model, not to the chip; a frame that
 * does not fit is lost at its start rather than part way).
 *
 * @module
 */
import type { DeviceCore } from './context.js';
import { DescriptorDma } from './descriptor-dma.js';
import { CMDSTS, ISR, Reg } from './registers.js';

/** Preamble and start-of-frame delimiter received before a frame's first byte (IEEE 802.3). */
const PREAMBLE_BYTES = 8;

const enum Phase {
  Wait,
  NeedDesc,
  DescPending,
  Data,
  DataPending,
  Status,
  StatusPending,
}

/** Receive MAC, FIFO and DMA engine of one device. */
export class RxEngine extends DescriptorDma {
  private phase = Phase.Wait;
  private intr = false;
  private len = 0;
  private done = 0;
  private status = 0;
  /** The newest frame in the FIFO (the tail) is still arriving: when it started and when its last bit is in. */
  private tailStartAt = 0;
  private tailEndAt = 0;
  /** A wake-up for bytes still arriving is scheduled (for {@link RxEngine.wakeEpoch}). */
  private wakePending = false;
  private wakeEpoch = 0;
  private counted = false;
  private readonly onWake = (): void => {
    this.wakePending = false;
    if (this.wakeEpoch === this.epoch) this.pump();
  };

  /** @param core - the device's shared parts */
  constructor(core: DeviceCore) {
    super(core, core.timing.rxFifoBytes, false, ISR.RXIDLE);
  }

  /** CR.RXR or CR.RST. */
  override reset(): void {
    super.reset();
    this.phase = Phase.Wait;
    this.tailEndAt = 0;
  }

  /**
   * A frame passed the filter: store it in the FIFO or count an overrun. `dest` is a CMDSTS.DEST
   * value. `endAt` is the cycle its last bit arrives: now for a whole frame, later for a frame
   * reported at its first bit.
   */
  accept(frame: Uint8Array, dest: number, endAt: number): void {
    const stats = this.core.stats;
    if (frame.length > this.fifo.free) {
      stats.rxOverruns++;
      this.core.mib[(Reg.MIB_RX_MISSED - Reg.MIB_RX_ERRORED) / 4]!++;
      this.core.irq.post(ISR.RXORN);
      return;
    }
    this.fifo.append(frame, 0, frame.length);
    if (!this.fifo.commit(dest)) {
      stats.rxOverruns++;
      this.core.irq.post(ISR.RXORN);
      return;
    }
    stats.rxAccepted++;
    this.tailStartAt = this.core.host.now();
    this.tailEndAt = endAt;
    this.pump();
  }

  /**
   * Bytes of the head frame in the FIFO now; the head frame's length when it is complete. Only
   * the tail frame can still be arriving, so the head is partial only when it is the sole frame.
   */
  private headArrived(): number {
    const len = this.fifo.headLength();
    const now = this.core.host.now();
    if (this.fifo.frames > 1 || now >= this.tailEndAt) return len;
    const bytes = (now - this.tailStartAt) / this.cyclesPerByte() - PREAMBLE_BYTES;
    return Math.max(0, Math.min(len, Math.floor(bytes)));
  }

  /** The head frame has wholly arrived (its last bit, FCS included). */
  private headComplete(): boolean {
    return this.fifo.frames > 1 || this.core.host.now() >= this.tailEndAt;
  }

  private cyclesPerByte(): number {
    return (8 * this.core.host.hz) / this.core.timing.wireBitsPerSecond;
  }

  /** Pump again when the head frame holds `bytes` (or is complete). */
  private wakeAt(bytes: number): void {
    if (this.wakePending) return;
    const host = this.core.host;
    const at =
      bytes >= this.fifo.headLength()
        ? this.tailEndAt
        : Math.min(
            this.tailEndAt,
            this.tailStartAt + Math.ceil((PREAMBLE_BYTES + bytes) * this.cyclesPerByte()),
          );
    this.wakePending = true;
    this.wakeEpoch = this.epoch;
    host.schedule(Math.max(at, host.now() + 1), this.onWake);
  }

  /** Whether DMA may begin on the head frame: it is whole, or RXCFG.DRTH of it has arrived. */
  private headReady(): boolean {
    if (this.headComplete()) return true;
    const drain = this.core.rxDrainThreshold();
    if (drain > 0 && this.headArrived() >= drain) return true;
    this.wakeAt(drain > 0 ? drain : this.fifo.headLength());
    return false;
  }

  protected transferred(): void {
    switch (this.phase) {
      case Phase.DescPending:
        this.descFetched();
        break;
      case Phase.DataPending:
        this.fifo.copyToMemory(
          this.done,
          this.core.mem,
          this.fetchedBufptr + this.done,
          this.busBytes,
        );
        this.done += this.busBytes;
        this.phase = Phase.Data;
        break;
      case Phase.StatusPending:
        this.statusWritten();
        break;
      default:
        break;
    }
  }

  protected pump(): void {
    if (this.outstanding || !this.running) return;
    switch (this.phase) {
      case Phase.Wait:
        if (this.fifo.frames === 0 || !this.headReady()) return;
        this.phase = Phase.NeedDesc;
        this.pump();
        return;
      case Phase.NeedDesc:
        if (this.fifo.frames === 0) {
          this.phase = Phase.Wait;
          return;
        }
        if (this.fetchDescriptor()) this.phase = Phase.DescPending;
        return;
      case Phase.Data: {
        const n = Math.min(this.core.rxBurst(), this.len - this.done);
        if (!this.headComplete()) {
          // The burst's bytes are not all in yet (early drain): wait for them.
          if (n === 0 || this.headArrived() < this.done + n) {
            this.wakeAt(this.done + n);
            return;
          }
          if (!this.counted) {
            this.counted = true;
            this.core.fifoStats.rxEarlyDrains++;
          }
        }
        if (n === 0) {
          this.fifo.pop();
          this.phase = Phase.Status;
          this.pump();
          return;
        }
        this.phase = Phase.DataPending;
        this.issue(n, false, this.fetchedBufptr + this.done);
        return;
      }
      case Phase.Status:
        this.phase = Phase.StatusPending;
        this.issue(8, false, this.dp);
        return;
      default:
        return;
    }
  }

  protected needDescriptor(): void {
    this.phase = Phase.NeedDesc;
  }

  private descFetched(): void {
    if (!this.readDescriptor()) return;
    const cmdsts = this.fetchedCmdsts;
    const capacity = cmdsts & CMDSTS.SIZE_MASK;
    this.intr = (cmdsts & CMDSTS.INTR) !== 0;
    this.len = this.fifo.headLength();
    if (this.len > capacity) {
      this.fifo.pop();
      this.core.stats.rxErrors++;
      this.status = CMDSTS.OWN | CMDSTS.ERR | CMDSTS.LONG | this.len;
      this.phase = Phase.Status;
      return;
    }
    if (!this.core.host.memory.contains(this.fetchedBufptr, this.len)) {
      this.faultAtDescriptor();
      return;
    }
    this.done = 0;
    this.counted = false;
    this.status = CMDSTS.OWN | CMDSTS.OK | this.fifo.headTag() | this.len;
    this.phase = Phase.Data;
  }

  private statusWritten(): void {
    const mem = this.core.mem;
    const layout = this.core.descLayout();
    mem.write32(this.dp + layout.extsts, 0);
    // CMDSTS last, atomically: it hands the descriptor back (see dma-memory.ts).
    mem.store32(this.dp + layout.cmdsts, this.status >>> 0);
    const ok = (this.status & CMDSTS.OK) !== 0;
    if (ok) this.core.stats.rxDelivered++;
    this.core.irq.post((ok ? ISR.RXOK : ISR.RXERR) | (this.intr ? ISR.RXDESC : 0));
    this.dp = this.fetchedLink;
    this.phase = Phase.Wait;
  }
}
