/**
 * What the DMA engines of one device share: the machine, the bus, the interrupt logic and the
 * registers they depend on. Internal to the device model.
 *
 * @module
 */
import type { DeviceHost } from '@udf/l4-kernel';
import type { DmaMemory } from './dma-memory.js';
import type { Dp83820FifoStats } from './dp83820.js';
import type { InterruptLogic } from './interrupts.js';
import type { PciBus } from './pci-bus.js';
import type { DescriptorLayout } from './registers.js';
import type { Dp83820Stats } from './stats.js';
import type { Dp83820Timing } from './timing.js';

/** The device as its engines see it. */
export interface DeviceCore {
  readonly host: DeviceHost;
  /** The host's physical memory with atomic descriptor words and block copies. */
  readonly mem: DmaMemory;
  readonly bus: PciBus;
  readonly timing: Dp83820Timing;
  readonly irq: InterruptLogic;
  readonly stats: Dp83820Stats;
  /** MIB counters indexed by `(offset - Reg.MIB_RX_ERRORED) / 4`. */
  readonly mib: Uint32Array;
  /** Descriptor layout selected by CFG.M64ADDR. */
  descLayout(): DescriptorLayout;
  /** Transmit DMA burst size from TXCFG.MXDMA. */
  txBurst(): number;
  /** Receive DMA burst size from RXCFG.MXDMA. */
  rxBurst(): number;
  /** FIFO threshold counters (early starts, underruns). */
  readonly fifoStats: Dp83820FifoStats;
  /** Transmit fill threshold in bytes (TXCFG.FLTH). */
  txFillThreshold(): number;
  /** Transmit drain threshold in bytes (TXCFG.DRTH); 0: store-and-forward. */
  txDrainThreshold(): number;
  /** Receive drain threshold in bytes (RXCFG.DRTH); 0: whole frames. */
  rxDrainThreshold(): number;
  /** Hand a frame the MAC finished serialising to the wire peer. */
  toWire(frame: Uint8Array): void;
  /**
   * The IOMMU's verdict on a burst that reached memory: `[addr, addr + bytes)`, written by the
   * device if `write`. Always true without an IOMMU. False if the burst is refused: the fault is
   * recorded and every engine of the device is halted until CR.RST.
   */
  dmaPermitted(addr: number, bytes: number, write: boolean): boolean;
  /** True while an IOMMU fault halts the device's DMA (until CR.RST). */
  dmaHalted(): boolean;
}

/** Read a descriptor address field (32- or 64-bit little-endian), after CMDSTS was loaded. */
export function readAddr(m: DmaMemory, at: number, wide: boolean): number {
  const lo = m.read32(at) >>> 0;
  return wide ? lo + (m.read32(at + 4) >>> 0) * 0x1_0000_0000 : lo;
}

/** True if a physical address needs a dual-address cycle. */
export function isDac(addr: number): boolean {
  return addr >= 0x1_0000_0000;
}
