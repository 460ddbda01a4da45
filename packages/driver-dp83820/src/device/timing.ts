/**
 * Timing parameters of the DP83820 model and its PCI bus, each with its source. Throughput limits
 * of the model are not parameters: they emerge from these figures through the mechanisms (one
 * shared bus both DMA engines queue on, burst splitting, read latency per transaction, FIFOs that
 * overflow when DMA cannot drain them, store-and-forward transmission).
 *
 * @module
 */

/** Timing and sizing of one DP83820 and the bus it sits on. All fields have defaults. */
export interface Dp83820Timing {
  /** Line rate, bits per second. 1 Gb/s (IEEE 802.3z/ab gigabit Ethernet). */
  readonly wireBitsPerSecond: number;
  /**
   * PCI clock in Hz. 66⅔ MHz: PCI Local Bus Specification 2.2, §7 (66 MHz PCI, 15 ns cycle);
   * 33⅓ MHz is the base specification's clock (30 ns). The DP83820 runs at either. With
   * {@link Dp83820Timing.pciBusBytes} = 8 the default gives the 533 MB/s peak of a 64-bit/66 MHz
   * bus. The paper says only "a 64-bit PCI bus", not its clock.
   */
  readonly pciClockHz: number;
  /**
   * Bytes per PCI data phase of the slot: 8 in a 64-bit slot (PCI 2.2 §3.8, 64-bit extension;
   * the DP83820 reports it in CFG.PCI64_DET), 4 in a 32-bit slot. The device moves data 64 bits
   * wide only if CFG.DATA64_EN is also set (FreeBSD `if_nge.c`: the 83820 is a 64/32-bit part
   * whose 64-bit mode is software-switchable; the DP83821 is 32-bit only).
   */
  readonly pciBusBytes: number;
  /**
   * Clocks per transaction for arbitration and the address phase (PCI 2.2 §3.4: REQ#/GNT#
   * handshake, then one address phase; +1 clock for a dual-address cycle above 4 GiB).
   * Estimate: 2 clocks (1 GNT# to FRAME#, 1 address phase); hidden arbitration can make it less.
   */
  readonly addressClocks: number;
  /**
   * Clocks from the address phase to the first data phase of a *read* from host memory (target
   * initial latency). PCI 2.2 §3.5.1.1 bounds a target's initial latency at 16 clocks; host
   * bridges fetching from DRAM sit near that bound. Default 16 — an estimate at the
   * specification's bound, not a measurement of the paper's chipset (none is published); it is
   * a parameter of the system description (`nics[].pci.readLatencyClocks`), never calibrated.
   * Descriptor fetch latency is this plus one address phase plus 2–3 data phases.
   */
  readonly readLatencyClocks: number;
  /**
   * Clocks from the address phase to the first data phase of a *write* (host bridges post
   * writes into a buffer). Estimate: 2 clocks (medium DEVSEL# plus one wait state).
   */
  readonly writeLatencyClocks: number;
  /** Idle/turnaround clocks between transactions (PCI 2.2 §3.3.1: one turnaround cycle). */
  readonly turnaroundClocks: number;
  /**
   * Bus clocks one CPU read of a device register occupies (programmed I/O shares the bus with
   * DMA): address phase, the device's target latency, one data phase, turnaround. Estimate: 8.
   */
  readonly pioReadClocks: number;
  /** Bus clocks one posted CPU write of a device register occupies. Estimate: 4. */
  readonly pioWriteClocks: number;
  /**
   * Receive data FIFO, bytes. 32 KiB (DP83820 datasheet, "Features": 32 KB receive data FIFO).
   * Frames that arrive while it is full are lost (RXORN, MIB missed-packet count).
   */
  readonly rxFifoBytes: number;
  /**
   * Transmit data FIFO, bytes. 8 KiB (DP83820 datasheet, "Features"; Linux ns83820.c: "the largest
   * packet that can be transmitted is 8192 - FLTH - burst size").
   */
  readonly txFifoBytes: number;
}

/** The 33⅓ MHz clock of conventional PCI (PCI Local Bus Specification 2.2). */
export const PCI_33MHZ = 100e6 / 3;
/** The 66⅔ MHz clock of 66 MHz PCI (PCI Local Bus Specification 2.2, §7). */
export const PCI_66MHZ = 200e6 / 3;

/** Default timing: a DP83820 on a 64-bit/66 MHz PCI bus on a gigabit link. */
export const DEFAULT_DP83820_TIMING: Dp83820Timing = {
  wireBitsPerSecond: 1e9,
  pciClockHz: PCI_66MHZ,
  pciBusBytes: 8,
  addressClocks: 2,
  readLatencyClocks: 16,
  writeLatencyClocks: 2,
  turnaroundClocks: 1,
  pioReadClocks: 8,
  pioWriteClocks: 4,
  rxFifoBytes: 32 * 1024,
  txFifoBytes: 8 * 1024,
};

/** Peak bandwidth of the configured bus in bytes per second (533 MB/s by default). */
export function pciPeakBytesPerSecond(t: Dp83820Timing): number {
  return t.pciClockHz * t.pciBusBytes;
}

/**
 * PCI clocks one burst of `bytes` occupies the bus: address phase, initial latency (read or
 * write), one data phase per bus word, one turnaround. A DMA transfer larger than the engine's
 * MXDMA burst size is split into several such bursts, each arbitrated separately.
 *
 * @param t - bus timing
 * @param bytes - bytes of the burst
 * @param read - a read from host memory (initial latency {@link Dp83820Timing.readLatencyClocks})
 * @param dac - a dual-address cycle
 * @param dataBytes - bytes per data phase (default the bus width; 4 for a master whose 64-bit
 *   data path is disabled, CFG.DATA64_EN clear)
 */
export function burstClocks(
  t: Dp83820Timing,
  bytes: number,
  read: boolean,
  dac: boolean,
  dataBytes: number = t.pciBusBytes,
): number {
  const data = Math.ceil(bytes / dataBytes);
  return (
    t.addressClocks +
    (dac ? 1 : 0) +
    (read ? t.readLatencyClocks : t.writeLatencyClocks) +
    data +
    t.turnaroundClocks
  );
}
