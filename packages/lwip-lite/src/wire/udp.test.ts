import { describe, expect, it } from 'vitest';
import { CAPTURE_TIME_EXCEEDED, SMOLTCP_UDP } from '../testing/vectors.js';
import { ipv4 } from './address.js';
import { UdpPacket, UdpRepr } from './udp.js';

const SMOL_SRC = ipv4(192, 168, 1, 1);
const SMOL_DST = ipv4(192, 168, 1, 2);
// The traceroute datagram quoted in CS472 frame 198.
const TR_SRC = ipv4(192, 168, 50, 99);
const TR_DST = ipv4(144, 118, 67, 10);
const TR_UDP = CAPTURE_TIME_EXCEEDED.subarray(62, 62 + 32);

describe('UDP', () => {
  it('deconstructs smoltcp’s vector and a captured datagram', () => {
    const p = new UdpPacket(SMOLTCP_UDP);
    expect(p.srcPort).toBe(48896);
    expect(p.dstPort).toBe(53);
    expect(p.len).toBe(12);
    expect(p.checksum).toBe(0x124d);
    expect(p.verifyChecksum(SMOL_SRC, SMOL_DST)).toBe(true);

    const t = new UdpPacket(TR_UDP);
    expect(t.srcPort).toBe(59962);
    expect(t.dstPort).toBe(33435);
    expect(t.len).toBe(32);
    expect(t.checksum).toBe(0xcc4b);
    expect(t.verifyChecksum(TR_SRC, TR_DST)).toBe(true);
    expect(t.verifyChecksum(TR_SRC, ipv4(144, 118, 67, 11))).toBe(false);
  });

  it('constructs the captured datagram, pseudo-header checksum included', () => {
    const bytes = new Uint8Array(32);
    const p = new UdpPacket(bytes);
    p.setSrcPort(59962);
    p.setDstPort(33435);
    p.setLen(32);
    p.fillChecksum(TR_SRC, TR_DST);
    expect(bytes).toEqual(TR_UDP);
  });

  it('parses, accepting a zero checksum as "none"', () => {
    const r = UdpRepr.parse(new UdpPacket(SMOLTCP_UDP), SMOL_SRC, SMOL_DST);
    if (typeof r === 'string') throw new Error(r);
    expect(r.srcPort).toBe(48896);
    expect(r.dstPort).toBe(53);
    expect(r.payloadLen).toBe(4);
    const none = SMOLTCP_UDP.slice();
    none[6] = 0;
    none[7] = 0;
    expect(typeof UdpRepr.parse(new UdpPacket(none), SMOL_SRC, SMOL_DST)).toBe('object');
  });

  it('emits smoltcp’s vector from a representation', () => {
    const bytes = new Uint8Array(12);
    bytes.set([0xaa, 0x00, 0x00, 0xff], 8);
    const r = new UdpRepr();
    Object.assign(r, { srcPort: 48896, dstPort: 53, payloadLen: 4 });
    r.emit(new UdpPacket(bytes), SMOL_SRC, SMOL_DST);
    expect(bytes).toEqual(SMOLTCP_UDP);
  });

  it('sends a computed checksum of zero as ffff (RFC 768)', () => {
    // Payload chosen so the sum is ffff: the checksum field would be 0.
    const bytes = new Uint8Array(10);
    const p = new UdpPacket(bytes);
    p.setSrcPort(0);
    p.setDstPort(0);
    p.setLen(10);
    p.fillChecksum(0, 0);
    const c = p.checksum;
    bytes[8] = c >>> 8;
    bytes[9] = c & 0xff;
    p.fillChecksum(0, 0);
    expect(p.checksum).toBe(0xffff);
    expect(p.verifyChecksum(0, 0)).toBe(true);
  });

  it('returns errors as values', () => {
    expect(UdpRepr.parse(new UdpPacket(SMOLTCP_UDP, 0, 7), SMOL_SRC, SMOL_DST)).toBe('truncated');
    expect(UdpRepr.parse(new UdpPacket(SMOLTCP_UDP, 0, 11), SMOL_SRC, SMOL_DST)).toBe('truncated');
    const short = SMOLTCP_UDP.slice();
    short[5] = 7;
    expect(UdpRepr.parse(new UdpPacket(short), SMOL_SRC, SMOL_DST)).toBe('malformed');
    const bad = SMOLTCP_UDP.slice();
    bad[11] = 0xfe;
    expect(UdpRepr.parse(new UdpPacket(bad), SMOL_SRC, SMOL_DST)).toBe('bad-checksum');
  });
});
