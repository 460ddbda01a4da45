/**
 * The device-specific half of the driver, one instance per DP83820: initialisation through the
 * register window, the receive and transmit descriptor rings in the driver's DMA memory, and the
 * ISR's decisions (after Linux `ns83820.c`). It never sees a session: the driver hands it
 * physical addresses and a slot tag, and gets tags back when descriptors complete.
 *
 * Rings are circular with fixed links. Receive: a slot is available to the device while its OWN
 * bit is clear; the driver keeps at least one slot unavailable (CMDSTS = OWN, size 0) so the
 * device stops there with RXIDLE. Transmit: a slot belongs to the device while OWN is set; one
 * slot always stays free so the device stops at it with TXIDLE.
 *
 * Stopping (pin quota exceeded, see `Dp83820Driver.quotaExceeded`): {@link DeviceDriver.resetAndWake}
 * may run outside the driver thread; it resets the device through the register window and raises
 * a software interrupt. The driver thread then calls {@link DeviceDriver.stop} and releases the
 * slots still holding client buffers with {@link DeviceDriver.dropRx}/{@link DeviceDriver.dropTx};
 * the device is never handed a descriptor again.
 *
 * @module
 */
import type { RegisterWindow, Sys } from '@udf/l4-kernel';
import {
  CFG,
  CMDSTS,
  CR,
  DESC_LAYOUT_32,
  DESC_LAYOUT_64,
  type DescriptorLayout,
  IER_IE,
  ISR,
  linuxData64,
  mxdma,
  PTSCR,
  Reg,
  RFCR,
  RXCFG,
  TXCFG,
} from '../device/registers.js';
import { type Dp83820DeviceConfig, Dp83820DriverConfigError } from './config.js';
import type { Dp83820DriverCosts } from './costs.js';
import { baseImr, txDescriptorIntr, txInterruptDue, txOkAfterIdle } from './interrupt-policy.js';

/**
 * Descriptor hand-off with the device (see `device/dma-memory.ts`): CMDSTS is written last with
 * `Atomics.store` when a descriptor is handed over, and read first with `Atomics.load` when the
 * driver looks whether the device gave it back, so the device never sees OWN before the buffer
 * pointer and size, on one thread or several.
 */
function publishCmdsts(words: Uint32Array, at: number, value: number): void {
  Atomics.store(words, at >> 2, value >>> 0);
}

/** Read CMDSTS first (see {@link publishCmdsts}). */
function loadCmdsts(words: Uint32Array, at: number): number {
  return Atomics.load(words, at >> 2) >>> 0;
}

/** Why a descriptor completed, as the device reported it. */
export interface Completion {
  /** Tag the driver gave the slot. */
  tag: number;
  /** Frame length (receive) or the length that was sent (transmit). */
  length: number;
  /** True if the device reported OK. */
  ok: boolean;
}

/** Driver state of one device. */
export class DeviceDriver {
  /** The device's interrupt thread (after {@link DeviceDriver.init}). */
  irqThread = 0;
  /** The station address read from the perfect-match registers. */
  readonly mac = new Uint8Array(6);
  /** Receive slots in use (posted to the device or filled and not yet harvested). */
  rxInUse = 0;
  /** Transmit slots owned by the device or awaiting reaping. */
  txInUse = 0;
  /** Interrupts handled. */
  interrupts = 0;
  /** RXORN/RXSOVR seen. */
  overruns = 0;
  /** RMABT seen. */
  busErrors = 0;
  /** Receive engine kicks (RXDP + CR.RXE). */
  rxKicks = 0;
  /** Transmit kicks (CR.TXE). */
  txKicks = 0;

  readonly rxSlots: number;
  readonly txSlots: number;
  private readonly config: Dp83820DeviceConfig;
  private readonly costs: Dp83820DriverCosts;
  private readonly layout: DescriptorLayout;
  private regs: RegisterWindow | null = null;
  private words: Uint32Array | null = null;
  private readonly rxBase: number;
  private readonly txBase: number;
  private readonly rxTags: Int32Array;
  private readonly txTags: Int32Array;
  private nextRx = 0;
  private nextEmpty = 0;
  private txFree = 0;
  private txDone = 0;
  private rxIdle = true;
  private imr: number;
  private stopped = false;
  private txIdlePending = false;

  /**
   * @param config - the device's configuration
   * @param costs - cost table
   */
  constructor(config: Dp83820DeviceConfig, costs: Dp83820DriverCosts) {
    this.config = config;
    this.costs = costs;
    this.layout = config.wideDescriptors ? DESC_LAYOUT_64 : DESC_LAYOUT_32;
    this.rxSlots = config.rxDescriptors ?? 64;
    this.txSlots = config.txDescriptors ?? 128;
    if (!Number.isInteger(this.rxSlots) || this.rxSlots < 4 || this.rxSlots > 4096) {
      throw new Dp83820DriverConfigError(`rxDescriptors must be in [4, 4096], got ${this.rxSlots}`);
    }
    if (!Number.isInteger(this.txSlots) || this.txSlots < 4 || this.txSlots % 4 !== 0) {
      throw new Dp83820DriverConfigError(`txDescriptors must be a multiple of 4 >= 4`);
    }
    const holdoff = config.holdoff ?? 1;
    if (!Number.isInteger(holdoff) || holdoff < 0 || holdoff > 255) {
      throw new Dp83820DriverConfigError(`holdoff must be an integer in [0, 255], got ${holdoff}`);
    }
    this.rxBase = 0;
    this.txBase = Math.ceil((this.rxSlots * this.layout.size) / 64) * 64;
    const need = this.txBase + this.txSlots * this.layout.size;
    if (config.dma.bytes < need) {
      throw new Dp83820DriverConfigError(`dma region needs ${need} bytes, has ${config.dma.bytes}`);
    }
    this.imr = baseImr(config.interruptPolicy ?? 'prime');
    this.rxTags = new Int32Array(this.rxSlots);
    this.txTags = new Int32Array(this.txSlots);
  }

  /** Receive slots the driver may still fill (one always stays unavailable; none once stopped). */
  get rxRoom(): number {
    return this.stopped ? 0 : this.rxSlots - 1 - this.rxInUse;
  }

  /** Transmit slots the driver may still fill (one always stays free; none once stopped). */
  get txRoom(): number {
    return this.stopped ? 0 : this.txSlots - 1 - this.txInUse;
  }

  /**
   * Bring the device up as ns83820 does: interrupts off, reset, EEPROM load, configuration, MAC
   * read-out, receive filter, rings, interrupt mask and hold-off, then attach the interrupt.
   */
  *init(sys: Sys): Generator<import('@udf/l4-kernel').KernelCall, void, unknown> {
    const regs = sys.mem.registers(this.config.registers);
    if (!regs) {
      throw new Dp83820DriverConfigError(`no register window at ${this.config.registers}`);
    }
    this.regs = regs;
    const view = yield* sys.mem.access(this.config.dma.vaddr, this.config.dma.bytes, 'write');
    if (!('words' in view)) {
      throw new Dp83820DriverConfigError(`dma region not accessible (${view.error})`);
    }
    this.words = view.words;

    regs.write32(Reg.IMR, 0);
    regs.write32(Reg.IER, 0);
    regs.read32(Reg.IER);
    regs.write32(Reg.CR, CR.RST);
    while (regs.read32(Reg.CR) & CR.RST) yield* sys.yieldCpu();
    regs.write32(Reg.PTSCR, PTSCR.EELOAD_EN);
    while (regs.read32(Reg.PTSCR) & PTSCR.EELOAD_EN) yield* sys.yieldCpu();

    let cfg = regs.read32(Reg.CFG) & (CFG.TBI_EN | CFG.MRM_DIS | CFG.MWI_DIS | CFG.EXT_125);
    cfg |= CFG.PINT_DUPSTS | CFG.PINT_LNKSTS | CFG.PINT_SPDSTS | CFG.EXTSTS_EN | CFG.EXD;
    cfg |= CFG.PESEL | CFG.REQALG | CFG.POW | CFG.TMRTEST | CFG.SB;
    cfg |= linuxData64(regs.read32(Reg.CFG));
    if (this.layout.wide) cfg |= CFG.M64ADDR | CFG.T64ADDR;
    regs.write32(Reg.CFG, cfg >>> 0);
    regs.write32(
      Reg.TXCFG,
      (TXCFG.CSI | TXCFG.HBI | TXCFG.ATP | mxdma(512) | ((1600 / 32) << 8)) >>> 0,
    );
    regs.write32(Reg.IHR, this.config.holdoff ?? 1);
    regs.write32(
      Reg.RXCFG,
      (RXCFG.AEP | RXCFG.ARP | RXCFG.AIRL | RXCFG.RX_FD | RXCFG.STRIPCRC | mxdma(512)) >>> 0,
    );

    for (let i = 0; i < 3; i++) {
      regs.write32(Reg.RFCR, i * 2);
      const d = regs.read32(Reg.RFDR);
      this.mac[2 * i] = d & 0xff;
      this.mac[2 * i + 1] = (d >>> 8) & 0xff;
    }
    const accept = RFCR.RFEN | RFCR.AAB | RFCR.APM | (this.config.promiscuous ? RFCR.AAU : 0);
    regs.write32(Reg.RFCR, 0);
    regs.write32(Reg.RFCR, accept >>> 0);

    this.buildRings();
    const rxPhys = this.slotPhys(this.rxBase, 0);
    const txPhys = this.slotPhys(this.txBase, 0);
    regs.write32(Reg.RXDP_HI, Math.floor(rxPhys / 2 ** 32));
    regs.write32(Reg.RXDP, rxPhys >>> 0);
    regs.write32(Reg.TXDP_HI, Math.floor(txPhys / 2 ** 32));
    regs.write32(Reg.TXDP, txPhys >>> 0);

    const attached = yield* sys.irq.attach(this.config.irq);
    if (!attached.ok) {
      throw new Dp83820DriverConfigError(
        `cannot attach interrupt ${this.config.irq}: ${attached.error}`,
      );
    }
    this.irqThread = attached.irqThread;
    regs.write32(Reg.IMR, this.imr >>> 0);
    regs.write32(Reg.IER, IER_IE);
  }

  /** Read and act on ISR after an interrupt (ns83820 `ns83820_do_isr`). */
  isr(sys: Sys): void {
    const regs = this.regs!;
    const isr = regs.read32(Reg.ISR);
    sys.charge('Driver', this.costs.isr);
    this.interrupts++;
    if (this.stopped) return; // reading ISR lowered the line; nothing else to do
    if (isr & ISR.RXIDLE) this.rxIdle = true;
    if (isr & (ISR.RXORN | ISR.RXSOVR)) this.overruns++;
    if (isr & ISR.RMABT) this.busErrors++;
    if (isr & ISR.RXRCMP && !this.rxIdle) regs.write32(Reg.CR, CR.RXE);
    if (isr & ISR.TXIDLE) this.txIdlePending = false;
    if (isr & ISR.TXIDLE && this.txInUse > 0) {
      // The engine stopped with frames outstanding: either it saw a slot before we handed it
      // over (kick again) or the last frames are still on the wire (TXOK will tell, if the
      // interrupt policy asks for it).
      const txdp = regs.read32(Reg.TXDP);
      if (txdp !== this.slotPhys(this.txBase, this.txFree) >>> 0) this.kickTx();
      if (txOkAfterIdle(this.config.interruptPolicy ?? 'prime', isr, this.txInUse))
        this.setTxOk(true);
    }
  }

  /** Post a receive buffer: true if a slot was free. */
  postRx(sys: Sys, paddr: number, length: number, tag: number): boolean {
    if (this.rxRoom <= 0) return false;
    const i = this.nextEmpty;
    const at = this.rxBase + i * this.layout.size;
    this.writeAddr(at + this.layout.bufptr, paddr);
    this.words![(at + this.layout.extsts) >> 2] = 0;
    publishCmdsts(this.words!, at + this.layout.cmdsts, CMDSTS.INTR | Math.min(length, 0xffff));
    this.rxTags[i] = tag;
    this.nextEmpty = (i + 1) % this.rxSlots;
    this.rxInUse++;
    sys.charge('Driver', this.costs.rxRefill);
    return true;
  }

  /** Restart the receive engine if it went idle and buffers are available (ns83820 `kick_rx`). */
  kickRxIfIdle(): void {
    if (this.stopped || !this.rxIdle || this.rxInUse === 0) return;
    this.rxIdle = false;
    const p = this.slotPhys(this.rxBase, this.nextRx);
    this.regs!.write32(Reg.RXDP_HI, Math.floor(p / 2 ** 32));
    this.regs!.write32(Reg.RXDP, p >>> 0);
    this.regs!.write32(Reg.CR, CR.RXE);
    this.rxKicks++;
  }

  /** Take the oldest filled receive slot into `out`; false if none is filled. */
  harvestRx(sys: Sys, out: Completion): boolean {
    if (this.rxInUse === 0) return false;
    const i = this.nextRx;
    const at = this.rxBase + i * this.layout.size;
    const c = loadCmdsts(this.words!, at + this.layout.cmdsts);
    if ((c & CMDSTS.OWN) === 0) return false;
    sys.charge('Driver', this.costs.rxPacket);
    out.tag = this.rxTags[i]!;
    out.length = c & CMDSTS.SIZE_MASK;
    out.ok = (c & CMDSTS.OK) !== 0;
    publishCmdsts(this.words!, at + this.layout.cmdsts, CMDSTS.OWN);
    this.nextRx = (i + 1) % this.rxSlots;
    this.rxInUse--;
    return true;
  }

  /** Peek the tag of the oldest filled receive slot, or -1. */
  peekRxTag(): number {
    if (this.rxInUse === 0) return -1;
    const at = this.rxBase + this.nextRx * this.layout.size;
    const c = loadCmdsts(this.words!, at + this.layout.cmdsts);
    return (c & CMDSTS.OWN) === 0 ? -1 : this.rxTags[this.nextRx]!;
  }

  /** Queue a frame for transmission (the caller kicks with {@link DeviceDriver.kickTx}). */
  postTx(sys: Sys, paddr: number, length: number, tag: number): boolean {
    if (this.txRoom <= 0) return false;
    const i = this.txFree;
    const at = this.txBase + i * this.layout.size;
    this.writeAddr(at + this.layout.bufptr, paddr);
    this.words![(at + this.layout.extsts) >> 2] = 0;
    const intr = txDescriptorIntr(this.config.interruptPolicy ?? 'prime', i, this.txSlots);
    publishCmdsts(this.words!, at + this.layout.cmdsts, CMDSTS.OWN | intr | length);
    this.txTags[i] = tag;
    this.txFree = (i + 1) % this.txSlots;
    this.txInUse++;
    sys.charge('Driver', this.costs.txPacket);
    return true;
  }

  /** CR.TXE (not once stopped). */
  kickTx(): void {
    if (this.stopped) return;
    this.txIdlePending = true;
    this.regs!.write32(Reg.CR, CR.TXE);
    this.txKicks++;
  }

  /** A transmit interrupt is still due (see `txInterruptDue`): the driver may sleep without notifications. */
  get txInterruptDue(): boolean {
    return txInterruptDue(this.txIdlePending, (this.imr & ISR.TXOK) !== 0, this.txInUse);
  }

  /** Take the oldest completed transmit slot into `out`; false if none has completed. */
  reapTx(sys: Sys, out: Completion): boolean {
    if (this.txInUse === 0) {
      this.setTxOk(false);
      return false;
    }
    const i = this.txDone;
    const at = this.txBase + i * this.layout.size;
    const c = loadCmdsts(this.words!, at + this.layout.cmdsts);
    if ((c & CMDSTS.OWN) !== 0) return false;
    sys.charge('Driver', this.costs.txReap);
    out.tag = this.txTags[i]!;
    out.length = c & CMDSTS.SIZE_MASK;
    out.ok = (c & CMDSTS.OK) !== 0;
    publishCmdsts(this.words!, at + this.layout.cmdsts, 0);
    this.txDone = (i + 1) % this.txSlots;
    this.txInUse--;
    return true;
  }

  /**
   * Reset the device through the register window (CR.RST) and wake the driver thread: the reset
   * stops both DMA engines at once (a burst already on the bus completes without effect), empties
   * the FIFOs and clears the receive filter and interrupt mask; the driver then unmasks only SWI,
   * enables interrupts and sets CR.SWI, so the device interrupts and the kernel delivers an
   * interrupt IPC to the driver thread. Safe to call outside the driver thread: it touches only
   * the device (its register accesses are charged to the driver thread). No effect before
   * {@link DeviceDriver.init} has mapped the registers.
   */
  resetAndWake(): void {
    if (this.regs) resetAndRaiseSoftwareInterrupt(this.regs);
  }

  /**
   * From the driver thread: reset the device (CR.RST: DMA stopped, interrupts masked) and never
   * hand it a descriptor again. The slots still holding client buffers are then released with
   * {@link DeviceDriver.dropRx} and {@link DeviceDriver.dropTx}.
   */
  stop(): void {
    this.stopped = true;
    this.regs?.write32(Reg.CR, CR.RST);
  }

  /** Tag of the oldest receive slot that holds a client buffer (filled or not), or -1. */
  oldestRxTag(): number {
    return this.rxInUse === 0 ? -1 : this.rxTags[this.nextRx]!;
  }

  /** Release the oldest receive slot without reading it (after {@link DeviceDriver.stop}). */
  dropRx(): void {
    if (this.rxInUse === 0) return;
    const at = this.rxBase + this.nextRx * this.layout.size;
    publishCmdsts(this.words!, at + this.layout.cmdsts, CMDSTS.OWN);
    this.nextRx = (this.nextRx + 1) % this.rxSlots;
    this.rxInUse--;
  }

  /** Tag of the oldest transmit slot that holds a client buffer (sent or not), or -1. */
  oldestTxTag(): number {
    return this.txInUse === 0 ? -1 : this.txTags[this.txDone]!;
  }

  /** Release the oldest transmit slot without reading it (after {@link DeviceDriver.stop}). */
  dropTx(): void {
    if (this.txInUse === 0) return;
    const at = this.txBase + this.txDone * this.layout.size;
    publishCmdsts(this.words!, at + this.layout.cmdsts, 0);
    this.txDone = (this.txDone + 1) % this.txSlots;
    this.txInUse--;
  }

  private setTxOk(on: boolean): void {
    const want = on ? this.imr | ISR.TXOK : this.imr & ~ISR.TXOK;
    if (want === this.imr) return;
    this.imr = want;
    this.regs!.write32(Reg.IMR, want >>> 0);
  }

  private buildRings(): void {
    const l = this.layout;
    for (let i = 0; i < this.rxSlots; i++) {
      const at = this.rxBase + i * l.size;
      this.writeAddr(at + l.link, this.slotPhys(this.rxBase, (i + 1) % this.rxSlots));
      this.writeAddr(at + l.bufptr, 0);
      this.words![(at + l.extsts) >> 2] = 0;
      publishCmdsts(this.words!, at + l.cmdsts, CMDSTS.OWN);
    }
    for (let i = 0; i < this.txSlots; i++) {
      const at = this.txBase + i * l.size;
      this.writeAddr(at + l.link, this.slotPhys(this.txBase, (i + 1) % this.txSlots));
      this.writeAddr(at + l.bufptr, 0);
      this.words![(at + l.extsts) >> 2] = 0;
      publishCmdsts(this.words!, at + l.cmdsts, 0);
    }
  }

  private slotPhys(base: number, i: number): number {
    return this.config.dma.paddr + base + i * this.layout.size;
  }

  private writeAddr(at: number, addr: number): void {
    this.words![at >> 2] = addr >>> 0;
    if (this.layout.wide) this.words![(at >> 2) + 1] = Math.floor(addr / 2 ** 32);
  }
}

/**
 * Reset a device through a register window and leave its interrupts masked (CR.RST: its DMA
 * engines stop; IMR and IER cleared): what the device supervisor does to the devices of a driver
 * that died, before its pins are recovered and a fresh driver initialises them again.
 */
export function resetDevice(regs: RegisterWindow): void {
  regs.write32(Reg.CR, CR.RST);
  regs.write32(Reg.IMR, 0);
  regs.write32(Reg.IER, 0);
}

/**
 * Reset a DP83820 through a register window and raise its software interrupt: CR.RST stops
 * both DMA engines at once (a burst already on the bus completes without effect); then only SWI
 * is unmasked, interrupts are enabled and CR.SWI set, so the driver's interrupt thread wakes.
 * What a device supervisor does, holding its own mapping of the device's registers.
 */
export function resetAndRaiseSoftwareInterrupt(regs: RegisterWindow): void {
  regs.write32(Reg.CR, CR.RST);
  regs.write32(Reg.IMR, ISR.SWI);
  regs.write32(Reg.IER, IER_IE);
  regs.write32(Reg.CR, CR.SWI);
}
