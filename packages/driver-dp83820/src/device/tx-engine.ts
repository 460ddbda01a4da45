/**
 * The transmit side: a DMA state machine that walks the descriptor chain at TXDP and fills the
 * transmit FIFO burst by burst, and a MAC that serialises whole frames from the FIFO onto the wire
 * (store-and-forward) and then has the engine write each descriptor's completion status back.
 *
 * States of the DMA engine: idle (needs a TXE kick) → fetch descriptor → fetch data (waits when
 * the FIFO has no room for the next burst) → next descriptor. It goes idle with TXIDLE when the
 * descriptor at TXDP is not owned by the device (OWN clear) or TXDP is 0 (end of a null-terminated
 * chain); TXDP then still names that descriptor, so a later TXE kick resumes there. A TXE kick
 * that arrives while the engine is busy is latched: the engine re-reads the descriptor once more
 * before declaring itself idle. Status write-backs take priority over fetches.
 *
 * @module
 */
import { wireSeconds } from '@udf/netdev';
import { type DeviceCore, isDac, readAddr } from './context.js';
import { FrameFifo } from './fifo.js';
import type { BusRequest } from './pci-bus.js';
import { CMDSTS, ISR } from './registers.js';

const enum Phase {
  NeedDesc,
  DescPending,
  Data,
  DataPending,
}

/** Descriptors tracked between fetch and status write-back. */
const DESC_SLOTS = 1024;

/** Transmit DMA engine and MAC of one device. */
export class TxEngine implements BusRequest {
  busBytes = 0;
  busRead = true;
  busDac = false;
  /** CR.TXE has been written since the last TXD/reset. */
  enabled = false;
  /** Current descriptor address (TXDP). */
  dp = 0;
  readonly fifo: FrameFifo;

  private readonly core: DeviceCore;
  private running = false;
  private kickLatched = false;
  private phase = Phase.NeedDesc;
  private outstanding = false;
  private writebackInFlight = false;
  private requestEpoch = 0;
  private epoch = 0;

  // The descriptor being fetched.
  private bufptr = 0;
  private size = 0;
  private cmdsts = 0;
  private link = 0;
  private done = 0;

  // Descriptors of frames in the FIFO (and the open frame), oldest first.
  private readonly descAddr = new Float64Array(DESC_SLOTS);
  private readonly descCmd = new Uint32Array(DESC_SLOTS);
  private descHead = 0;
  private descCount = 0;
  private openDescs = 0;

  // Status write-backs due (MAC finished the frame): count of descriptors from descHead.
  private writebacks = 0;
  private readonly writebackFrameEnd = new Int32Array(DESC_SLOTS);
  private wbAddr = 0;
  private wbValue = 0;

  // MAC state.
  private macBusy = false;
  private macEpoch = 0;
  private readonly staging: Uint8Array;
  private readonly views: (Uint8Array | undefined)[] = [];
  private readonly onMacDone = (): void => this.macDone();

  /** @param core - the device's shared parts */
  constructor(core: DeviceCore) {
    this.core = core;
    this.fifo = new FrameFifo(core.timing.txFifoBytes);
    this.staging = new Uint8Array(core.timing.txFifoBytes);
  }

  /** CR.TXE: enable and kick. */
  kick(): void {
    this.enabled = true;
    if (this.running) {
      this.kickLatched = true;
      return;
    }
    this.running = true;
    this.pump();
  }

  /** CR.TXD: stop fetching new descriptors (frames already in the FIFO still go out). */
  disable(): void {
    this.enabled = false;
    this.running = false;
    this.kickLatched = false;
  }

  /** CR.TXR or CR.RST: abandon everything in flight. */
  reset(): void {
    this.epoch++;
    this.enabled = false;
    this.running = false;
    this.kickLatched = false;
    this.phase = Phase.NeedDesc;
    this.dp = 0;
    this.fifo.clear();
    this.descHead = 0;
    this.descCount = 0;
    this.openDescs = 0;
    this.writebacks = 0;
    this.writebackFrameEnd.fill(0);
    this.macBusy = false;
  }

  busComplete(): void {
    this.outstanding = false;
    const writeback = this.writebackInFlight;
    this.writebackInFlight = false;
    if (this.requestEpoch !== this.epoch) {
      this.pump();
      return;
    }
    if (writeback) {
      this.writebackDone();
      this.pump();
      return;
    }
    const mem = this.core.host.memory;
    switch (this.phase) {
      case Phase.DescPending:
        this.descFetched();
        break;
      case Phase.DataPending:
        this.fifo.append(mem.bytes, this.bufptr + this.done, this.busBytes);
        this.done += this.busBytes;
        this.phase = Phase.Data;
        if (this.done === this.size) this.fragmentDone();
        break;
      default:
        break;
    }
    this.pump();
  }

  private pump(): void {
    if (this.outstanding) return;
    if (this.writebacks > 0) {
      this.startWriteback();
      return;
    }
    if (!this.running) return;
    if (this.phase === Phase.NeedDesc) {
      const layout = this.core.descLayout();
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
    }
    if (this.phase === Phase.Data) {
      const n = Math.min(this.core.txBurst(), this.size - this.done);
      if (n === 0) {
        this.fragmentDone();
        this.pump();
        return;
      }
      if (this.fifo.free < n) return; // the MAC's completion pumps again
      this.phase = Phase.DataPending;
      this.issue(n, true, this.bufptr + this.done);
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
    if ((cmdsts & CMDSTS.OWN) === 0) {
      this.phase = Phase.NeedDesc;
      this.goIdle();
      return;
    }
    const size = cmdsts & CMDSTS.SIZE_MASK;
    const bufptr = readAddr(host, this.dp + layout.bufptr, layout.wide);
    if (size > 0 && !host.memory.contains(bufptr, size)) {
      this.phase = Phase.NeedDesc;
      this.busError();
      return;
    }
    if (this.descCount === DESC_SLOTS) {
      // No room to track it: behave as if the descriptor was not ready yet.
      this.phase = Phase.NeedDesc;
      this.goIdle();
      return;
    }
    this.cmdsts = cmdsts;
    this.size = size;
    this.bufptr = bufptr;
    this.link = readAddr(host, this.dp + layout.link, layout.wide);
    this.done = 0;
    const slot = (this.descHead + this.descCount) % DESC_SLOTS;
    this.descAddr[slot] = this.dp;
    this.descCmd[slot] = cmdsts;
    this.descCount++;
    this.openDescs++;
    if (this.fifo.open + size > this.fifo.capacity) {
      this.frameTooLong();
      return;
    }
    this.phase = Phase.Data;
  }

  private fragmentDone(): void {
    this.dp = this.link;
    this.phase = Phase.NeedDesc;
    if ((this.cmdsts & CMDSTS.MORE) !== 0) return;
    this.fifo.commit(this.openDescs);
    this.openDescs = 0;
    this.macStart();
  }

  /**
   * A frame larger than the FIFO can never be sent: its descriptors complete with ERR, in order
   * behind the frames already queued (an empty FIFO entry with a negative descriptor count).
   */
  private frameTooLong(): void {
    this.fifo.discardOpen();
    const first = this.descCount - this.openDescs;
    for (let i = first; i < this.descCount; i++) {
      const slot = (this.descHead + i) % DESC_SLOTS;
      this.descCmd[slot] = (this.descCmd[slot]! | CMDSTS.ERR) & ~CMDSTS.OK;
    }
    this.fifo.commit(-this.openDescs);
    this.openDescs = 0;
    // The rest of this frame's chain is skipped: continue at the link of this fragment.
    this.dp = this.link;
    this.phase = Phase.NeedDesc;
    this.macStart();
  }

  private macStart(): void {
    if (this.macBusy || this.fifo.frames === 0) return;
    this.macBusy = true;
    this.macEpoch = this.epoch;
    const host = this.core.host;
    const len = this.fifo.headLength();
    const wire = this.fifo.headTag() < 0 ? 0 : wireSeconds(len, this.core.timing.wireBitsPerSecond);
    host.schedule(host.now() + Math.ceil(wire * host.hz), this.onMacDone);
  }

  private macDone(): void {
    if (this.macEpoch !== this.epoch) return;
    this.macBusy = false;
    const len = this.fifo.headLength();
    const descs = this.fifo.headTag();
    if (descs < 0) {
      this.fifo.pop();
      this.core.stats.txErrors++;
      this.queueWritebacks(-descs);
    } else {
      const frame = this.view(len);
      this.fifo.copyOut(0, frame, 0, len);
      this.fifo.pop();
      this.core.stats.txSent++;
      this.core.toWire(frame);
      this.queueWritebacks(descs);
    }
    this.macStart();
    this.pump();
  }

  /** A view of `len` bytes of the staging buffer, cached per length so sending allocates nothing. */
  private view(len: number): Uint8Array {
    let v = this.views[len];
    if (!v) {
      v = this.staging.subarray(0, len);
      this.views[len] = v;
    }
    return v;
  }

  private queueWritebacks(descs: number): void {
    this.writebackFrameEnd[(this.descHead + this.writebacks + descs - 1) % DESC_SLOTS] = 1;
    this.writebacks += descs;
  }

  private startWriteback(): void {
    const slot = this.descHead;
    const layout = this.core.descLayout();
    const cmd = this.descCmd[slot]!;
    this.wbAddr = this.descAddr[slot]! + layout.cmdsts;
    this.wbValue = (cmd & CMDSTS.ERR) !== 0 ? cmd & ~CMDSTS.OWN : (cmd & ~CMDSTS.OWN) | CMDSTS.OK;
    this.outstanding = true;
    this.requestEpoch = this.epoch;
    this.busBytes = 4;
    this.busRead = false;
    this.busDac = isDac(this.wbAddr);
    this.writebackInFlight = true;
    this.core.bus.request(this);
  }

  private writebackDone(): void {
    const slot = this.descHead;
    const value = this.wbValue >>> 0;
    this.core.host.memory.write32(this.wbAddr, value);
    const last = this.writebackFrameEnd[slot] === 1;
    this.writebackFrameEnd[slot] = 0;
    this.descHead = (this.descHead + 1) % DESC_SLOTS;
    this.descCount--;
    this.writebacks--;
    let cause = 0;
    if ((value & CMDSTS.INTR) !== 0) cause |= ISR.TXDESC;
    if (last) cause |= (value & CMDSTS.ERR) !== 0 ? ISR.TXERR : ISR.TXOK;
    if (cause !== 0) this.core.irq.post(cause);
  }

  private goIdle(): void {
    if (this.kickLatched) {
      this.kickLatched = false;
      this.phase = Phase.NeedDesc;
      this.pump();
      return;
    }
    this.running = false;
    this.core.irq.post(ISR.TXIDLE);
  }

  private busError(): void {
    this.running = false;
    this.kickLatched = false;
    this.core.stats.busErrors++;
    this.core.irq.post(ISR.RMABT);
  }
}
