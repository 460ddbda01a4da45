import { describe, expect, it } from 'vitest';
import { UdpEchoService } from '../app/echo.js';
import { Stack } from '../iface/stack.js';
import { FrameSink } from '../testing/frames.js';
import { CAPTURE_ARP_REQUEST, CAPTURE_PING_REQUEST } from '../testing/vectors.js';
import { parseIpv4 } from '../wire/address.js';
import { FrameDevice, loopbackPair } from './frame-device.js';
import {
  LINKTYPE_ETHERNET,
  PCAP_HEADER_LEN,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
  PcapDevice,
  PcapTap,
  PcapWriter,
  readPcap,
} from './pcap.js';

describe('pcap writer', () => {
  it('writes a libpcap file: nanosecond magic, version 2.4, Ethernet, one record per frame', () => {
    let t = 5_123_456_789; // ns since the start of a run
    const w = new PcapWriter({ clockNs: () => t, snaplen: 65535 });
    w.write(CAPTURE_ARP_REQUEST);
    t += 1500;
    w.write(CAPTURE_PING_REQUEST, 0, CAPTURE_PING_REQUEST.length);
    const file = w.bytes();
    const v = new DataView(file.buffer);
    expect(v.getUint32(0, true)).toBe(PCAP_MAGIC_NANO);
    expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([2, 4]);
    expect(v.getUint32(16, true)).toBe(65535);
    expect(v.getUint32(20, true)).toBe(LINKTYPE_ETHERNET);
    // Record headers: caplen and origlen equal the frame lengths.
    expect(v.getUint32(PCAP_HEADER_LEN + 8, true)).toBe(60);
    expect(v.getUint32(PCAP_HEADER_LEN + 12, true)).toBe(60);
    expect(file.length).toBe(24 + 16 + 60 + 16 + 98);
    const parsed = readPcap(file);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.resolution).toBe('nano');
    expect(parsed.records.map((r) => r.data.length)).toEqual([60, 98]);
    expect(parsed.records[1]!.data).toEqual(CAPTURE_PING_REQUEST);
    expect(parsed.records[0]!.timeNs).toBe(5_123_456_789n);
    expect(parsed.records[1]!.timeNs - parsed.records[0]!.timeNs).toBe(1500n);
  });

  it('writes microsecond captures and cuts frames to the snap length', () => {
    const w = new PcapWriter({ resolution: 'micro', snaplen: 40, clockNs: () => 2_000_001_000 });
    w.write(CAPTURE_PING_REQUEST);
    const file = w.bytes();
    expect(new DataView(file.buffer).getUint32(0, true)).toBe(PCAP_MAGIC_MICRO);
    const parsed = readPcap(file);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.records[0]!.data.length).toBe(40);
    expect(parsed.records[0]!.origLen).toBe(98);
    expect(parsed.records[0]!.timeNs).toBe(2_000_001_000n);
  });

  it('streams to a sink chunk by chunk', () => {
    const chunks: number[] = [];
    const w = new PcapWriter({ sink: (c) => chunks.push(c.length), clockNs: () => 0 });
    w.write(CAPTURE_ARP_REQUEST);
    expect(chunks).toEqual([24, 16, 60]);
  });

  it('reports a cut-short or foreign file instead of throwing', () => {
    const w = new PcapWriter({ clockNs: () => 0 });
    w.write(CAPTURE_PING_REQUEST);
    const file = w.bytes();
    expect(readPcap(file.subarray(0, file.length - 1))).toMatchObject({
      records: [],
      cut: { at: 24, reason: 'truncated record data' },
    });
    expect(readPcap(new Uint8Array(24))).toBe('bad magic');
  });

  it('records a frame stream as middleware between endpoints', () => {
    const w = new PcapWriter({ clockNs: () => 0 });
    const sink = new FrameSink();
    const tap = new PcapTap(w, sink);
    tap.receive(CAPTURE_ARP_REQUEST);
    expect(sink.frames).toHaveLength(1);
    expect(w.frames).toBe(1);
  });

  it('records everything a stack receives and sends through its netif', () => {
    const [devA, devB] = loopbackPair();
    const w = new PcapWriter({ clockNs: () => 0 });
    const a = new Stack({
      mac: '02:00:00:00:00:0a',
      ip: '10.0.0.1',
      device: new PcapDevice(devA, w),
      now: () => 0,
    });
    const b = new Stack({ mac: '02:00:00:00:00:0b', ip: '10.0.0.2', device: devB, now: () => 0 });
    new UdpEchoService(b);
    a.udpBind(1000).sendTo(new Uint8Array(100), parseIpv4('10.0.0.2'), 7);
    for (let i = 0; i < 5; i++) {
      a.poll(0);
      b.poll(0);
    }
    const parsed = readPcap(w.bytes());
    if (typeof parsed === 'string') throw new Error(parsed);
    // ARP request, ARP reply, UDP out, UDP echo back.
    expect(parsed.records.map((r) => r.data.length)).toEqual([60, 60, 142, 142]);
    expect(new FrameDevice().mtu).toBe(1514);
  });
});
