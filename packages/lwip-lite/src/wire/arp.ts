/**
 * ARP for IPv4 over Ethernet (RFC 826).
 *
 * ```
 * 0     2     4    5    6     8          14         18         24         28
 * | htype | ptype | hlen | plen | op | sha (6) | spa (4) | tha (6) | tpa (4) |
 * ```
 *
 * @module
 */
import type { Ipv4Address } from './address.js';
import type { WireError } from './error.js';
import { EtherType } from './ethernet.js';
import { PacketView } from './view.js';

/** Field offsets of an Ethernet/IPv4 ARP packet. */
export const ArpField = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OPER: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
} as const;

/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_PACKET_LEN = 28;
/** ARP hardware type of Ethernet. */
export const ARP_HTYPE_ETHERNET = 1;

/** ARP operations. */
export const ArpOperation = { Request: 1, Reply: 2 } as const;
/** An ARP operation code this stack handles. */
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

/** Zero-copy view of an ARP packet. Getters never throw. */
export class ArpPacket extends PacketView {
  /** Hardware type (1 = Ethernet). */
  get hardwareType(): number {
    return this.u16(ArpField.HTYPE);
  }
  /** Protocol type (0x0800 = IPv4). */
  get protocolType(): number {
    return this.u16(ArpField.PTYPE);
  }
  /** Hardware address length. */
  get hardwareLen(): number {
    return this.u8(ArpField.HLEN);
  }
  /** Protocol address length. */
  get protocolLen(): number {
    return this.u8(ArpField.PLEN);
  }
  /** Operation. */
  get operation(): number {
    return this.u16(ArpField.OPER);
  }
  /** Sender hardware address, copied into `out`. */
  senderHardwareAddr(out: Uint8Array = new Uint8Array(6)): Uint8Array {
    return this.readMac(ArpField.SHA, out);
  }
  /** Sender protocol address. */
  get senderProtocolAddr(): Ipv4Address {
    return this.u32(ArpField.SPA);
  }
  /** Target hardware address, copied into `out`. */
  targetHardwareAddr(out: Uint8Array = new Uint8Array(6)): Uint8Array {
    return this.readMac(ArpField.THA, out);
  }
  /** Target protocol address. */
  get targetProtocolAddr(): Ipv4Address {
    return this.u32(ArpField.TPA);
  }
  /** Set the hardware type. */
  setHardwareType(v: number): void {
    this.set16(ArpField.HTYPE, v);
  }
  /** Set the protocol type. */
  setProtocolType(v: number): void {
    this.set16(ArpField.PTYPE, v);
  }
  /** Set the hardware address length. */
  setHardwareLen(v: number): void {
    this.set8(ArpField.HLEN, v);
  }
  /** Set the protocol address length. */
  setProtocolLen(v: number): void {
    this.set8(ArpField.PLEN, v);
  }
  /** Set the operation. */
  setOperation(v: number): void {
    this.set16(ArpField.OPER, v);
  }
  /** Set the sender hardware address. */
  setSenderHardwareAddr(mac: Uint8Array): void {
    this.writeMac(ArpField.SHA, mac);
  }
  /** Set the sender protocol address. */
  setSenderProtocolAddr(addr: Ipv4Address): void {
    this.set32(ArpField.SPA, addr);
  }
  /** Set the target hardware address. */
  setTargetHardwareAddr(mac: Uint8Array): void {
    this.writeMac(ArpField.THA, mac);
  }
  /** Set the target protocol address. */
  setTargetProtocolAddr(addr: Ipv4Address): void {
    this.set32(ArpField.TPA, addr);
  }
}

/** A validated Ethernet/IPv4 ARP packet. */
export class ArpRepr {
  /** Request or reply. */
  operation: ArpOperation = ArpOperation.Request;
  /** Sender MAC. */
  senderHardwareAddr: Uint8Array = new Uint8Array(6);
  /** Sender IPv4 address. */
  senderProtocolAddr: Ipv4Address = 0;
  /** Target MAC (zero in a request). */
  targetHardwareAddr: Uint8Array = new Uint8Array(6);
  /** Target IPv4 address. */
  targetProtocolAddr: Ipv4Address = 0;

  /**
   * Parse into `out` (reused). `'truncated'` if shorter than 28 bytes; `'unsupported'` for any
   * hardware/protocol other than Ethernet/IPv4 or an operation other than request/reply.
   * Trailing bytes (Ethernet padding) are ignored.
   */
  static parse(packet: ArpPacket, out: ArpRepr = new ArpRepr()): ArpRepr | WireError {
    if (packet.length < 8) return 'truncated';
    if (
      packet.hardwareType !== ARP_HTYPE_ETHERNET ||
      packet.protocolType !== EtherType.Ipv4 ||
      packet.hardwareLen !== 6 ||
      packet.protocolLen !== 4
    ) {
      return 'unsupported';
    }
    if (packet.length < ARP_PACKET_LEN) return 'truncated';
    const op = packet.operation;
    if (op !== ArpOperation.Request && op !== ArpOperation.Reply) return 'unsupported';
    out.operation = op;
    packet.senderHardwareAddr(out.senderHardwareAddr);
    out.senderProtocolAddr = packet.senderProtocolAddr;
    packet.targetHardwareAddr(out.targetHardwareAddr);
    out.targetProtocolAddr = packet.targetProtocolAddr;
    return out;
  }

  /** Bytes the packet occupies. */
  bufferLen(): number {
    return ARP_PACKET_LEN;
  }

  /** Write the packet into `packet`. */
  emit(packet: ArpPacket): void {
    packet.setHardwareType(ARP_HTYPE_ETHERNET);
    packet.setProtocolType(EtherType.Ipv4);
    packet.setHardwareLen(6);
    packet.setProtocolLen(4);
    packet.setOperation(this.operation);
    packet.setSenderHardwareAddr(this.senderHardwareAddr);
    packet.setSenderProtocolAddr(this.senderProtocolAddr);
    packet.setTargetHardwareAddr(this.targetHardwareAddr);
    packet.setTargetProtocolAddr(this.targetProtocolAddr);
  }
}
