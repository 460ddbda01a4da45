/**
 * The transmit side: a DMA state machine that walks the descriptor chain at TXDP and fills the
 * transmit FIFO burst by burst, and a MAC that serialises frames from the FIFO onto the wire and
 * then has the engine write each descriptor's completion status back.
 *
 * FIFO thresholds (TXCFG; semantics and sources at `txFillThresholdBytes` in `registers.ts`):
 * - Fill (FLTH): a data burst is fetched only when the FIFO has at least max(FLTH, burst) bytes
 *   free (the DP83815's txFifoBlock state). A frame that cannot complete because only it is in
 *   the FIFO and too little room is left (Linux: "the largest packet that can be transmitted is
 *   8192 - FLTH - burst size") completes with ERR instead of hanging the model.
 * - Drain (DRTH): 0 means store-and-forward, the MAC starts a frame once all of it is in the
 *   FIFO. Otherwise the MAC starts as soon as DRTH bytes of the head frame are in; byte k then
 *   leaves at start + (8 + k) byte times (8 bytes of preamble/SFD first). Each burst arriving for
 *   a frame already on the wire is checked against the time its first byte was due: if late, the
 *   FIFO ran dry (transmit underrun): ISR.TXURN is posted at once, and when the frame's last
 *   fragment is in, its descriptors complete with ERR|TXA|TFU and nothing reaches the peer. An
 *   early-started frame's wire time ends at start + its wire time (or when its last byte
 *   arrives, if later). The MAC frees a frame's FIFO space when the frame is done, not byte by
 *   byte (a simplification: it only matters for frames close to the FIFO size).
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
import type { DeviceCore } from './context.js';
import { DescriptorDma } from './descriptor-dma.js';
import { CMDSTS, ISR } from './registers.js';

/** Preamble and start-of-frame delimiter sent before a frame's first byte (IEEE 802.3). */
const PREAMBLE_BYTES = 8;

const enum Phase {
  NeedDesc,
  DescPending,
  Data,
  DataPending,
}

/** Descriptors tracked between fetch and status write-back. */
const DESC_SLOTS = 1024;

/** Transmit DMA engine and MAC of one device. */
export class TxEngine extends DescriptorDma {
  private phase = Phase.NeedDesc;
  private writebackInFlight = false;

  // The fragment being fetched (its descriptor's fields are in `fetched*`).
  private size = 0;
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
  private readonly onMacDone = (): void => this.macDone();
  /** The MAC started the open frame early (TXCFG.DRTH) and its end is not yet scheduled. */
  private earlyPending = false;
  /** When that frame's first preamble bit left, in cycles. */
  private earlyStartAt = 0;
  /** That frame ran dry on the wire. */
  private underrun = false;

  /** @param core - the device's shared parts */
  constructor(core: DeviceCore) {
    // Staging for the frame handed to the wire: at most the FIFO's size.
    super(core, core.timing.txFifoBytes, true, ISR.TXIDLE, core.timing.txFifoBytes);
  }

  /** CR.TXR or CR.RST: abandon everything in flight (frames in the FIFO included). */
  override reset(): void {
    super.reset();
    this.phase = Phase.NeedDesc;
    // A burst still on the bus belongs to the old epoch: it completes without effect.
    this.writebackInFlight = false;
    this.descHead = 0;
    this.descCount = 0;
    this.openDescs = 0;
    this.writebacks = 0;
    this.writebackFrameEnd.fill(0);
    this.macBusy = false;
    this.earlyPending = false;
    this.underrun = false;
  }

  protected transferred(): void {
    if (this.writebackInFlight) {
      this.writebackInFlight = false;
      this.writebackDone();
      return;
    }
    switch (this.phase) {
      case Phase.DescPending:
        this.descFetched();
        break;
      case Phase.DataPending:
        if (this.earlyPending) this.checkUnderrun();
        this.fifo.appendFromMemory(this.core.mem, this.fetchedBufptr + this.done, this.busBytes);
        this.done += this.busBytes;
        this.phase = Phase.Data;
        if (this.done === this.size) this.fragmentDone();
        else if (!this.macBusy) this.macStart();
        break;
      default:
        break;
    }
  }

  protected pump(): void {
    if (this.outstanding) return;
    if (this.writebacks > 0) {
      this.startWriteback();
      return;
    }
    if (!this.running) return;
    if (this.phase === Phase.NeedDesc) {
      if (this.fetchDescriptor()) this.phase = Phase.DescPending;
      return;
    }
    if (this.phase === Phase.Data) {
      const n = Math.min(this.core.txBurst(), this.size - this.done);
      if (n === 0) {
        this.fragmentDone();
        this.pump();
        return;
      }
      if (this.fifo.free < Math.max(n, this.core.txFillThreshold())) {
        // Only the open frame is in the FIFO: no completion will ever make room for the rest.
        if (this.fifo.frames === 0) {
          this.frameTooLong();
          this.pump();
        }
        return; // the MAC's completion pumps again
      }
      this.phase = Phase.DataPending;
      this.issue(n, true, this.fetchedBufptr + this.done);
    }
  }

  protected needDescriptor(): void {
    this.phase = Phase.NeedDesc;
  }

  private descFetched(): void {
    if (!this.readDescriptor()) return;
    const cmdsts = this.fetchedCmdsts;
    const size = cmdsts & CMDSTS.SIZE_MASK;
    if (size > 0 && !this.core.host.memory.contains(this.fetchedBufptr, size)) {
      this.faultAtDescriptor();
      return;
    }
    if (this.descCount === DESC_SLOTS) {
      // No room to track it: behave as if the descriptor was not ready yet.
      this.idleAtDescriptor();
      return;
    }
    this.size = size;
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
    this.dp = this.fetchedLink;
    this.phase = Phase.NeedDesc;
    if ((this.fetchedCmdsts & CMDSTS.MORE) !== 0) {
      if (!this.macBusy) this.macStart();
      return;
    }
    if (this.earlyPending && this.underrun) {
      this.failOpenFrame(CMDSTS.ERR | CMDSTS.TXA | CMDSTS.TFU);
    } else {
      this.fifo.commit(this.openDescs);
    }
    this.openDescs = 0;
    this.macStart();
  }

  /**
   * A burst of the frame the MAC is already sending arrives: it is late if the wire needed its
   * first byte before now (the FIFO ran dry: transmit underrun, ISR.TXURN).
   */
  private checkUnderrun(): void {
    if (this.underrun) return;
    const host = this.core.host;
    const due =
      this.earlyStartAt +
      (((PREAMBLE_BYTES + this.fifo.open) * 8) / this.core.timing.wireBitsPerSecond) * host.hz;
    if (host.now() <= due) return;
    this.underrun = true;
    this.core.fifoStats.txUnderruns++;
    this.core.irq.post(ISR.TXURN);
  }

  /** Complete the open frame's descriptors with `errorBits` (no OK), behind the frames queued. */
  private failOpenFrame(errorBits: number): void {
    this.fifo.discardOpen();
    const first = this.descCount - this.openDescs;
    for (let i = first; i < this.descCount; i++) {
      const slot = (this.descHead + i) % DESC_SLOTS;
      this.descCmd[slot] = (this.descCmd[slot]! | errorBits) & ~CMDSTS.OK;
    }
    this.fifo.commit(-this.openDescs);
  }

  /**
   * A frame larger than the FIFO can never be sent: its descriptors complete with ERR, in order
   * behind the frames already queued (an empty FIFO entry with a negative descriptor count).
   */
  private frameTooLong(): void {
    this.failOpenFrame(CMDSTS.ERR);
    this.openDescs = 0;
    // The rest of this frame's chain is skipped: continue at the link of this fragment.
    this.dp = this.fetchedLink;
    this.phase = Phase.NeedDesc;
    this.macStart();
  }

  /**
   * Start the MAC on the head frame if it is idle: a whole frame, or (TXCFG.DRTH > 0) the open
   * frame once DRTH of its bytes are in. If it is busy with an early-started frame that has just
   * been committed, schedule that frame's end.
   */
  private macStart(): void {
    const host = this.core.host;
    if (this.macBusy) {
      if (!this.earlyPending || this.fifo.frames === 0) return;
      // The early frame is now whole (or failed): it ends one wire time after it started.
      this.earlyPending = false;
      const len = this.fifo.headLength();
      let at = host.now();
      if (this.fifo.headTag() >= 0) {
        const wire = wireSeconds(len, this.core.timing.wireBitsPerSecond);
        at = Math.max(at, this.earlyStartAt + Math.ceil(wire * host.hz));
      }
      host.schedule(at, this.onMacDone);
      return;
    }
    if (this.fifo.frames === 0) {
      const drain = this.core.txDrainThreshold();
      if (drain === 0 || this.openDescs === 0 || this.fifo.open < drain) return;
      this.macBusy = true;
      this.macEpoch = this.epoch;
      this.earlyPending = true;
      this.earlyStartAt = host.now();
      this.underrun = false;
      this.core.fifoStats.txEarlyStarts++;
      return;
    }
    this.macBusy = true;
    this.macEpoch = this.epoch;
    const len = this.fifo.headLength();
    const wire = this.fifo.headTag() < 0 ? 0 : wireSeconds(len, this.core.timing.wireBitsPerSecond);
    host.schedule(host.now() + Math.ceil(wire * host.hz), this.onMacDone);
  }

  private macDone(): void {
    if (this.macEpoch !== this.epoch) return;
    this.macBusy = false;
    const descs = this.fifo.headTag();
    if (descs < 0) {
      this.fifo.pop();
      this.core.stats.txErrors++;
      this.queueWritebacks(-descs);
    } else {
      const frame = this.fifo.stageHead();
      this.fifo.pop();
      this.core.stats.txSent++;
      this.core.toWire(frame);
      this.queueWritebacks(descs);
    }
    this.macStart();
    this.pump();
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
    this.writebackInFlight = true;
    this.issue(4, false, this.wbAddr);
  }

  private writebackDone(): void {
    const slot = this.descHead;
    const value = this.wbValue >>> 0;
    // CMDSTS atomically: it hands the descriptor back (see dma-memory.ts).
    this.core.mem.store32(this.wbAddr, value);
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
}
