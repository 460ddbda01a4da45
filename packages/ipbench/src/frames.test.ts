import { describe, expect, it } from 'vitest';
import {
  FrameCheck,
  parseIpv4,
  parseMac,
  swapUdpFrameInPlace,
  UDP_PAYLOAD_OFFSET,
  type UdpFlow,
  UdpFrameReader,
  UdpFrameWriter,
  udpFrameLength,
  WIRE_OVERHEAD_BYTES,
} from './frames.js';

const flow: UdpFlow = {
  srcMac: parseMac('02:00:00:00:00:01'),
  dstMac: parseMac('02:00:00:00:00:fe'),
  srcIp: parseIpv4('192.168.0.1'),
  dstIp: parseIpv4('192.168.0.199'),
  srcPort: 9000,
  dstPort: 7,
};

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A sealed frame of `flow` carrying `payload`. */
function sealed(payload: Uint8Array, f: UdpFlow = flow): Uint8Array {
  const frame = new Uint8Array(udpFrameLength(payload.length));
  const writer = new UdpFrameWriter(f);
  writer.writeHeaders(frame, payload.length);
  frame.set(payload, UDP_PAYLOAD_OFFSET);
  writer.seal(frame, payload.length);
  return frame;
}

describe('frames', () => {
  it('writes the IPv4 header checksum of the well-known example header (0xb861)', () => {
    // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7: total length 0x73 → 87 payload bytes.
    const f = new Uint8Array(udpFrameLength(87));
    new UdpFrameWriter(flow).writeHeaders(f, 87);
    expect(hex(f.subarray(0, 14))).toBe('0200000000fe' + '020000000001' + '0800');
    expect(hex(f.subarray(14, 34))).toBe('4500007300004000401' + '1b861c0a80001c0a800c7');
    expect(hex(f.subarray(34, 40))).toBe('2328' + '0007' + '005f');
  });

  it('computes the UDP checksum over the pseudo-header as RFC 768 / RFC 1071 define it', () => {
    const f = sealed(Uint8Array.of(0xde, 0xad, 0xbe, 0xef), {
      ...flow,
      srcIp: parseIpv4('10.0.0.2'),
      dstIp: parseIpv4('10.0.0.1'),
      srcPort: 1,
      dstPort: 2,
    });
    // pseudo: 0a00+0002+0a00+0001+0011+000c, udp: 0001+0002+000c, data: dead+beef
    let s =
      0x0a00 +
      0x0002 +
      0x0a00 +
      0x0001 +
      0x0011 +
      0x000c +
      0x0001 +
      0x0002 +
      0x000c +
      0xdead +
      0xbeef;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    expect((f[40]! << 8) | f[41]!).toBe(~s & 0xffff);
    expect(new UdpFrameReader().check(f)).toBe(FrameCheck.Ok);
  });

  it('pads short frames to 60 bytes and reads lengths, ports and addresses back', () => {
    expect(udpFrameLength(10)).toBe(60);
    expect(WIRE_OVERHEAD_BYTES).toBe(UDP_PAYLOAD_OFFSET + 4 + 8 + 12); // + FCS, preamble, gap
    const f = sealed(new Uint8Array(1024));
    expect(f.length).toBe(1066);
    const reader = new UdpFrameReader();
    expect(reader.check(f)).toBe(FrameCheck.Ok);
    expect(reader.payloadLength).toBe(1024);
    expect(reader.udp.payloadOffset).toBe(UDP_PAYLOAD_OFFSET);
    expect(reader.udp.dstPort).toBe(7);
    expect(reader.ip.dst).toBe(parseIpv4('192.168.0.199'));
  });

  it('tells a corrupted payload or IPv4 header from a frame that is not UDP, without throwing', () => {
    const reader = new UdpFrameReader();
    const payload = sealed(new Uint8Array(64).fill(3));
    payload[UDP_PAYLOAD_OFFSET + 3]! ^= 0x40;
    expect(reader.check(payload)).toBe(FrameCheck.BadChecksum);
    const header = sealed(new Uint8Array(64));
    header[14 + 8]! ^= 0x01; // TTL
    expect(reader.check(header)).toBe(FrameCheck.BadChecksum);
    expect(reader.check(new Uint8Array(10))).toBe(FrameCheck.NotUdp);
    const arp = new Uint8Array(60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(reader.check(arp)).toBe(FrameCheck.NotUdp);
  });

  it('rejects frames outside ipbench’s layout as not UDP, even when a checksum is also wrong', () => {
    const reader = new UdpFrameReader();
    const options = sealed(new Uint8Array(64));
    options[14] = 0x46; // IHL 6: an options word the probe offset does not allow for
    expect(reader.check(options)).toBe(FrameCheck.NotUdp);
    const icmp = sealed(new Uint8Array(64));
    icmp[14 + 9] = 1;
    expect(reader.check(icmp)).toBe(FrameCheck.NotUdp);
    const udpShort = sealed(new Uint8Array(64));
    udpShort[39] -= 1; // UDP length one less than IPv4 says
    expect(reader.check(udpShort)).toBe(FrameCheck.NotUdp);
    const cut = sealed(new Uint8Array(64));
    expect(reader.check(cut, cut.length - 1)).toBe(FrameCheck.NotUdp);
  });

  it('swapping addresses for the echo keeps both checksums valid', () => {
    const f = sealed(new Uint8Array(100).fill(7));
    const reader = new UdpFrameReader();
    swapUdpFrameInPlace(f);
    expect(reader.check(f)).toBe(FrameCheck.Ok);
    expect(hex(f.subarray(0, 12))).toBe('020000000001' + '0200000000fe');
    expect(hex(f.subarray(26, 34))).toBe('c0a800c7' + 'c0a80001');
    expect(reader.udp.dstPort).toBe(9000);
    expect(reader.udp.srcPort).toBe(7);
  });

  it('rejects malformed addresses with a typed error', () => {
    expect(parseMac('2:0:0:0:0:a')).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 10));
    expect(() => parseMac('02:00:00')).toThrow(
      expect.objectContaining({ code: 'IPBENCH_BAD_ADDRESS' }),
    );
    expect(() => parseIpv4('10.0.0.256')).toThrow(
      expect.objectContaining({ code: 'IPBENCH_BAD_ADDRESS' }),
    );
  });
});
