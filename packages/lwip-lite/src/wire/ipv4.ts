/**
 * IPv4 headers (RFC 791). Options are not interpreted: they are covered by the header checksum
 * and skipped (the payload starts at IHL × 4). Emitted headers never carry options.
 *
 * ```
 * 0        1        2        4        6        8     9       10       12     16     20
 * | ver/ihl | dscp/ecn | total len | ident | flags/frag | ttl | proto | checksum | src | dst | options...
 * ```
 *
 * @module
 */
import type { Ipv4Address } from './address.js';
import { internetChecksum } from './checksum.js';
import type { WireError } from './error.js';
import { PacketView } from './view.js';

/** Field offsets of an IPv4 header. */
export const Ipv4Field = {
  VER_IHL: 0,
  DSCP_ECN: 1,
  LENGTH: 2,
  IDENT: 4,
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
} as const;

/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;
/** Largest IPv4 header (IHL 15). */
export const IPV4_MAX_HEADER_LEN = 60;
/** Default TTL of packets this stack originates (lwIP's `IP_DEFAULT_TTL`). */
export const IPV4_DEFAULT_TTL = 64;

/** IP protocol numbers this stack knows. */
export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17 } as const;

/** Zero-copy view of an IPv4 packet. Getters never throw. */
export class Ipv4Packet extends PacketView {
  /** Version field (4). */
  get version(): number {
    return this.u8(Ipv4Field.VER_IHL) >>> 4;
  }
  /** Header length in bytes (IHL × 4). */
  get headerLen(): number {
    return (this.u8(Ipv4Field.VER_IHL) & 0x0f) * 4;
  }
  /** DSCP and ECN byte. */
  get dscpEcn(): number {
    return this.u8(Ipv4Field.DSCP_ECN);
  }
  /** Total length (header + payload). */
  get totalLen(): number {
    return this.u16(Ipv4Field.LENGTH);
  }
  /** Identification. */
  get ident(): number {
    return this.u16(Ipv4Field.IDENT);
  }
  /** Don't-fragment flag. */
  get dontFragment(): boolean {
    return (this.u16(Ipv4Field.FLAGS_FRAG) & 0x4000) !== 0;
  }
  /** More-fragments flag. */
  get moreFragments(): boolean {
    return (this.u16(Ipv4Field.FLAGS_FRAG) & 0x2000) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (this.u16(Ipv4Field.FLAGS_FRAG) & 0x1fff) * 8;
  }
  /** Time to live. */
  get ttl(): number {
    return this.u8(Ipv4Field.TTL);
  }
  /** Protocol number. */
  get protocol(): number {
    return this.u8(Ipv4Field.PROTOCOL);
  }
  /** Header checksum field. */
  get checksum(): number {
    return this.u16(Ipv4Field.CHECKSUM);
  }
  /** Source address. */
  get src(): Ipv4Address {
    return this.u32(Ipv4Field.SRC);
  }
  /** Destination address. */
  get dst(): Ipv4Address {
    return this.u32(Ipv4Field.DST);
  }
  /** True if the header checksum verifies (false if the header does not fit). */
  verifyChecksum(): boolean {
    const hl = this.headerLen;
    if (hl < IPV4_HEADER_LEN || hl > this.length) return false;
    return internetChecksum(this.bytes, this.offset, hl) === 0;
  }
  /** Offset of the payload in {@link PacketView.bytes} (options skipped). */
  get payloadOffset(): number {
    return this.offset + this.headerLen;
  }
  /** Set version 4 and the header length in bytes (a multiple of 4). */
  setVersionAndHeaderLen(headerLen: number): void {
    this.set8(Ipv4Field.VER_IHL, 0x40 | ((headerLen >>> 2) & 0x0f));
  }
  /** Set the DSCP/ECN byte. */
  setDscpEcn(v: number): void {
    this.set8(Ipv4Field.DSCP_ECN, v);
  }
  /** Set the total length. */
  setTotalLen(v: number): void {
    this.set16(Ipv4Field.LENGTH, v);
  }
  /** Set the identification. */
  setIdent(v: number): void {
    this.set16(Ipv4Field.IDENT, v);
  }
  /** Set flags and fragment offset: DF, MF and the offset in bytes (a multiple of 8). */
  setFragment(dontFragment: boolean, moreFragments: boolean, offsetBytes: number): void {
    this.set16(
      Ipv4Field.FLAGS_FRAG,
      (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | ((offsetBytes >>> 3) & 0x1fff),
    );
  }
  /** Set the TTL. */
  setTtl(v: number): void {
    this.set8(Ipv4Field.TTL, v);
  }
  /** Set the protocol. */
  setProtocol(v: number): void {
    this.set8(Ipv4Field.PROTOCOL, v);
  }
  /** Set the checksum field. */
  setChecksum(v: number): void {
    this.set16(Ipv4Field.CHECKSUM, v);
  }
  /** Set the source address. */
  setSrc(v: Ipv4Address): void {
    this.set32(Ipv4Field.SRC, v);
  }
  /** Set the destination address. */
  setDst(v: Ipv4Address): void {
    this.set32(Ipv4Field.DST, v);
  }
  /** Compute and store the header checksum. */
  fillChecksum(): void {
    this.setChecksum(0);
    this.setChecksum(
      internetChecksum(this.bytes, this.offset, Math.min(this.headerLen, this.length)),
    );
  }
}

/** A validated IPv4 header. */
export class Ipv4Repr {
  /** Source address. */
  src: Ipv4Address = 0;
  /** Destination address. */
  dst: Ipv4Address = 0;
  /** Protocol number of the payload. */
  protocol = 0;
  /** Payload length (total length − header length). */
  payloadLen = 0;
  /** Time to live. */
  ttl = IPV4_DEFAULT_TTL;
  /** Identification. */
  ident = 0;
  /** DSCP/ECN byte. */
  dscpEcn = 0;
  /** Don't-fragment flag. */
  dontFragment = false;
  /** More-fragments flag (parse only; emit never fragments). */
  moreFragments = false;
  /** Fragment offset in bytes (parse only). */
  fragmentOffset = 0;
  /** Header length of the parsed packet, options included (emit always writes 20). */
  headerLen = IPV4_HEADER_LEN;

  /**
   * Parse into `out` (reused). `'truncated'` if the buffer is shorter than the header or the
   * total length; `'malformed'` for a version other than 4, IHL < 5 or total length < header
   * length; `'bad-checksum'` if the header checksum fails. Fragments parse: the interface decides.
   */
  static parse(packet: Ipv4Packet, out: Ipv4Repr = new Ipv4Repr()): Ipv4Repr | WireError {
    if (packet.length < IPV4_HEADER_LEN) return 'truncated';
    if (packet.version !== 4) return 'malformed';
    const hl = packet.headerLen;
    if (hl < IPV4_HEADER_LEN) return 'malformed';
    if (packet.length < hl) return 'truncated';
    const total = packet.totalLen;
    if (total < hl) return 'malformed';
    if (packet.length < total) return 'truncated';
    if (!packet.verifyChecksum()) return 'bad-checksum';
    out.src = packet.src;
    out.dst = packet.dst;
    out.protocol = packet.protocol;
    out.payloadLen = total - hl;
    out.ttl = packet.ttl;
    out.ident = packet.ident;
    out.dscpEcn = packet.dscpEcn;
    out.dontFragment = packet.dontFragment;
    out.moreFragments = packet.moreFragments;
    out.fragmentOffset = packet.fragmentOffset;
    out.headerLen = hl;
    return out;
  }

  /** True if the parsed packet is a fragment (MF set or a non-zero offset). */
  isFragment(): boolean {
    return this.moreFragments || this.fragmentOffset !== 0;
  }

  /** Bytes the emitted header occupies (no options). */
  bufferLen(): number {
    return IPV4_HEADER_LEN;
  }

  /** Write a 20-byte header with its checksum; the payload is the caller's. */
  emit(packet: Ipv4Packet): void {
    packet.setVersionAndHeaderLen(IPV4_HEADER_LEN);
    packet.setDscpEcn(this.dscpEcn);
    packet.setTotalLen(IPV4_HEADER_LEN + this.payloadLen);
    packet.setIdent(this.ident);
    packet.setFragment(this.dontFragment, false, 0);
    packet.setTtl(this.ttl);
    packet.setProtocol(this.protocol);
    packet.setSrc(this.src);
    packet.setDst(this.dst);
    packet.fillChecksum();
  }
}
