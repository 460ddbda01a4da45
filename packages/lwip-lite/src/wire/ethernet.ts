/**
 * Ethernet II frames (IEEE 802.3 with an EtherType, no FCS).
 *
 * ```
 * 0      6      12    14
 * | dst  | src  | type | payload ...
 * ```
 *
 * @module
 */
import { macEquals } from './address.js';
import type { WireError } from './error.js';
import { PacketView } from './view.js';

/** Field offsets of an Ethernet II header. */
export const EthernetField = { DST: 0, SRC: 6, ETHERTYPE: 12, PAYLOAD: 14 } as const;

/** Length of an Ethernet II header. */
export const ETHERNET_HEADER_LEN = 14;
/** Smallest frame on the wire without FCS; shorter frames are padded with zeros on transmit. */
export const ETHERNET_MIN_FRAME = 60;

/** EtherType values this stack knows. */
export const EtherType = { Ipv4: 0x0800, Arp: 0x0806, Ipv6: 0x86dd, Vlan: 0x8100 } as const;

/** Zero-copy view of an Ethernet II frame. Getters never throw. */
export class EthernetFrame extends PacketView {
  /** Destination address, copied into `out`. */
  dst(out: Uint8Array = new Uint8Array(6)): Uint8Array {
    return this.readMac(EthernetField.DST, out);
  }
  /** Source address, copied into `out`. */
  src(out: Uint8Array = new Uint8Array(6)): Uint8Array {
    return this.readMac(EthernetField.SRC, out);
  }
  /** True if the destination equals `mac` (false on a short frame). */
  dstIs(mac: Uint8Array): boolean {
    return this.length >= 6 && macEquals(this.bytes, this.offset, mac);
  }
  /** The EtherType field. */
  get ethertype(): number {
    return this.u16(EthernetField.ETHERTYPE);
  }
  /** Offset of the payload inside {@link PacketView.bytes}. */
  get payloadOffset(): number {
    return this.offset + ETHERNET_HEADER_LEN;
  }
  /** Payload length (0 on a short frame). */
  get payloadLength(): number {
    return Math.max(0, this.length - ETHERNET_HEADER_LEN);
  }
  /** Set the destination address. */
  setDst(mac: Uint8Array): void {
    this.writeMac(EthernetField.DST, mac);
  }
  /** Set the source address. */
  setSrc(mac: Uint8Array): void {
    this.writeMac(EthernetField.SRC, mac);
  }
  /** Set the EtherType. */
  setEthertype(value: number): void {
    this.set16(EthernetField.ETHERTYPE, value);
  }
}

/** A validated Ethernet II header. */
export class EthernetRepr {
  /** Source address. */
  src: Uint8Array = new Uint8Array(6);
  /** Destination address. */
  dst: Uint8Array = new Uint8Array(6);
  /** EtherType. */
  ethertype = 0;

  /**
   * Parse a frame into `out` (reused: nothing allocated). Returns `out`, or `'truncated'` if the
   * frame is shorter than a header. Any EtherType is accepted: dispatch is the interface's job.
   */
  static parse(
    frame: EthernetFrame,
    out: EthernetRepr = new EthernetRepr(),
  ): EthernetRepr | WireError {
    if (frame.length < ETHERNET_HEADER_LEN) return 'truncated';
    frame.dst(out.dst);
    frame.src(out.src);
    out.ethertype = frame.ethertype;
    return out;
  }

  /** Bytes the header occupies. */
  bufferLen(): number {
    return ETHERNET_HEADER_LEN;
  }

  /** Write the header into `frame`. */
  emit(frame: EthernetFrame): void {
    frame.setDst(this.dst);
    frame.setSrc(this.src);
    frame.setEthertype(this.ethertype);
  }
}
