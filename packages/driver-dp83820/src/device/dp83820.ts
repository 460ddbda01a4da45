/**
 * A register-level model of the National Semiconductor DP83820 gigabit Ethernet controller: the
 * register file (this file), transmit and receive DMA engines ({@link TxEngine}, {@link RxEngine}),
 * interrupt logic with the IHR hold-off timer ({@link InterruptLogic}), a shared PCI bus
 * ({@link PciBus}) and a wire port that knows nothing of its peer.
 *
 * @module
 */
import type { IommuTable } from '@udf/dataspace';
import type { DeviceHost, InterruptLine, MmioDevice } from '@udf/l4-kernel';
import { UdfError } from '@udf/lockfree';
import type { FrameEndpoint, WirePort } from '@udf/netdev';
import type { DeviceCore } from './context.js';
import { dmaMemory } from './dma-memory.js';
import { InterruptLogic } from './interrupts.js';
import { type BusRequest, PciBus } from './pci-bus.js';
import {
  CFG,
  CMDSTS,
  CR,
  DESC_LAYOUT_32,
  DESC_LAYOUT_64,
  type DescriptorLayout,
  ISR,
  MIBC,
  MXDMA_BYTES,
  PTSCR,
  Reg,
  RFCR,
  RFDR,
  RXCFG,
  rxDrainThresholdBytes,
  SILICON_REVISION,
  TXCFG,
  txDrainThresholdBytes,
  txFillThresholdBytes,
} from './registers.js';
import { RxEngine } from './rx-engine.js';
import { type Dp83820Stats, emptyDp83820Stats } from './stats.js';
import type { Dp83820Timing } from './timing.js';
import { TxEngine } from './tx-engine.js';

/** Thrown for a bad device configuration (e.g. a malformed MAC address). Code `'DP83820_CONFIG'`. */
export class Dp83820ConfigError extends UdfError {
  /** @param message - what is wrong */
  constructor(message: string) {
    super('DP83820_CONFIG', message);
  }
}

/** How to build a {@link Dp83820}. */
export interface Dp83820Options {
  /** The machine: clock, scheduler, physical memory for DMA, interrupt lines. */
  readonly host: DeviceHost;
  /** Interrupt line the device drives. */
  readonly irqLine: number;
  /** Station address the "EEPROM" loads into the perfect-match filter: 6 bytes or `"02:00:00:00:00:01"`. */
  readonly mac: Uint8Array | readonly number[] | string;
  /** Timing overrides (defaults: {@link DEFAULT_DP83820_TIMING}). Ignored for bus fields if `bus` is given. */
  readonly timing?: Partial<Dp83820Timing>;
  /** A bus shared with other devices (clustered configurations); default: a bus of its own. */
  readonly bus?: PciBus;
  /**
   * Whether the card's EEPROM sets CFG.DATA64_EN when it is loaded (at reset and on
   * PTSCR.EELOAD_EN). Default true. Linux's ns83820 (since 0.17) keeps the EEPROM's choice, so a
   * card whose EEPROM leaves it clear moves data 32 bits wide even in a 64-bit slot ("EEPROM did
   * not enable 64 bit bus. Disabled.").
   */
  readonly eeprom64?: boolean;
  /**
   * Put the device behind an IOMMU: every DMA burst is checked against `table` when it reaches
   * memory (see {@link Dp83820Iommu}). Default: none, DMA reaches all of physical memory.
   */
  readonly iommu?: Dp83820Iommu;
}

/**
 * The IOMMU in front of one device (the paper's future work, "restricting DMA access"): the
 * table of its DMA domain, programmed by trusted software (the realiser grants the driver's
 * descriptor rings, the dataspace manager enters the frames it installs in the driver's
 * translation caches). A burst touching a frame without the access it needs is refused: no byte
 * moves, `stats.iommuFaults` counts it, the table records it, the device posts ISR.RTABT (the
 * host bridge, as the transaction's target, aborted it: a PCI target abort) and halts
 * every DMA engine until CR.RST, and `faultLine`, if given, is raised for the supervisor (the
 * IOMMU's fault event interrupt, as VT-d's fault event register signals software) and lowered by
 * the reset. The check itself charges no cycles on the sim: see the package README.
 */
export interface Dp83820Iommu {
  /** The DMA domain's table (a view of the region the realiser allocated). */
  readonly table: IommuTable;
  /** Interrupt line raised on a fault, for the supervisor; none if absent. */
  readonly faultLine?: number;
}

/**
 * Counters of the FIFO thresholds (TXCFG.FLTH/DRTH, RXCFG.DRTH; see {@link txDrainThresholdBytes}).
 * All stay 0 while both drain fields are 0 (store-and-forward), as Linux ns83820 programs them.
 */
export interface Dp83820FifoStats {
  /** Frames the MAC began sending before they were wholly in the transmit FIFO (TXCFG.DRTH). */
  txEarlyStarts: number;
  /** Frames aborted because the transmit FIFO ran dry mid-frame (ISR.TXURN, CMDSTS.TFU). */
  txUnderruns: number;
  /** Frames receive DMA began moving to host memory before their last byte had arrived (RXCFG.DRTH). */
  rxEarlyDrains: number;
}

/** Largest frame (without FCS) accepted unless RXCFG.ALP: 1514 + a 4-byte VLAN tag. */
export const MAX_RX_FRAME = 1518;

/** Size of the register window: one 4 KiB page, as drivers map BAR1. */
export const DP83820_MMIO_SIZE = 4096;

/** CFG bits the driver may write. */
const CFG_WRITABLE = ~(CFG.LNKSTS | CFG.SPDSTS | CFG.DUPSTS | CFG.PCI64_DET) >>> 0;

const MIB_WORDS = (Reg.MIB_TX_SQE - Reg.MIB_RX_ERRORED) / 4 + 1;

/** The DP83820 model. Map {@link Dp83820} into a driver's space as an `MmioDevice`. */
export class Dp83820 implements MmioDevice {
  /** Register window size in bytes. */
  readonly mmioSize = DP83820_MMIO_SIZE;
  /** The wire port: connect a peer; frames from the wire arrive through `port.receive`. */
  readonly port: WirePort;
  /** Live counters. */
  readonly stats: Dp83820Stats = emptyDp83820Stats();
  /** The bus this device's DMA engines use. */
  readonly bus: PciBus;
  /** Effective timing. */
  readonly timing: Dp83820Timing;
  /** FIFO threshold counters. */
  readonly fifoStats: Dp83820FifoStats = { txEarlyStarts: 0, txUnderruns: 0, rxEarlyDrains: 0 };
  /** Interrupt logic (ISR/IMR/IER/IHR). */
  readonly interrupts: InterruptLogic;

  private readonly host: DeviceHost;
  private readonly iommu: IommuTable | null;
  private readonly iommuLine: InterruptLine | null;
  private iommuHalted = false;
  private readonly eepromMac: Uint8Array;
  private readonly eeprom64: boolean;
  private readonly tx: TxEngine;
  private readonly rx: RxEngine;
  private readonly mib = new Uint32Array(MIB_WORDS);
  private readonly filter = new Uint8Array(1024);
  private readonly regs = new Uint32Array(DP83820_MMIO_SIZE / 4);
  private peer: FrameEndpoint | null = null;
  private cfg = 0;
  private txcfg = 0;
  private rxcfg = 0;
  private rfcr = 0;
  private ptscr = 0;
  private txdpHi = 0;
  private rxdpHi = 0;

  /** @param options - host, interrupt line, MAC address, timing */
  constructor(options: Dp83820Options) {
    this.host = options.host;
    this.iommu = options.iommu?.table ?? null;
    const line = options.iommu?.faultLine;
    this.iommuLine = line === undefined ? null : options.host.irq(line);
    if (this.iommu !== null && !this.iommu.formatted) {
      throw new Dp83820ConfigError('the IOMMU table is not formatted');
    }
    this.eepromMac = parseMac(options.mac);
    this.eeprom64 = options.eeprom64 ?? true;
    this.bus = options.bus ?? new PciBus(options.host, options.timing);
    this.timing = { ...this.bus.timing, ...options.timing };
    this.interrupts = new InterruptLogic(
      options.host,
      options.host.irq(options.irqLine),
      this.stats,
      options.host.statusWord?.(Reg.ISR, options.irqLine) ?? undefined,
    );
    const core: DeviceCore = {
      host: this.host,
      mem: dmaMemory(this.host.memory),
      bus: this.bus,
      timing: this.timing,
      irq: this.interrupts,
      stats: this.stats,
      mib: this.mib,
      descLayout: () => this.descLayout(),
      txBurst: () => MXDMA_BYTES[(this.txcfg & TXCFG.MXDMA_MASK) >>> TXCFG.MXDMA_SHIFT]!,
      rxBurst: () => MXDMA_BYTES[(this.rxcfg & RXCFG.MXDMA_MASK) >>> RXCFG.MXDMA_SHIFT]!,
      fifoStats: this.fifoStats,
      txFillThreshold: () => txFillThresholdBytes(this.txcfg),
      txDrainThreshold: () => txDrainThresholdBytes(this.txcfg),
      rxDrainThreshold: () => rxDrainThresholdBytes(this.rxcfg),
      toWire: (frame) => {
        if (this.peer) this.peer.receive(frame);
        else this.stats.txNoCarrier++;
      },
      dmaPermitted: (addr, bytes, write) => this.dmaPermitted(addr, bytes, write),
      dmaHalted: () => this.iommuHalted,
    };
    this.tx = new TxEngine(core);
    this.rx = new RxEngine(core);
    // TXDP's low word where the driver can read it without a round trip (threads engine)
    this.tx.mirrorDp(options.host.mirrorWord?.(Reg.TXDP) ?? null);
    this.port = {
      connect: (peer: FrameEndpoint) => {
        this.peer = peer;
      },
      receive: (frame: Uint8Array) => this.fromWire(frame),
    };
    this.reset();
  }

  /** The station address loaded from the "EEPROM" (a copy). */
  get mac(): Uint8Array {
    return this.eepromMac.slice();
  }

  /** Read a 32-bit register. Unknown offsets read 0; ISR is clear-on-read. Occupies the bus. */
  read32(offset: number): number {
    this.bus.pio(this.timing.pioReadClocks);
    return this.readRegister(offset);
  }

  /**
   * A read of ISR that the CPU took from the host's status word (`DeviceHost.statusWord`):
   * the rest of what {@link Dp83820.read32} of ISR does — occupy the bus; the host lowered the
   * line with the read, and causes posted since raise it again (or arm the hold-off timer). A
   * read of TXDP from its mirror word (`DeviceHost.mirrorWord`): occupy the bus. Other offsets
   * are ignored (the device keeps no other register in a host word).
   */
  statusRead(offset: number, _value: number): void {
    if (offset === Reg.ISR) {
      this.bus.pio(this.timing.pioReadClocks);
      this.interrupts.afterRead();
    } else if (offset === Reg.TXDP) {
      this.bus.pio(this.timing.pioReadClocks);
    }
  }

  private readRegister(offset: number): number {
    switch (offset) {
      case Reg.CR:
        return (this.tx.enabled ? CR.TXE : 0) | (this.rx.enabled ? CR.RXE : 0);
      case Reg.CFG:
        return (this.cfg | this.cfgStatus()) >>> 0;
      case Reg.PTSCR:
        return this.ptscr;
      case Reg.ISR:
        return this.interrupts.readIsr();
      case Reg.IMR:
        return this.interrupts.imr;
      case Reg.IER:
        return this.interrupts.ier;
      case Reg.IHR:
        return this.interrupts.ihr;
      case Reg.TXDP:
        return this.tx.dp >>> 0;
      case Reg.TXDP_HI:
        return Math.floor(this.tx.dp / 0x1_0000_0000) >>> 0;
      case Reg.TXCFG:
        return this.txcfg;
      case Reg.RXDP:
        return this.rx.dp >>> 0;
      case Reg.RXDP_HI:
        return Math.floor(this.rx.dp / 0x1_0000_0000) >>> 0;
      case Reg.RXCFG:
        return this.rxcfg;
      case Reg.RFCR:
        return this.rfcr;
      case Reg.RFDR: {
        const a = this.rfcr & RFCR.RFADDR_MASK & ~1;
        return this.filter[a]! | (this.filter[a + 1]! << 8);
      }
      case Reg.SRR:
        return SILICON_REVISION;
      default:
        if (offset >= Reg.MIB_RX_ERRORED && offset <= Reg.MIB_TX_SQE) {
          return this.mib[(offset - Reg.MIB_RX_ERRORED) >> 2]!;
        }
        return offset >= 0 && offset < this.mmioSize ? this.regs[offset >> 2]! : 0;
    }
  }

  /** Write a 32-bit register. Occupies the bus. */
  write32(offset: number, value: number): void {
    this.bus.pio(this.timing.pioWriteClocks);
    this.writeRegister(offset, value >>> 0);
  }

  private writeRegister(offset: number, value: number): void {
    switch (offset) {
      case Reg.CR:
        this.command(value);
        return;
      case Reg.CFG:
        this.cfg = value & CFG_WRITABLE;
        this.updateDataWidth();
        return;
      case Reg.PTSCR:
        // Self tests and the EEPROM load complete at once; RBIST reports done, never failure.
        if (value & PTSCR.EELOAD_EN) this.loadEeprom();
        this.ptscr = value & PTSCR.RBIST_EN ? PTSCR.RBIST_DONE : 0;
        return;
      case Reg.ISR:
        return;
      case Reg.IMR:
        this.interrupts.writeImr(value);
        return;
      case Reg.IER:
        this.interrupts.writeIer(value);
        return;
      case Reg.IHR:
        this.interrupts.writeIhr(value);
        return;
      case Reg.TXDP:
        this.tx.dp = this.txdpHi * 0x1_0000_0000 + value;
        return;
      case Reg.TXDP_HI:
        this.txdpHi = value;
        this.tx.dp = value * 0x1_0000_0000 + (this.tx.dp >>> 0);
        return;
      case Reg.TXCFG:
        this.txcfg = value;
        return;
      case Reg.RXDP:
        this.rx.dp = this.rxdpHi * 0x1_0000_0000 + value;
        return;
      case Reg.RXDP_HI:
        this.rxdpHi = value;
        this.rx.dp = value * 0x1_0000_0000 + (this.rx.dp >>> 0);
        return;
      case Reg.RXCFG:
        this.rxcfg = value;
        return;
      case Reg.RFCR:
        this.rfcr = value;
        return;
      case Reg.RFDR: {
        const a = this.rfcr & RFCR.RFADDR_MASK & ~1;
        const mask = (value & RFDR.BMASK) >>> 16;
        if (mask === 0 || mask & 1) this.filter[a] = value & 0xff;
        if (mask === 0 || mask & 2) this.filter[a + 1] = (value >>> 8) & 0xff;
        return;
      }
      case Reg.MIBC:
        if (value & MIBC.ACLR) this.mib.fill(0);
        this.regs[offset >> 2] = value & ~MIBC.ACLR;
        return;
      default:
        if (offset >= 0 && offset < this.mmioSize && (offset & 3) === 0) {
          this.regs[offset >> 2] = value;
        }
    }
  }

  private command(value: number): void {
    if (value & CR.RST) {
      this.reset();
      return;
    }
    if (value & CR.TXR) {
      this.tx.reset();
      this.interrupts.post(ISR.TXRCMP);
    }
    if (value & CR.RXR) {
      this.rx.reset();
      this.interrupts.post(ISR.RXRCMP);
    }
    if (value & CR.TXD) this.tx.disable();
    if (value & CR.RXD) this.rx.disable();
    if (value & CR.TXE) this.tx.kick();
    if (value & CR.RXE) this.rx.kick();
    if (value & CR.SWI) this.interrupts.post(ISR.SWI);
  }

  /** True while an IOMMU fault halts the device's DMA (until CR.RST). */
  get iommuFaulted(): boolean {
    return this.iommuHalted;
  }

  private dmaPermitted(addr: number, bytes: number, write: boolean): boolean {
    const table = this.iommu;
    if (table === null) return true;
    if (this.iommuHalted) return false;
    if (table.permits(addr, bytes, write)) return true;
    this.iommuHalted = true;
    this.stats.iommuFaults++;
    table.recordFault(addr, write);
    this.tx.halt();
    this.rx.halt();
    this.interrupts.post(ISR.RTABT);
    this.iommuLine?.raise();
    return false;
  }

  /** CR.RST: every register to its reset value, engines and FIFOs emptied, EEPROM reloaded. */
  private reset(): void {
    if (this.iommuHalted) {
      this.iommuHalted = false;
      this.iommuLine?.lower();
    }
    this.tx.reset();
    this.rx.reset();
    this.interrupts.reset();
    this.cfg = 0;
    this.txcfg = 0;
    this.rxcfg = 0;
    this.rfcr = 0;
    this.ptscr = 0;
    this.txdpHi = 0;
    this.rxdpHi = 0;
    this.regs.fill(0);
    this.mib.fill(0);
    this.filter.fill(0);
    this.loadEeprom();
  }

  private loadEeprom(): void {
    this.filter.set(this.eepromMac, 0);
    this.cfg = this.eeprom64 ? this.cfg | CFG.DATA64_EN : this.cfg & ~CFG.DATA64_EN;
    this.updateDataWidth();
  }

  /**
   * Bytes per data phase of this device's DMA: 8 only in a 64-bit slot with CFG.DATA64_EN set
   * (DP83820 datasheet, CFG: DATA64_EN enables 64-bit data transfers; PCI 2.2 §3.8: a 64-bit
   * master in a 32-bit slot, or one that does not assert REQ64#, transfers 32 bits per phase).
   */
  get dataBytes(): number {
    return this.timing.pciBusBytes >= 8 && (this.cfg & CFG.DATA64_EN) !== 0 ? 8 : 4;
  }

  /** True while the receive engine is enabled (CR.RXE given, no RXD/RXR/RST since). */
  get receiving(): boolean {
    return this.rx.enabled;
  }

  private updateDataWidth(): void {
    const w = this.dataBytes;
    // The engines are the device's bus masters; the bus reads the width from each request.
    (this.tx as BusRequest).busDataBytes = w;
    (this.rx as BusRequest).busDataBytes = w;
  }

  /**
   * Media status as the chip reports it: link up when a peer is connected, and the raw SPDSTS and
   * DUPSTS values that Linux's `SPDSTS_POLARITY` decode turns into 1000 Mb/s full duplex.
   */
  private cfgStatus(): number {
    return (
      (this.peer ? CFG.LNKSTS : 0) |
      CFG.SPDSTS0 |
      (this.timing.pciBusBytes >= 8 ? CFG.PCI64_DET : 0)
    );
  }

  private descLayout(): DescriptorLayout {
    return this.cfg & CFG.M64ADDR ? DESC_LAYOUT_64 : DESC_LAYOUT_32;
  }

  /**
   * A frame whose first bit arrives now; its last bit (and FCS) arrive one wire time later. Unlike
   * `port.receive` (a frame that has wholly arrived, the `@udf/netdev` wire contract), this lets
   * receive DMA start on it before its end if RXCFG.DRTH allows (see `rx-engine.ts`). A sender
   * must report each frame one way only. The bytes are copied at once.
   */
  receiveStarting(frame: Uint8Array): void {
    const bytes = 8 + Math.max(frame.length, 60) + 4; // preamble/SFD, frame padded to 60, FCS
    const end = Math.ceil((bytes * 8 * this.host.hz) / this.timing.wireBitsPerSecond);
    this.fromWire(frame, this.host.now() + end);
  }

  private fromWire(frame: Uint8Array, endAt = this.host.now()): void {
    this.stats.rxArrived++;
    if (!this.rx.enabled) {
      this.stats.rxDisabledDrops++;
      return;
    }
    const dest = this.classify(frame);
    if (dest < 0) {
      this.stats.rxFiltered++;
      return;
    }
    if (frame.length > MAX_RX_FRAME && (this.rxcfg & RXCFG.ALP) === 0) {
      this.stats.rxErrors++;
      this.mib[(Reg.MIB_RX_GIANTS - Reg.MIB_RX_ERRORED) >> 2]!++;
      return;
    }
    this.rx.accept(frame, dest, endAt);
  }

  /** The receive filter: a CMDSTS destination class if accepted, -1 if rejected. */
  private classify(frame: Uint8Array): number {
    const rfcr = this.rfcr;
    if ((rfcr & RFCR.RFEN) === 0 || frame.length < 14) return -1;
    const f = this.filter;
    if (
      frame[0] === 0xff &&
      frame[1] === 0xff &&
      frame[2] === 0xff &&
      frame[3] === 0xff &&
      frame[4] === 0xff &&
      frame[5] === 0xff
    ) {
      return rfcr & RFCR.AAB ? CMDSTS.DEST_BROADCAST : -1;
    }
    if ((frame[0]! & 1) === 1) return rfcr & RFCR.AAM ? CMDSTS.DEST_MULTI : -1;
    if (
      rfcr & RFCR.APM &&
      frame[0] === f[0] &&
      frame[1] === f[1] &&
      frame[2] === f[2] &&
      frame[3] === f[3] &&
      frame[4] === f[4] &&
      frame[5] === f[5]
    ) {
      return CMDSTS.DEST_SELF;
    }
    return rfcr & RFCR.AAU ? 0 : -1;
  }
}

/** Parse a MAC address given as 6 bytes or as `"aa:bb:cc:dd:ee:ff"`. */
export function parseMac(mac: Uint8Array | readonly number[] | string): Uint8Array {
  const bytes =
    typeof mac === 'string' ? mac.split(/[:-]/).map((h) => Number.parseInt(h, 16)) : [...mac];
  if (bytes.length !== 6 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new Dp83820ConfigError(`not a MAC address: ${String(mac)}`);
  }
  return Uint8Array.from(bytes);
}
