import { describe, expect, it } from 'vitest';
import {
  CAPTURE_PING_REQUEST,
  CAPTURE_PONG_554,
  IPV4_WITH_OPTIONS_HEADER,
  SMOLTCP_IPV4_REPR,
  WIKIPEDIA_IPV4_HEADER,
} from '../testing/vectors.js';
import { formatIpv4, ipv4 } from './address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from './ipv4.js';

const ipOf = (frame: Uint8Array) => frame.subarray(14);

describe('IPv4', () => {
  it('deconstructs a captured packet (CS472 frame 362)', () => {
    const p = new Ipv4Packet(ipOf(CAPTURE_PING_REQUEST));
    expect(p.version).toBe(4);
    expect(p.headerLen).toBe(20);
    expect(p.dscpEcn).toBe(0);
    expect(p.totalLen).toBe(84);
    expect(p.ident).toBe(0x2aec);
    expect(p.dontFragment).toBe(false);
    expect(p.moreFragments).toBe(false);
    expect(p.fragmentOffset).toBe(0);
    expect(p.ttl).toBe(64);
    expect(p.protocol).toBe(IpProtocol.Icmp);
    expect(p.checksum).toBe(0x8931);
    expect(formatIpv4(p.src)).toBe('192.168.50.99');
    expect(formatIpv4(p.dst)).toBe('144.118.67.10');
    expect(p.verifyChecksum()).toBe(true);
  });

  it('constructs the captured header field by field, checksum included', () => {
    const bytes = new Uint8Array(20);
    const p = new Ipv4Packet(bytes);
    p.setVersionAndHeaderLen(20);
    p.setDscpEcn(0x60);
    p.setTotalLen(84);
    p.setIdent(0);
    p.setFragment(false, false, 0);
    p.setTtl(119);
    p.setProtocol(IpProtocol.Icmp);
    p.setSrc(ipv4(8, 8, 8, 8));
    p.setDst(ipv4(192, 168, 1, 235));
    p.fillChecksum();
    expect(bytes).toEqual(ipOf(CAPTURE_PONG_554).subarray(0, 20));
  });

  it('parses a real header and skips options: payload starts at IHL × 4', () => {
    const r = Ipv4Repr.parse(new Ipv4Packet(WIKIPEDIA_IPV4_HEADER, 0, 20));
    // The Wikipedia header says total length 0x73 but carries no payload here.
    expect(r).toBe('truncated');
    const withPayload = new Uint8Array(0x73);
    withPayload.set(WIKIPEDIA_IPV4_HEADER);
    const ok = Ipv4Repr.parse(new Ipv4Packet(withPayload));
    if (typeof ok === 'string') throw new Error(ok);
    expect(ok.protocol).toBe(IpProtocol.Udp);
    expect(ok.payloadLen).toBe(0x73 - 20);
    expect(ok.dontFragment).toBe(true);

    const opts = new Ipv4Packet(IPV4_WITH_OPTIONS_HEADER);
    expect(opts.headerLen).toBe(32);
    expect(opts.verifyChecksum()).toBe(true);
    expect(opts.payloadOffset).toBe(32);
    const full = new Uint8Array(40);
    full.set(IPV4_WITH_OPTIONS_HEADER);
    const r2 = Ipv4Repr.parse(new Ipv4Packet(full));
    if (typeof r2 === 'string') throw new Error(r2);
    expect(r2.headerLen).toBe(32);
    expect(r2.payloadLen).toBe(8);
  });

  it('parses and emits smoltcp’s representation vector byte for byte', () => {
    const r = Ipv4Repr.parse(new Ipv4Packet(SMOLTCP_IPV4_REPR));
    if (typeof r === 'string') throw new Error(r);
    expect(r.src).toBe(ipv4(0x11, 0x12, 0x13, 0x14));
    expect(r.dst).toBe(ipv4(0x21, 0x22, 0x23, 0x24));
    expect(r.protocol).toBe(IpProtocol.Icmp);
    expect(r.payloadLen).toBe(4);
    expect(r.ttl).toBe(64);
    const out = new Uint8Array(24);
    const e = new Ipv4Repr();
    Object.assign(e, {
      src: r.src,
      dst: r.dst,
      protocol: 1,
      payloadLen: 4,
      ttl: 64,
      dontFragment: true,
    });
    e.emit(new Ipv4Packet(out));
    out.set(SMOLTCP_IPV4_REPR.subarray(20), 20);
    expect(out).toEqual(SMOLTCP_IPV4_REPR);
  });

  it('returns errors as values', () => {
    const pkt = ipOf(CAPTURE_PING_REQUEST).slice();
    expect(Ipv4Repr.parse(new Ipv4Packet(pkt, 0, 19))).toBe('truncated');
    expect(Ipv4Repr.parse(new Ipv4Packet(pkt, 0, 83))).toBe('truncated');
    const v6 = pkt.slice();
    v6[0] = 0x65;
    expect(Ipv4Repr.parse(new Ipv4Packet(v6))).toBe('malformed');
    const shortIhl = pkt.slice();
    shortIhl[0] = 0x44;
    expect(Ipv4Repr.parse(new Ipv4Packet(shortIhl))).toBe('malformed');
    const shortTotal = pkt.slice();
    shortTotal[3] = 10;
    expect(Ipv4Repr.parse(new Ipv4Packet(shortTotal))).toBe('malformed');
    const corrupt = pkt.slice();
    corrupt[8] = 63; // TTL changed, checksum not updated
    expect(Ipv4Repr.parse(new Ipv4Packet(corrupt))).toBe('bad-checksum');
  });

  it('recognises fragments', () => {
    const frag = new Uint8Array(ipOf(CAPTURE_PING_REQUEST));
    const p = new Ipv4Packet(frag);
    p.setFragment(false, true, 0);
    p.fillChecksum();
    const r = Ipv4Repr.parse(p);
    if (typeof r === 'string') throw new Error(r);
    expect(r.isFragment()).toBe(true);
  });
});
