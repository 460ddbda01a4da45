// Ethernet/ARP/IPv4/UDP frames for the bench's load generator: the probe it sends to a NIC's UDP
// wire, the check of what comes back, and the ARP exchange that lets the stack answer it (lwip-lite
// learns a peer's MAC from ARP only). Written out by hand, so the load generator does not use the
// code it measures.

/** Ethernet (14) + IPv4 (20) + UDP (8) header bytes before the UDP payload. */
export const UDP_PAYLOAD_OFFSET = 42;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;
const ARP_FRAME_BYTES = 60; // 42 bytes of ARP in Ethernet, padded to the 60-byte minimum

/** One end of a UDP flow in an Ethernet frame. */
export interface FlowEnd {
  /** `aa:bb:cc:dd:ee:ff` */
  readonly mac: string;
  /** dotted quad */
  readonly ip: string;
  /** UDP port */
  readonly port: number;
}

function macBytes(mac: string): number[] {
  const parts = mac.split(':').map((p) => Number.parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => !(p >= 0 && p <= 255)))
    throw new Error(`bad MAC ${mac}`);
  return parts;
}

function ipBytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(Number.isInteger(p) && p >= 0 && p <= 255)))
    throw new Error(`bad IPv4 address ${ip}`);
  return parts;
}

function ipv4HeaderChecksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[at + i]! << 8) | b[at + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A UDP datagram from `src` to `dst` in an Ethernet frame, payload zero-filled (UDP checksum 0:
 * none, as IPv4 allows).
 */
export function udpFrame(src: FlowEnd, dst: FlowEnd, payloadBytes: number): Buffer {
  const f = Buffer.alloc(UDP_PAYLOAD_OFFSET + payloadBytes);
  f.set(macBytes(dst.mac), 0);
  f.set(macBytes(src.mac), 6);
  f.writeUInt16BE(ETHERTYPE_IPV4, 12);
  f[14] = 0x45; // version 4, 5 words of header
  f.writeUInt16BE(20 + 8 + payloadBytes, 16);
  f.writeUInt16BE(0x4000, 20); // don't fragment
  f[22] = 64; // TTL
  f[23] = 17; // UDP
  f.set(ipBytes(src.ip), 26);
  f.set(ipBytes(dst.ip), 30);
  f.writeUInt16BE(ipv4HeaderChecksum(f, 14), 24);
  f.writeUInt16BE(src.port, 34);
  f.writeUInt16BE(dst.port, 36);
  f.writeUInt16BE(8 + payloadBytes, 38);
  return f;
}

/** An ARP request from `src` asking for `targetIp` (the stack learns `src` from it). */
export function arpRequest(src: FlowEnd, targetIp: string): Buffer {
  return arp(ARP_REQUEST, src, { mac: 'ff:ff:ff:ff:ff:ff', ip: targetIp }, '00:00:00:00:00:00');
}

function arp(op: number, src: FlowEnd, dst: { mac: string; ip: string }, targetMac: string) {
  const f = Buffer.alloc(ARP_FRAME_BYTES);
  f.set(macBytes(dst.mac), 0);
  f.set(macBytes(src.mac), 6);
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(ETHERTYPE_IPV4, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  f.set(macBytes(src.mac), 22);
  f.set(ipBytes(src.ip), 28);
  f.set(macBytes(targetMac), 32);
  f.set(ipBytes(dst.ip), 38);
  return f;
}

/** What {@link classifyFrame} found in a frame from the NIC. */
export type FrameKind =
  | { readonly kind: 'udp'; readonly payloadOffset: number }
  | { readonly kind: 'arp-reply' }
  | { readonly kind: 'arp-request'; readonly reply: Buffer }
  | { readonly kind: 'other' };

function sameIp(b: Buffer, at: number, ip: readonly number[]): boolean {
  return b[at] === ip[0] && b[at + 1] === ip[1] && b[at + 2] === ip[2] && b[at + 3] === ip[3];
}

/**
 * Classifies frames arriving for `me`: a UDP datagram to `me.port` (the echo), an ARP reply, or
 * an ARP request for `me.ip` (with the reply to send back).
 */
export class FrameClassifier {
  readonly #ip: number[];

  /** @param me - the load generator's end of the flow */
  constructor(private readonly me: FlowEnd) {
    this.#ip = ipBytes(me.ip);
  }

  /** Classify one frame (never throws on short or malformed frames). */
  classify(f: Buffer): FrameKind {
    if (f.length < 14) return { kind: 'other' };
    const type = f.readUInt16BE(12);
    if (type === ETHERTYPE_IPV4 && f.length >= UDP_PAYLOAD_OFFSET && f[23] === 17) {
      const ihl = (f[14]! & 0x0f) * 4;
      const udp = 14 + ihl;
      if (f.length < udp + 8 || f.readUInt16BE(udp + 2) !== this.me.port) return { kind: 'other' };
      return { kind: 'udp', payloadOffset: udp + 8 };
    }
    if (type === ETHERTYPE_ARP && f.length >= 42) {
      const op = f.readUInt16BE(20);
      if (op === ARP_REPLY && sameIp(f, 38, this.#ip)) return { kind: 'arp-reply' };
      if (op === ARP_REQUEST && sameIp(f, 38, this.#ip)) {
        const senderMac = [...f.subarray(22, 28)]
          .map((x) => x.toString(16).padStart(2, '0'))
          .join(':');
        const senderIp = [...f.subarray(28, 32)].join('.');
        return {
          kind: 'arp-request',
          reply: arp(ARP_REPLY, this.me, { mac: senderMac, ip: senderIp }, senderMac),
        };
      }
    }
    return { kind: 'other' };
  }
}
