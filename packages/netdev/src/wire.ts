/**
 * The wire-port contract: a NIC model, a load generator, a pcap recorder or a switch each sees
 * only "a frame arrives now" and "here is where my frames go". Serialisation time is the
 * transmitter's business: a frame handed to {@link FrameEndpoint.receive} has fully arrived.
 *
 * @module
 */

/** Anything that accepts whole Ethernet frames (without preamble or FCS). */
export interface FrameEndpoint {
  /**
   * A whole frame arrives now. The callee must copy the bytes if it keeps them after returning:
   * the caller may reuse the buffer.
   */
  receive(frame: Uint8Array): void;
}

/** A port of a device: frames arriving from the wire go to `receive`; frames it sends go to the connected peer. */
export interface WirePort extends FrameEndpoint {
  /** Connect the far end; frames this port transmits are delivered to `peer`. */
  connect(peer: FrameEndpoint): void;
}

/** Ethernet overhead on the wire per frame that is not part of the frame bytes: 8 B preamble/SFD + 4 B FCS + 12 B inter-frame gap (IEEE 802.3). */
export const ETHERNET_WIRE_OVERHEAD_BYTES = 24;
/** Minimum frame length without FCS (IEEE 802.3: 64 B including the 4 B FCS). */
export const ETHERNET_MIN_FRAME = 60;

/**
 * Time in seconds a frame of `frameBytes` (without FCS) occupies a link of `bitsPerSecond`,
 * including preamble, FCS, inter-frame gap and padding to the minimum frame size.
 */
export function wireSeconds(frameBytes: number, bitsPerSecond: number): number {
  const onWire = Math.max(frameBytes, ETHERNET_MIN_FRAME) + ETHERNET_WIRE_OVERHEAD_BYTES;
  return (onWire * 8) / bitsPerSecond;
}

/** Calls `tap` with every frame, then forwards it: middleware for tracing or pcap recording. */
export class FrameTap implements FrameEndpoint {
  /**
   * @param next - where frames go after the tap has seen them
   * @param tap - observer; it must not keep the buffer
   */
  constructor(
    private readonly next: FrameEndpoint,
    private readonly tap: (frame: Uint8Array) => void,
  ) {}

  receive(frame: Uint8Array): void {
    this.tap(frame);
    this.next.receive(frame);
  }
}
