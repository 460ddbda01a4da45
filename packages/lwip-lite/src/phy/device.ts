/**
 * What the stack needs from a network device: a source of received frames, a supply of transmit
 * buffers, and a place to send frames. It names no hardware: a loopback wire, a frame endpoint or
 * a driver session (paper section 4.2) can sit behind it.
 *
 * Ownership: a pbuf returned by {@link NetDevice.nextRx} belongs to the stack until it calls
 * {@link NetDevice.releaseRx}; a pbuf from {@link NetDevice.allocTx} belongs to the stack until
 * it hands it to {@link NetDevice.transmit} (which always takes it) or {@link NetDevice.releaseTx}.
 *
 * @module
 */
import type { Pbuf } from '../pbuf/pbuf.js';

/** A network device as the stack sees it. */
export interface NetDevice {
  /** Largest frame (without FCS) the device sends, e.g. 1514. */
  readonly mtu: number;
  /** The next received frame, or null when none is waiting. */
  nextRx(): Pbuf | null;
  /** Give a received frame's buffer back (it is re-posted for reception). */
  releaseRx(pbuf: Pbuf): void;
  /** A transmit buffer able to hold `length` bytes, or null when none is free. */
  allocTx(length: number): Pbuf | null;
  /**
   * Send `pbuf.length` bytes from `pbuf.offset`. The device takes the buffer either way; false
   * means it dropped the frame (transmit ring full, link down).
   */
  transmit(pbuf: Pbuf): boolean;
  /** Give back a transmit buffer that will not be sent. */
  releaseTx(pbuf: Pbuf): void;
}

/** Anything that accepts whole Ethernet frames (no preamble, no FCS). Same shape as `@udf/netdev`'s. */
export interface FrameEndpoint {
  /** A whole frame arrives now; the callee copies what it keeps (the caller may reuse the buffer). */
  receive(frame: Uint8Array): void;
}
