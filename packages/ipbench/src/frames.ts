/**
 * The Ethernet II + IPv4 + UDP frames ipbench sends and echoes. Headers are emitted by
 * `@udf/lwip-lite`'s wire representations, and sealed and checked through its zero-copy views and
 * RFC 1071 checksums (UDP pseudo-header included); none of that is reimplemented here.
 *
 * @remarks What is ipbench's own: one fixed layout, no IPv4 options, so that the probe payload
 * always starts at `UDP_PAYLOAD_OFFSET` and an echo can swap addresses in place; the three-way
 * `FrameCheck` verdict; and the flow a client sends on. Checking never throws, and writers and
 * readers reuse their views and representations, so nothing is allocated per frame.
 */
import {
  ETHERNET_HEADER_LEN,
  ETHERNET_MIN_FRAME,
  EthernetField,
  EthernetFrame,
  EthernetRepr,
  EtherType,
  IPV4_HEADER_LEN,
  IpProtocol,
  type Ipv4Address,
  Ipv4Field,
  Ipv4Packet,
  Ipv4Repr,
  LwipError,
  parseIpv4 as lwipParseIpv4,
  type MacAddress,
  UDP_HEADER_LEN,
  UdpField,
  UdpPacket,
  UdpRepr,
} from '@udf/lwip-lite';
import { IpbenchError } from './errors.js';

/** Offset of the UDP header in an ipbench frame. */
const UDP_OFFSET = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
/** Offset of the UDP payload (the probe) in an ipbench frame. */
export const UDP_PAYLOAD_OFFSET = UDP_OFFSET + UDP_HEADER_LEN;
/**
 * Bytes a UDP payload costs on the wire beyond itself: UDP 8 + IPv4 20 + Ethernet 14 + FCS 4 +
 * preamble/SFD 8 + inter-frame gap 12 (IEEE 802.3).
 */
export const WIRE_OVERHEAD_BYTES = 66;

/**
 * Parses `aa:bb:cc:dd:ee:ff` (or `-`-separated; one-digit groups accepted, unlike lwip-lite's
 * `parseMac`) into 6 bytes; throws `IPBENCH_BAD_ADDRESS`.
 */
export function parseMac(text: string): MacAddress {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new IpbenchError('IPBENCH_BAD_ADDRESS', `bad MAC address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** Parses dotted-quad `a.b.c.d` (lwip-lite's rules); throws `IPBENCH_BAD_ADDRESS`. */
export function parseIpv4(text: string): Ipv4Address {
  try {
    return lwipParseIpv4(text);
  } catch (err) {
    if (!(err instanceof LwipError)) throw err;
    throw new IpbenchError('IPBENCH_BAD_ADDRESS', `bad IPv4 address ${JSON.stringify(text)}`);
  }
}

/** Addresses and ports of one UDP flow. */
export interface UdpFlow {
  /** Source MAC (6 bytes). */
  srcMac: MacAddress;
  /** Destination MAC (6 bytes). */
  dstMac: MacAddress;
  /** Source IPv4. */
  srcIp: Ipv4Address;
  /** Destination IPv4. */
  dstIp: Ipv4Address;
  /** Source UDP port. */
  srcPort: number;
  /** Destination UDP port. */
  dstPort: number;
}

/** Frame length (without FCS) that carries `payloadLen` UDP payload bytes; short frames are padded. */
export function udpFrameLength(payloadLen: number): number {
  return Math.max(ETHERNET_MIN_FRAME, UDP_PAYLOAD_OFFSET + payloadLen);
}

/** Writes the headers of one flow's frames and seals them (UDP checksum over the payload). */
export class UdpFrameWriter {
  readonly #eth = new EthernetFrame();
  readonly #ip = new Ipv4Packet();
  readonly #udp = new UdpPacket();
  readonly #ethRepr = new EthernetRepr();
  readonly #ipRepr = new Ipv4Repr();
  readonly #udpRepr = new UdpRepr();

  /** @param flow - addresses and ports every frame carries (copied) */
  constructor(flow: UdpFlow) {
    this.#ethRepr.dst.set(flow.dstMac);
    this.#ethRepr.src.set(flow.srcMac);
    this.#ethRepr.ethertype = EtherType.Ipv4;
    this.#ipRepr.src = flow.srcIp;
    this.#ipRepr.dst = flow.dstIp;
    this.#ipRepr.protocol = IpProtocol.Udp;
    this.#ipRepr.dontFragment = true;
    this.#udpRepr.srcPort = flow.srcPort;
    this.#udpRepr.dstPort = flow.dstPort;
  }

  /**
   * Writes Ethernet, IPv4 (with its checksum) and UDP headers for a `payloadLen`-byte payload into
   * `frame` (at least {@link udpFrameLength} long); the payload is left alone. Call
   * {@link UdpFrameWriter.seal} after writing the payload.
   */
  writeHeaders(frame: Uint8Array, payloadLen: number): void {
    const udp = this.#udpRepr;
    udp.payloadLen = payloadLen;
    this.#ipRepr.payloadLen = udp.bufferLen();
    this.#ethRepr.emit(this.#eth.wrap(frame, 0, ETHERNET_HEADER_LEN));
    this.#ipRepr.emit(this.#ip.wrap(frame, ETHERNET_HEADER_LEN, IPV4_HEADER_LEN));
    udp.emit(
      this.#udp.wrap(frame, UDP_OFFSET, udp.bufferLen()),
      this.#ipRepr.src,
      this.#ipRepr.dst,
    );
  }

  /** Computes and stores the UDP checksum of a frame whose headers and payload are written. */
  seal(frame: Uint8Array, payloadLen: number): void {
    this.#udp
      .wrap(frame, UDP_OFFSET, UDP_HEADER_LEN + payloadLen)
      .fillChecksum(this.#ipRepr.src, this.#ipRepr.dst);
  }
}

/** Outcome codes of {@link UdpFrameReader.check}. */
export const FrameCheck = {
  /** A well-formed UDP/IPv4 frame with valid checksums. */
  Ok: 0,
  /** Not IPv4/UDP in ipbench's layout, or truncated: not for a UDP endpoint at all. */
  NotUdp: 1,
  /** A UDP/IPv4 frame whose IPv4 or UDP checksum is wrong. */
  BadChecksum: 2,
} as const;

/** One of the {@link FrameCheck} values. */
export type FrameCheckResult = (typeof FrameCheck)[keyof typeof FrameCheck];

/**
 * Checks received frames, reusing one set of views.
 *
 * @remarks Reads lwip-lite's views and verifies with their checksums rather than running
 * `Ipv4Repr.parse` / `UdpRepr.parse`: the reprs copy every header field through bounds-checked
 * getters, ~20 calls per frame whose results ipbench does not need, which cost 10–15 % of the
 * 64-byte client↔echo throughput (`bench/index.ts`).
 */
export class UdpFrameReader {
  /** The IPv4 packet of the last checked frame (valid unless the check said `NotUdp`). */
  readonly ip = new Ipv4Packet();
  /** The UDP datagram of the last checked frame (valid unless the check said `NotUdp`). */
  readonly udp = new UdpPacket();

  readonly #eth = new EthernetFrame();

  /**
   * Validates `frame[0, length)` as Ethernet II / IPv4 without options / UDP and checks both
   * checksums. A frame that is structurally not ipbench's UDP is `NotUdp` even if a checksum is
   * also wrong. Never throws; allocates nothing.
   */
  check(frame: Uint8Array, length = frame.length): FrameCheckResult {
    const eth = this.#eth.wrap(frame, 0, length);
    if (eth.length < UDP_PAYLOAD_OFFSET || eth.ethertype !== EtherType.Ipv4) {
      return FrameCheck.NotUdp;
    }
    const ip = this.ip.wrap(frame, eth.payloadOffset, eth.payloadLength);
    if (ip.version !== 4 || ip.headerLen !== IPV4_HEADER_LEN || ip.protocol !== IpProtocol.Udp) {
      return FrameCheck.NotUdp;
    }
    const total = ip.totalLen;
    if (total < IPV4_HEADER_LEN + UDP_HEADER_LEN || total > ip.length) return FrameCheck.NotUdp;
    const udp = this.udp.wrap(frame, ip.payloadOffset, total - IPV4_HEADER_LEN);
    if (udp.len !== udp.length) return FrameCheck.NotUdp;
    if (!ip.verifyChecksum() || !udp.verifyChecksum(ip.src, ip.dst)) return FrameCheck.BadChecksum;
    return FrameCheck.Ok;
  }

  /** UDP payload bytes of the last frame checked (valid unless the check said `NotUdp`). */
  get payloadLength(): number {
    return this.udp.length - UDP_HEADER_LEN;
  }
}

/**
 * Turns an ipbench frame into its echo in place: swaps MACs, IPv4 addresses and UDP ports. Both
 * checksums stay valid (ones' complement sums do not depend on word order).
 *
 * @remarks Plain byte swaps at lwip-lite's field offsets: through the views' getters and setters
 * this is ~30 calls per echo, which cost 10–15 % of the 64-byte client↔echo throughput.
 */
export function swapUdpFrameInPlace(frame: Uint8Array): void {
  swapBytes(frame, EthernetField.DST, EthernetField.SRC, 6);
  swapBytes(frame, ETHERNET_HEADER_LEN + Ipv4Field.SRC, ETHERNET_HEADER_LEN + Ipv4Field.DST, 4);
  swapBytes(frame, UDP_OFFSET + UdpField.SRC_PORT, UDP_OFFSET + UdpField.DST_PORT, 2);
}

function swapBytes(frame: Uint8Array, a: number, b: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = frame[a + i]!;
    frame[a + i] = frame[b + i]!;
    frame[b + i] = t;
  }
}
