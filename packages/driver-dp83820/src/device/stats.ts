/**
 * Counters of a DP83820 model beyond the chip's own MIB registers (which count only errors).
 *
 * @module
 */

/** Live counters of one device (fields are updated in place). */
export interface Dp83820Stats {
  /** Frames that arrived at the wire port. */
  rxArrived: number;
  /** Frames accepted by the filter and stored in the receive FIFO. */
  rxAccepted: number;
  /** Frames written to host memory with status OK. */
  rxDelivered: number;
  /** Frames rejected by the receive filter (RFCR). */
  rxFiltered: number;
  /** Frames that arrived while the receiver was disabled (or the device was in reset). */
  rxDisabledDrops: number;
  /** Frames lost because the receive FIFO was full (RXORN; also MIB missed-packet count). */
  rxOverruns: number;
  /** Frames completed with an error status (longer than the buffer, giant). */
  rxErrors: number;
  /** Frames serialised onto the wire. */
  txSent: number;
  /** Frames transmitted with no peer connected (lost). */
  txNoCarrier: number;
  /** Frames completed with an error status (longer than the transmit FIFO). */
  txErrors: number;
  /** DMA addresses outside physical memory (RMABT raised, engine stopped). */
  busErrors: number;
  /**
   * DMA bursts the IOMMU refused (RTABT raised, all DMA halted until CR.RST). With the IOMMU
   * halting the device at the first, this counts faults, not bursts retried after one.
   */
  iommuFaults: number;
  /** Times the interrupt line was raised. */
  interrupts: number;
}

/** A zeroed counter set. */
export function emptyDp83820Stats(): Dp83820Stats {
  return {
    rxArrived: 0,
    rxAccepted: 0,
    rxDelivered: 0,
    rxFiltered: 0,
    rxDisabledDrops: 0,
    rxOverruns: 0,
    rxErrors: 0,
    txSent: 0,
    txNoCarrier: 0,
    txErrors: 0,
    busErrors: 0,
    iommuFaults: 0,
    interrupts: 0,
  };
}
