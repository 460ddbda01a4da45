/**
 * A tiny private Ethernet II + IPv4 + UDP frame builder and reader.
 *
 * @remarks Stand-in until `@udf/lwip-lite`'s `wire` views are usable; only the fields ipbench
 * needs. Reading never throws: a frame that is not a well-formed UDP/IPv4 datagram returns -1.
 */
import { IpbenchError } from './errors.js';

/** Ethernet II header bytes. */
export const ETH_HEADER_LEN = 14;
/** IPv4 header bytes (no options). */
export const IPV4_HEADER_LEN = 20;
/** UDP header bytes. */
export const UDP_HEADER_LEN = 8;
/** Offset of the UDP payload in a frame built here. */
export const UDP_PAYLOAD_OFFSET = ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
/**
 * Bytes a UDP payload costs on the wire beyond itself: UDP 8 + IPv4 20 + Ethernet 14 + FCS 4 +
 * preamble/SFD 8 + inter-frame gap 12 (IEEE 802.3).
 */
export const WIRE_OVERHEAD_BYTES = 66;
/** Smallest Ethernet frame without FCS; shorter frames are padded. */
export const MIN_FRAME_LEN = 60;

const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_UDP = 17;

/** Parses `aa:bb:cc:dd:ee:ff` into 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new IpbenchError('IPBENCH_BAD_ADDRESS', `bad MAC address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** Parses dotted-quad `a.b.c.d` into 4 bytes. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new IpbenchError('IPBENCH_BAD_ADDRESS', `bad IPv4 address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map(Number));
}

/** Addresses and ports of one UDP flow. */
export interface UdpFlow {
  /** Source MAC (6 bytes). */
  srcMac: Uint8Array;
  /** Destination MAC (6 bytes). */
  dstMac: Uint8Array;
  /** Source IPv4 (4 bytes). */
  srcIp: Uint8Array;
  /** Destination IPv4 (4 bytes). */
  dstIp: Uint8Array;
  /** Source UDP port. */
  srcPort: number;
  /** Destination UDP port. */
  dstPort: number;
}

/** Frame length (without FCS) that carries `payloadLen` UDP payload bytes. */
export function udpFrameLength(payloadLen: number): number {
  return Math.max(MIN_FRAME_LEN, UDP_PAYLOAD_OFFSET + payloadLen);
}

/** Internet checksum partial sum (RFC 1071) of `buf[start, end)`, big-endian 16-bit words. */
function sum16(buf: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) acc += buf[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/**
 * Writes Ethernet, IPv4 and UDP headers for a `payloadLen`-byte payload into `frame` (which must
 * be at least {@link udpFrameLength} long); the payload itself is left alone. Call
 * {@link sealUdpFrame} after writing the payload.
 */
export function writeUdpHeaders(frame: Uint8Array, flow: UdpFlow, payloadLen: number): void {
  frame.set(flow.dstMac, 0);
  frame.set(flow.srcMac, 6);
  frame[12] = ETHERTYPE_IPV4 >> 8;
  frame[13] = ETHERTYPE_IPV4 & 0xff;
  const ip = ETH_HEADER_LEN;
  const totalLen = IPV4_HEADER_LEN + UDP_HEADER_LEN + payloadLen;
  frame[ip] = 0x45;
  frame[ip + 1] = 0;
  frame[ip + 2] = totalLen >> 8;
  frame[ip + 3] = totalLen & 0xff;
  frame[ip + 4] = 0;
  frame[ip + 5] = 0;
  frame[ip + 6] = 0x40; // DF
  frame[ip + 7] = 0;
  frame[ip + 8] = 64;
  frame[ip + 9] = IPPROTO_UDP;
  frame[ip + 10] = 0;
  frame[ip + 11] = 0;
  frame.set(flow.srcIp, ip + 12);
  frame.set(flow.dstIp, ip + 16);
  const ipSum = ~fold(sum16(frame, ip, ip + IPV4_HEADER_LEN, 0)) & 0xffff;
  frame[ip + 10] = ipSum >> 8;
  frame[ip + 11] = ipSum & 0xff;
  const udp = ip + IPV4_HEADER_LEN;
  const udpLen = UDP_HEADER_LEN + payloadLen;
  frame[udp] = flow.srcPort >> 8;
  frame[udp + 1] = flow.srcPort & 0xff;
  frame[udp + 2] = flow.dstPort >> 8;
  frame[udp + 3] = flow.dstPort & 0xff;
  frame[udp + 4] = udpLen >> 8;
  frame[udp + 5] = udpLen & 0xff;
  frame[udp + 6] = 0;
  frame[udp + 7] = 0;
}

function udpChecksumSum(frame: Uint8Array, udpLen: number): number {
  const ip = ETH_HEADER_LEN;
  const udp = ip + IPV4_HEADER_LEN;
  let acc = sum16(frame, ip + 12, ip + 20, 0); // pseudo-header addresses
  acc += IPPROTO_UDP + udpLen;
  return fold(sum16(frame, udp, udp + udpLen, acc));
}

/** Computes and stores the UDP checksum of a frame whose headers and payload are written. */
export function sealUdpFrame(frame: Uint8Array, payloadLen: number): void {
  const udp = ETH_HEADER_LEN + IPV4_HEADER_LEN;
  frame[udp + 6] = 0;
  frame[udp + 7] = 0;
  let sum = ~udpChecksumSum(frame, UDP_HEADER_LEN + payloadLen) & 0xffff;
  if (sum === 0) sum = 0xffff; // RFC 768: zero means "no checksum"
  frame[udp + 6] = sum >> 8;
  frame[udp + 7] = sum & 0xff;
}

/** Reads a 16-bit big-endian field. */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

/** Outcome codes of {@link checkUdpFrame}. */
export const FrameCheck = {
  /** A well-formed UDP/IPv4 frame with valid checksums. */
  Ok: 0,
  /** Not IPv4/UDP, or truncated: not for a UDP endpoint at all. */
  NotUdp: 1,
  /** A UDP/IPv4 frame whose IPv4 or UDP checksum is wrong. */
  BadChecksum: 2,
} as const;

/** One of the {@link FrameCheck} values. */
export type FrameCheckResult = (typeof FrameCheck)[keyof typeof FrameCheck];

/**
 * Validates a frame as Ethernet II / IPv4 (no options accepted beyond IHL) / UDP and checks both
 * checksums. Never throws; allocates nothing.
 */
export function checkUdpFrame(frame: Uint8Array, length = frame.length): FrameCheckResult {
  if (length < UDP_PAYLOAD_OFFSET) return FrameCheck.NotUdp;
  if (readU16(frame, 12) !== ETHERTYPE_IPV4) return FrameCheck.NotUdp;
  const ip = ETH_HEADER_LEN;
  if (frame[ip] !== 0x45 || frame[ip + 9] !== IPPROTO_UDP) return FrameCheck.NotUdp;
  const totalLen = readU16(frame, ip + 2);
  if (totalLen < IPV4_HEADER_LEN + UDP_HEADER_LEN || ip + totalLen > length) {
    return FrameCheck.NotUdp;
  }
  const udpLen = readU16(frame, ip + IPV4_HEADER_LEN + 4);
  if (udpLen !== totalLen - IPV4_HEADER_LEN) return FrameCheck.NotUdp;
  if (fold(sum16(frame, ip, ip + IPV4_HEADER_LEN, 0)) !== 0xffff) return FrameCheck.BadChecksum;
  const stored = readU16(frame, ip + IPV4_HEADER_LEN + 6);
  if (stored !== 0 && udpChecksumSum(frame, udpLen) !== 0xffff) return FrameCheck.BadChecksum;
  return FrameCheck.Ok;
}

/** UDP payload length of a frame that passed {@link checkUdpFrame}. */
export function udpPayloadLength(frame: Uint8Array): number {
  return readU16(frame, ETH_HEADER_LEN + IPV4_HEADER_LEN + 4) - UDP_HEADER_LEN;
}

/** Destination UDP port of a frame that passed {@link checkUdpFrame}. */
export function udpDstPort(frame: Uint8Array): number {
  return readU16(frame, ETH_HEADER_LEN + IPV4_HEADER_LEN + 2);
}

/** True if the frame's destination IPv4 address equals `ip`. */
export function ipv4DstEquals(frame: Uint8Array, ip: Uint8Array): boolean {
  const o = ETH_HEADER_LEN + 16;
  return (
    frame[o] === ip[0] && frame[o + 1] === ip[1] && frame[o + 2] === ip[2] && frame[o + 3] === ip[3]
  );
}

/**
 * Turns a received UDP frame into its echo in place: swaps MACs, IPv4 addresses and UDP ports.
 * Both checksums stay valid (one's-complement sums are order-independent).
 */
export function swapUdpFrameInPlace(frame: Uint8Array): void {
  const swap = (a: number, b: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      const t = frame[a + i]!;
      frame[a + i] = frame[b + i]!;
      frame[b + i] = t;
    }
  };
  swap(0, 6, 6);
  swap(ETH_HEADER_LEN + 12, ETH_HEADER_LEN + 16, 4);
  swap(ETH_HEADER_LEN + IPV4_HEADER_LEN, ETH_HEADER_LEN + IPV4_HEADER_LEN + 2, 2);
}
