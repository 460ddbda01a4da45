/**
 * What the transmit and receive DMA engines share: each is a bus master that walks a descriptor
 * chain from its DP register (TXDP, RXDP) with at most one burst on the bus at a time.
 *
 * This base keeps the CR life cycle (TXE/RXE kick, a kick latched while busy, TXD/RXD disable,
 * TXR/RXR/RST reset), issues bursts and drops the completion of a burst issued before a reset
 * (the epoch), fetches the descriptor at DP (idle at a null DP, bus error if DP is outside
 * memory), reads its CMDSTS, BUFPTR and LINK fields in the layout CFG.M64ADDR selects, and goes
 * idle when the descriptor is not the device's. An engine adds only what its direction does:
 * which OWN value hands a descriptor to the device, where the data goes, and how status is
 * written back. Internal to the device model.
 *
 * @module
 */
import type { StatusWord } from '@udf/l4-kernel';
import { type DeviceCore, isDac, readAddr } from './context.js';
import { FrameFifo } from './fifo.js';
import type { BusRequest } from './pci-bus.js';
import { CMDSTS, ISR } from './registers.js';

/** A descriptor-walking DMA engine of one device; see the module notes. */
export abstract class DescriptorDma implements BusRequest {
  busBytes = 0;
  busRead = true;
  busDac = false;
  /**
   * Bytes per data phase: set by the device from CFG.DATA64_EN before any burst (initialised
   * here, with the other bus fields, so every engine keeps one object shape).
   */
  busDataBytes: number;
  /** Always 0: DMA bursts are timed from their size ({@link BusRequest.busFixedClocks}). */
  busFixedClocks = 0;
  /** Address of the burst on the bus (what the IOMMU checks when it completes). */
  busAddr = 0;
  /** CR.TXE/CR.RXE has been written since the last disable or reset. */
  enabled = false;
  /** The descriptor pointer's low word where CPUs read it without the device (or null). */
  private dpMirror: StatusWord | null = null;
  private dpValue = 0;
  /** Current descriptor address (TXDP/RXDP). */
  get dp(): number {
    return this.dpValue;
  }
  set dp(v: number) {
    this.dpValue = v;
    if (this.dpMirror !== null) this.dpMirror.store(v >>> 0);
  }
  /**
   * Keep the descriptor pointer's low word (the TXDP/RXDP register) in `word` too, so CPUs can
   * read the register from it (`DeviceHost.mirrorWord`).
   */
  mirrorDp(word: StatusWord | null): void {
    this.dpMirror = word;
    word?.store(this.dpValue >>> 0);
  }
  /** The engine's data FIFO. */
  readonly fifo: FrameFifo;

  protected readonly core: DeviceCore;
  /** The state machine runs: kicked, and neither idle nor stopped by a bus error. */
  protected running = false;
  /** A burst of this engine is queued on or holds the bus. */
  protected outstanding = false;
  /** Bumped by every reset; a burst issued in an older epoch completes without effect. */
  protected epoch = 0;
  /** CMDSTS of the descriptor last read by {@link DescriptorDma.readDescriptor}. */
  protected fetchedCmdsts = 0;
  /** BUFPTR of that descriptor. */
  protected fetchedBufptr = 0;
  /** LINK of that descriptor. */
  protected fetchedLink = 0;

  private kickLatched = false;
  private requestEpoch = 0;
  /** A descriptor belongs to the device while its CMDSTS.OWN is set (transmit), else while clear (receive). */
  private readonly ownSetForDevice: boolean;
  /** The ISR cause posted when the engine goes idle. */
  private readonly idleCause: number;

  /**
   * @param core - the device's shared parts
   * @param fifoBytes - capacity of the engine's FIFO
   * @param ownSetForDevice - true if the driver sets CMDSTS.OWN to hand a descriptor to the
   *   device (transmit), false if it clears it (receive)
   * @param idleCause - `ISR.TXIDLE` or `ISR.RXIDLE`
   * @param stagingBytes - the FIFO's staging area for frames handed on whole (transmit)
   */
  constructor(
    core: DeviceCore,
    fifoBytes: number,
    ownSetForDevice: boolean,
    idleCause: number,
    stagingBytes = 0,
  ) {
    this.busDataBytes = core.timing.pciBusBytes;
    this.core = core;
    this.fifo = new FrameFifo(fifoBytes, 14, stagingBytes);
    this.ownSetForDevice = ownSetForDevice;
    this.idleCause = idleCause;
  }

  /** CR.TXE/CR.RXE: enable and kick; a kick while running is latched. */
  kick(): void {
    this.enabled = true;
    if (this.core.dmaHalted()) return; // an IOMMU fault: nothing moves until CR.RST
    if (this.running) {
      this.kickLatched = true;
      return;
    }
    this.running = true;
    this.pump();
  }

  /** CR.TXD/CR.RXD: stop walking descriptors. */
  disable(): void {
    this.enabled = false;
    this.running = false;
    this.kickLatched = false;
  }

  /** CR.TXR/CR.RXR or CR.RST: abandon everything in flight, DP to 0, FIFO emptied. */
  reset(): void {
    this.epoch++;
    this.enabled = false;
    this.running = false;
    this.kickLatched = false;
    this.dp = 0;
    this.fifo.clear();
  }

  busComplete(): void {
    this.outstanding = false;
    if (this.requestEpoch === this.epoch) {
      // The IOMMU checks the burst as it reaches memory: a refused one moves no byte.
      if (this.core.dmaPermitted(this.busAddr, this.busBytes, !this.busRead)) this.transferred();
      else this.halt();
    }
    this.pump();
  }

  /** Stop at once, keeping DP and the FIFO (an IOMMU fault; only a reset restarts the engine). */
  halt(): void {
    this.running = false;
    this.kickLatched = false;
  }

  /** Advance the state machine: issue the next burst if there is one to issue. */
  protected abstract pump(): void;

  /** The burst issued in the current epoch has completed: perform its memory effect. */
  protected abstract transferred(): void;

  /** Return the state machine to "fetch the descriptor at DP". */
  protected abstract needDescriptor(): void;

  /** Put one burst on the bus. */
  protected issue(bytes: number, read: boolean, addr: number): void {
    if (this.core.dmaHalted()) {
      this.halt();
      return;
    }
    this.busAddr = addr;
    this.busBytes = bytes;
    this.busRead = read;
    this.busDac = isDac(addr);
    this.outstanding = true;
    this.requestEpoch = this.epoch;
    this.core.bus.request(this);
  }

  /**
   * Start fetching the descriptor at DP. False if no fetch was issued: DP is 0 (the engine goes
   * idle) or the descriptor lies outside memory (bus error).
   */
  protected fetchDescriptor(): boolean {
    const size = this.core.descLayout().size;
    if (this.dp === 0) {
      this.goIdle();
      return false;
    }
    if (!this.core.host.memory.contains(this.dp, size)) {
      this.busError();
      return false;
    }
    this.issue(size, true, this.dp);
    return true;
  }

  /**
   * The descriptor fetch completed: read its fields into `fetched*`. False if the device does
   * not own the descriptor; the engine then waits at it, idle.
   */
  protected readDescriptor(): boolean {
    const mem = this.core.mem;
    const layout = this.core.descLayout();
    // CMDSTS first, atomically: the driver publishes it last (see dma-memory.ts).
    const cmdsts = mem.load32(this.dp + layout.cmdsts) >>> 0;
    if (((cmdsts & CMDSTS.OWN) !== 0) !== this.ownSetForDevice) {
      this.idleAtDescriptor();
      return false;
    }
    this.fetchedCmdsts = cmdsts;
    this.fetchedBufptr = readAddr(mem, this.dp + layout.bufptr, layout.wide);
    this.fetchedLink = readAddr(mem, this.dp + layout.link, layout.wide);
    return true;
  }

  /** The descriptor at DP cannot be used yet: wait at it, idle (a later kick re-fetches it). */
  protected idleAtDescriptor(): void {
    this.needDescriptor();
    this.goIdle();
  }

  /** The descriptor at DP names memory that does not exist: stop with a bus error. */
  protected faultAtDescriptor(): void {
    this.needDescriptor();
    this.busError();
  }

  private goIdle(): void {
    if (this.kickLatched) {
      this.kickLatched = false;
      this.needDescriptor();
      this.pump();
      return;
    }
    this.running = false;
    this.core.irq.post(this.idleCause);
  }

  private busError(): void {
    this.running = false;
    this.kickLatched = false;
    this.core.stats.busErrors++;
    this.core.irq.post(ISR.RMABT);
  }
}
