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
 * @module
 */
import type { DeviceCore } from './context.js';
import { DescriptorDma } from './descriptor-dma.js';
import { CMDSTS, ISR, Reg } from './registers.js';

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

  /** @param core - the device's shared parts */
  constructor(core: DeviceCore) {
    super(core, core.timing.rxFifoBytes, false, ISR.RXIDLE);
  }

  /** CR.RXR or CR.RST. */
  override reset(): void {
    super.reset();
    this.phase = Phase.Wait;
  }

  /** A frame passed the filter: store it in the FIFO or count an overrun. `dest` is a CMDSTS.DEST value. */
  accept(frame: Uint8Array, dest: number): void {
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
    this.pump();
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
        if (this.fifo.frames === 0) return;
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
