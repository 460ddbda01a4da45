/**
 * UDP (RFC 768) with the IPv4 pseudo-header checksum. A zero checksum means "none" over IPv4 and
 * is accepted; a computed checksum of zero is sent as `0xffff`.
 *
 * ```
 * 0          2          4        6          8
 * | src port | dst port | length | checksum | payload ...
 * ```
 *
 * @module
 */
import type { Ipv4Address } from './address.js';
import { foldSum, pseudoHeaderSum, sum16 } from './checksum.js';
import type { WireError } from './error.js';
import { IpProtocol } from './ipv4.js';
import { PacketView } from './view.js';

/** Field offsets of a UDP header. */
export const UdpField = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6, PAYLOAD: 8 } as const;

/** Length of a UDP header. */
export const UDP_HEADER_LEN = 8;

/** Zero-copy view of a UDP datagram. Getters never throw. */
export class UdpPacket extends PacketView {
  /** Source port. */
  get srcPort(): number {
    return this.u16(UdpField.SRC_PORT);
  }
  /** Destination port. */
  get dstPort(): number {
    return this.u16(UdpField.DST_PORT);
  }
  /** Length field (header + payload). */
  get len(): number {
    return this.u16(UdpField.LENGTH);
  }
  /** Checksum field. */
  get checksum(): number {
    return this.u16(UdpField.CHECKSUM);
  }
  /** Offset of the payload in {@link PacketView.bytes}. */
  get payloadOffset(): number {
    return this.offset + UDP_HEADER_LEN;
  }
  /**
   * True if the checksum verifies against the pseudo-header of `src`/`dst`, or is zero (none).
   * Uses the length field; false if the datagram does not fit the buffer.
   */
  verifyChecksum(src: Ipv4Address, dst: Ipv4Address): boolean {
    if (this.checksum === 0) return true;
    const len = this.len;
    if (len < UDP_HEADER_LEN || len > this.length) return false;
    const sum = sum16(this.bytes, this.offset, len, pseudoHeaderSum(src, dst, IpProtocol.Udp, len));
    return foldSum(sum) === 0xffff;
  }
  /** Set the source port. */
  setSrcPort(v: number): void {
    this.set16(UdpField.SRC_PORT, v);
  }
  /** Set the destination port. */
  setDstPort(v: number): void {
    this.set16(UdpField.DST_PORT, v);
  }
  /** Set the length field. */
  setLen(v: number): void {
    this.set16(UdpField.LENGTH, v);
  }
  /** Set the checksum field. */
  setChecksum(v: number): void {
    this.set16(UdpField.CHECKSUM, v);
  }
  /** Compute and store the checksum over the length-field bytes and the pseudo-header. */
  fillChecksum(src: Ipv4Address, dst: Ipv4Address): void {
    const len = this.len;
    this.setChecksum(0);
    const sum = sum16(
      this.bytes,
      this.offset,
      Math.min(len, this.length),
      pseudoHeaderSum(src, dst, IpProtocol.Udp, len),
    );
    const c = ~foldSum(sum) & 0xffff;
    this.setChecksum(c === 0 ? 0xffff : c);
  }
}

/** A validated UDP header; the payload stays in the buffer (zero-copy). */
export class UdpRepr {
  /** Source port. */
  srcPort = 0;
  /** Destination port. */
  dstPort = 0;
  /** Payload length. */
  payloadLen = 0;

  /**
   * Parse into `out` (reused), checking the checksum against the pseudo-header of `src`/`dst`.
   * `'truncated'` if shorter than the header or the length field; `'malformed'` if the length
   * field is below 8; `'bad-checksum'` if a non-zero checksum fails. Bytes past the length field
   * are ignored.
   */
  static parse(
    packet: UdpPacket,
    src: Ipv4Address,
    dst: Ipv4Address,
    out: UdpRepr = new UdpRepr(),
  ): UdpRepr | WireError {
    if (packet.length < UDP_HEADER_LEN) return 'truncated';
    const len = packet.len;
    if (len < UDP_HEADER_LEN) return 'malformed';
    if (packet.length < len) return 'truncated';
    if (!packet.verifyChecksum(src, dst)) return 'bad-checksum';
    out.srcPort = packet.srcPort;
    out.dstPort = packet.dstPort;
    out.payloadLen = len - UDP_HEADER_LEN;
    return out;
  }

  /** Bytes the datagram occupies (header + payload). */
  bufferLen(): number {
    return UDP_HEADER_LEN + this.payloadLen;
  }

  /** Write the header and the checksum over the payload already in place. */
  emit(packet: UdpPacket, src: Ipv4Address, dst: Ipv4Address): void {
    packet.setSrcPort(this.srcPort);
    packet.setDstPort(this.dstPort);
    packet.setLen(this.bufferLen());
    packet.fillChecksum(src, dst);
  }
}
