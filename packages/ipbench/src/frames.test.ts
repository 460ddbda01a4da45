import { describe, expect, it } from 'vitest';
import {
  checkUdpFrame,
  FrameCheck,
  parseIpv4,
  parseMac,
  sealUdpFrame,
  swapUdpFrameInPlace,
  UDP_PAYLOAD_OFFSET,
  type UdpFlow,
  udpDstPort,
  udpFrameLength,
  udpPayloadLength,
  writeUdpHeaders,
} from './frames.js';

const flow: UdpFlow = {
  srcMac: parseMac('02:00:00:00:00:01'),
  dstMac: parseMac('02:00:00:00:00:fe'),
  srcIp: parseIpv4('192.168.0.1'),
  dstIp: parseIpv4('192.168.0.199'),
  srcPort: 9000,
  dstPort: 7,
};

describe('frames', () => {
  it('writes the IPv4 header checksum of the well-known example header (0xb861)', () => {
    // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7: total length 0x73 → 87 payload bytes.
    const f = new Uint8Array(udpFrameLength(87));
    writeUdpHeaders(f, flow, 87);
    expect(Array.from(f.subarray(14, 34), (b) => b.toString(16).padStart(2, '0')).join('')).toBe(
      '4500007300004000401' + '1b861c0a80001c0a800c7',
    );
  });

  it('computes the UDP checksum over the pseudo-header as RFC 768 / RFC 1071 define it', () => {
    const f = new Uint8Array(udpFrameLength(4));
    writeUdpHeaders(
      f,
      {
        ...flow,
        srcIp: parseIpv4('10.0.0.2'),
        dstIp: parseIpv4('10.0.0.1'),
        srcPort: 1,
        dstPort: 2,
      },
      4,
    );
    f.set([0xde, 0xad, 0xbe, 0xef], UDP_PAYLOAD_OFFSET);
    sealUdpFrame(f, 4);
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
    expect(checkUdpFrame(f)).toBe(FrameCheck.Ok);
  });

  it('pads short frames to 60 bytes and reads lengths back', () => {
    expect(udpFrameLength(10)).toBe(60);
    const f = new Uint8Array(udpFrameLength(1024));
    writeUdpHeaders(f, flow, 1024);
    sealUdpFrame(f, 1024);
    expect(f.length).toBe(1066);
    expect(udpPayloadLength(f)).toBe(1024);
    expect(udpDstPort(f)).toBe(7);
  });

  it('detects a corrupted payload and a non-UDP frame without throwing', () => {
    const f = new Uint8Array(udpFrameLength(64));
    writeUdpHeaders(f, flow, 64);
    sealUdpFrame(f, 64);
    f[UDP_PAYLOAD_OFFSET + 3]! ^= 0x40;
    expect(checkUdpFrame(f)).toBe(FrameCheck.BadChecksum);
    expect(checkUdpFrame(new Uint8Array(10))).toBe(FrameCheck.NotUdp);
    const arp = new Uint8Array(60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(checkUdpFrame(arp)).toBe(FrameCheck.NotUdp);
  });

  it('swapping addresses for the echo keeps both checksums valid', () => {
    const f = new Uint8Array(udpFrameLength(100));
    writeUdpHeaders(f, flow, 100);
    f.fill(7, UDP_PAYLOAD_OFFSET);
    sealUdpFrame(f, 100);
    swapUdpFrameInPlace(f);
    expect(checkUdpFrame(f)).toBe(FrameCheck.Ok);
    expect(udpDstPort(f)).toBe(9000);
    expect(Array.from(f.subarray(0, 6))).toEqual(Array.from(flow.srcMac));
  });

  it('rejects malformed addresses with a typed error', () => {
    expect(() => parseMac('02:00:00')).toThrow(
      expect.objectContaining({ code: 'IPBENCH_BAD_ADDRESS' }),
    );
    expect(() => parseIpv4('10.0.0.256')).toThrow(
      expect.objectContaining({ code: 'IPBENCH_BAD_ADDRESS' }),
    );
  });
});
