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
import { type DeviceCore, isDac, readAddr } from './context.js';
import { FrameFifo } from './fifo.js';
import type { BusRequest } from './pci-bus.js';
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
export class RxEngine implements BusRequest {
  busBytes = 0;
  busRead = true;
  busDac = false;
  /** The receiver accepts frames (CR.RXE written since the last RXD/reset). */
  enabled = false;
  /** Current descriptor address (RXDP). */
  dp = 0;
  readonly fifo: FrameFifo;

  private readonly core: DeviceCore;
  private running = false;
  private kickLatched = false;
  private phase = Phase.Wait;
  private outstanding = false;
  private requestEpoch = 0;
  private epoch = 0;

  private bufptr = 0;
  private link = 0;
  private intr = false;
  private len = 0;
  private done = 0;
  private status = 0;

  /** @param core - the device's shared parts */
  constructor(core: DeviceCore) {
    this.core = core;
    this.fifo = new FrameFifo(core.timing.rxFifoBytes);
  }

  /** CR.RXE: enable the receiver and kick the engine. */
  kick(): void {
    this.enabled = true;
    if (this.running) {
      this.kickLatched = true;
      return;
    }
    this.running = true;
    this.pump();
  }

  /** CR.RXD: stop receiving. */
  disable(): void {
    this.enabled = false;
    this.running = false;
    this.kickLatched = false;
  }

  /** CR.RXR or CR.RST. */
  reset(): void {
    this.epoch++;
    this.enabled = false;
    this.running = false;
    this.kickLatched = false;
    this.phase = Phase.Wait;
    this.dp = 0;
    this.fifo.clear();
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

  busComplete(): void {
    this.outstanding = false;
    if (this.requestEpoch !== this.epoch) {
      this.pump();
      return;
    }
    const mem = this.core.host.memory;
    switch (this.phase) {
      case Phase.DescPending:
        this.descFetched();
        break;
      case Phase.DataPending:
        this.fifo.copyOut(this.done, mem.bytes, this.bufptr + this.done, this.busBytes);
        this.done += this.busBytes;
        this.phase = Phase.Data;
        break;
      case Phase.StatusPending:
        this.statusWritten();
        break;
      default:
        break;
    }
    this.pump();
  }

  private pump(): void {
    if (this.outstanding || !this.running) return;
    const layout = this.core.descLayout();
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
        if (this.dp === 0) {
          this.goIdle();
          return;
        }
        if (!this.core.host.memory.contains(this.dp, layout.size)) {
          this.busError();
          return;
        }
        this.phase = Phase.DescPending;
        this.issue(layout.size, true, this.dp);
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
        this.issue(n, false, this.bufptr + this.done);
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

  private issue(bytes: number, read: boolean, addr: number): void {
    this.busBytes = bytes;
    this.busRead = read;
    this.busDac = isDac(addr);
    this.outstanding = true;
    this.requestEpoch = this.epoch;
    this.core.bus.request(this);
  }

  private descFetched(): void {
    const host = this.core.host;
    const layout = this.core.descLayout();
    const cmdsts = host.memory.read32(this.dp + layout.cmdsts) >>> 0;
    if ((cmdsts & CMDSTS.OWN) !== 0) {
      this.phase = Phase.NeedDesc;
      this.goIdle();
      return;
    }
    const capacity = cmdsts & CMDSTS.SIZE_MASK;
    const bufptr = readAddr(host, this.dp + layout.bufptr, layout.wide);
    this.link = readAddr(host, this.dp + layout.link, layout.wide);
    this.intr = (cmdsts & CMDSTS.INTR) !== 0;
    this.len = this.fifo.headLength();
    if (this.len > capacity) {
      this.fifo.pop();
      this.core.stats.rxErrors++;
      this.status = CMDSTS.OWN | CMDSTS.ERR | CMDSTS.LONG | this.len;
      this.phase = Phase.Status;
      return;
    }
    if (!host.memory.contains(bufptr, this.len)) {
      this.phase = Phase.NeedDesc;
      this.busError();
      return;
    }
    this.bufptr = bufptr;
    this.done = 0;
    this.status = CMDSTS.OWN | CMDSTS.OK | this.fifo.headTag() | this.len;
    this.phase = Phase.Data;
  }

  private statusWritten(): void {
    const mem = this.core.host.memory;
    const layout = this.core.descLayout();
    mem.write32(this.dp + layout.extsts, 0);
    mem.write32(this.dp + layout.cmdsts, this.status >>> 0);
    const ok = (this.status & CMDSTS.OK) !== 0;
    if (ok) this.core.stats.rxDelivered++;
    this.core.irq.post((ok ? ISR.RXOK : ISR.RXERR) | (this.intr ? ISR.RXDESC : 0));
    this.dp = this.link;
    this.phase = Phase.Wait;
  }

  private goIdle(): void {
    if (this.kickLatched) {
      this.kickLatched = false;
      this.phase = Phase.NeedDesc;
      this.pump();
      return;
    }
    this.running = false;
    this.core.irq.post(ISR.RXIDLE);
  }

  private busError(): void {
    this.running = false;
    this.kickLatched = false;
    this.core.stats.busErrors++;
    this.core.irq.post(ISR.RMABT);
  }
}
