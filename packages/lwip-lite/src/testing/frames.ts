/**
 * Test and benchmark helpers that build whole frames with this package's own encoders (the wire
 * tests check those encoders against captures first). Not part of the public API.
 *
 * @module
 */
import type { Ipv4Address } from '../wire/address.js';
import { ArpOperation, ArpPacket, ArpRepr } from '../wire/arp.js';
import { EthernetFrame, EtherType } from '../wire/ethernet.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Type } from '../wire/icmpv4.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { UdpPacket, UdpRepr } from '../wire/udp.js';

/** Addresses of a frame. */
export interface FrameAddrs {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: Ipv4Address;
  dstIp: Ipv4Address;
}

function ipFrame(a: FrameAddrs, protocol: number, payloadLen: number): Uint8Array {
  const frame = new Uint8Array(Math.max(60, 14 + 20 + payloadLen));
  const eth = new EthernetFrame(frame);
  eth.setDst(a.dstMac);
  eth.setSrc(a.srcMac);
  eth.setEthertype(EtherType.Ipv4);
  const r = new Ipv4Repr();
  Object.assign(r, { src: a.srcIp, dst: a.dstIp, protocol, payloadLen, ident: 1 });
  r.emit(new Ipv4Packet(frame, 14, 20 + payloadLen));
  return frame;
}

/** An Ethernet/IPv4/UDP frame. */
export function udpFrame(
  a: FrameAddrs,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const frame = ipFrame(a, IpProtocol.Udp, 8 + payload.length);
  frame.set(payload, 42);
  const r = new UdpRepr();
  Object.assign(r, { srcPort, dstPort, payloadLen: payload.length });
  r.emit(new UdpPacket(frame, 34, 8 + payload.length), a.srcIp, a.dstIp);
  return frame;
}

/** An Ethernet/IPv4/ICMP echo request frame. */
export function pingFrame(
  a: FrameAddrs,
  ident: number,
  seqNo: number,
  dataLen: number,
): Uint8Array {
  const frame = ipFrame(a, IpProtocol.Icmp, 8 + dataLen);
  for (let i = 0; i < dataLen; i++) frame[42 + i] = i;
  const r = new Icmpv4Repr();
  Object.assign(r, { msgType: Icmpv4Type.EchoRequest, ident, seqNo, dataLen });
  r.emit(new Icmpv4Packet(frame, 34, 8 + dataLen));
  return frame;
}

/** An ARP frame (request to broadcast if `op` is request). */
export function arpFrame(
  a: FrameAddrs,
  op: ArpOperation,
  targetMac: Uint8Array = new Uint8Array(6),
): Uint8Array {
  const frame = new Uint8Array(60);
  const eth = new EthernetFrame(frame);
  eth.setDst(a.dstMac);
  eth.setSrc(a.srcMac);
  eth.setEthertype(EtherType.Arp);
  const r = new ArpRepr();
  r.operation = op === ArpOperation.Reply ? ArpOperation.Reply : ArpOperation.Request;
  r.senderHardwareAddr.set(a.srcMac);
  r.senderProtocolAddr = a.srcIp;
  r.targetHardwareAddr.set(targetMac);
  r.targetProtocolAddr = a.dstIp;
  r.emit(new ArpPacket(frame, 14, 28));
  return frame;
}

/** A frame endpoint that keeps a copy of every frame. */
export class FrameSink {
  /** Frames received, copied. */
  readonly frames: Uint8Array[] = [];
  receive(frame: Uint8Array): void {
    this.frames.push(frame.slice());
  }
}
