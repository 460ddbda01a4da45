import { describe, expect, it } from 'vitest';
import { UdpEchoService } from '../app/echo.js';
import { FrameDevice, loopbackPair } from '../phy/frame-device.js';
import { UdpDatagram } from '../socket/udp.js';
import { arpFrame, FrameSink, pingFrame, udpFrame } from '../testing/frames.js';
import {
  CAPTURE_ARP_REQUEST,
  CAPTURE_PING_REQUEST,
  CAPTURE_TIME_EXCEEDED,
} from '../testing/vectors.js';
import {
  formatIpv4,
  formatMac,
  ipv4,
  MAC_BROADCAST,
  parseIpv4,
  parseMac,
} from '../wire/address.js';
import { ArpOperation, ArpPacket, ArpRepr } from '../wire/arp.js';
import { EthernetFrame, EtherType } from '../wire/ethernet.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Type } from '../wire/icmpv4.js';
import { Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { LWIP_COSTS } from './costs.js';
import { type InputDrops, inputOutcomes } from './counters.js';
import { Stack, type StackOptions } from './stack.js';

const MAC_A = parseMac('02:00:00:00:00:0a');
const MAC_B = parseMac('02:00:00:00:00:0b');
const MAC_X = parseMac('02:00:00:00:00:99');
const IP_A = parseIpv4('10.0.0.1');
const IP_B = parseIpv4('10.0.0.2');
const IP_X = parseIpv4('10.0.0.99');

/** A stack on a device whose transmitted frames land in a sink; a clock the test controls. */
function harness(options: Partial<StackOptions> = {}, device = new FrameDevice({ rxBuffers: 16 })) {
  const sink = new FrameSink();
  device.connect(sink);
  const clock = { t: 0 };
  const stack = new Stack({ mac: MAC_A, ip: IP_A, device, now: () => clock.t, ...options });
  const feed = (frame: Uint8Array) => {
    device.receive(frame);
    stack.poll(clock.t);
  };
  return { stack, device, sink, clock, feed };
}

function twoStacks() {
  const [devA, devB] = loopbackPair({ rxBuffers: 16, txBuffers: 16 });
  const replies: number[] = [];
  const clock = { t: 0 };
  const a = new Stack({
    mac: MAC_A,
    ip: IP_A,
    device: devA,
    now: () => clock.t,
    onEchoReply: (_src, _id, seq) => replies.push(seq),
  });
  const b = new Stack({ mac: MAC_B, ip: IP_B, device: devB, now: () => clock.t });
  const settle = () => {
    let n = 1;
    while (n > 0) n = a.poll(clock.t) + b.poll(clock.t);
  };
  return { a, b, devA, devB, replies, clock, settle };
}

describe('Stack: answering real captured frames', () => {
  it('answers the captured ARP request for its address and learns the sender (CS472 frame 78)', () => {
    const { stack, sink, feed } = harness({ mac: 'c8:89:f3:ea:93:14', ip: '192.168.50.99' });
    feed(CAPTURE_ARP_REQUEST);
    expect(stack.counters.arpHandled).toBe(1);
    expect(sink.frames).toHaveLength(1);
    const reply = sink.frames[0]!;
    const eth = new EthernetFrame(reply);
    expect(formatMac(eth.dst())).toBe('a0:36:bc:62:ed:50');
    expect(eth.ethertype).toBe(EtherType.Arp);
    const r = ArpRepr.parse(new ArpPacket(reply, 14));
    if (typeof r === 'string') throw new Error(r);
    expect(r.operation).toBe(ArpOperation.Reply);
    expect(formatMac(r.senderHardwareAddr)).toBe('c8:89:f3:ea:93:14');
    expect(formatIpv4(r.senderProtocolAddr)).toBe('192.168.50.99');
    expect(formatMac(r.targetHardwareAddr)).toBe('a0:36:bc:62:ed:50');
    expect(formatIpv4(r.targetProtocolAddr)).toBe('192.168.50.1');
    expect(stack.arpEntries().map((e) => [formatIpv4(e.ip), e.state])).toEqual([
      ['192.168.50.1', 'resolved'],
    ]);
  });

  it('answers the captured ping (CS472 frame 362) with one copy of its 64-byte message', () => {
    const { stack, sink, feed } = harness({
      mac: 'a0:36:bc:62:ed:50',
      ip: '144.118.67.10',
      netmask: '0.0.0.0',
    });
    // Let the stack learn the pinger's MAC first (an ARP request from it, for us).
    feed(
      arpFrame(
        {
          srcMac: parseMac('c8:89:f3:ea:93:14'),
          dstMac: MAC_BROADCAST,
          srcIp: parseIpv4('192.168.50.99'),
          dstIp: parseIpv4('144.118.67.10'),
        },
        ArpOperation.Request,
      ),
    );
    sink.frames.length = 0;
    feed(CAPTURE_PING_REQUEST);
    expect(stack.counters.icmpHandled).toBe(1);
    expect(stack.counters.copyOps).toBe(1);
    expect(stack.counters.copyBytes).toBe(64);
    const reply = sink.frames[0]!;
    expect(formatMac(new EthernetFrame(reply).dst())).toBe('c8:89:f3:ea:93:14');
    const ip = Ipv4Repr.parse(new Ipv4Packet(reply, 14));
    if (typeof ip === 'string') throw new Error(ip);
    expect(formatIpv4(ip.src)).toBe('144.118.67.10');
    expect(formatIpv4(ip.dst)).toBe('192.168.50.99');
    const icmp = new Icmpv4Packet(reply, 34, ip.payloadLen);
    const r = Icmpv4Repr.parse(icmp);
    if (typeof r === 'string') throw new Error(r);
    expect(r.msgType).toBe(Icmpv4Type.EchoReply);
    expect(r.ident).toBe(0x4859);
    expect(reply.subarray(42, 98)).toEqual(CAPTURE_PING_REQUEST.subarray(42, 98));
  });

  it('drops a captured ICMP time-exceeded as unsupported (CS472 frame 198)', () => {
    const { stack, feed } = harness({ mac: 'c8:89:f3:ea:93:14', ip: '192.168.50.99' });
    feed(CAPTURE_TIME_EXCEEDED);
    expect(stack.counters.icmpIn).toBe(1);
    expect(stack.counters.drops.unsupported).toBe(1);
  });
});

describe('Stack: two stacks on a loopback wire', () => {
  it('resolves ARP, answers ping, and echoes UDP with one copy per echo', () => {
    const { a, b, devA, devB, replies, settle } = twoStacks();
    const echo = new UdpEchoService(b);

    expect(a.ping(IP_B, 7, 1)).toBe(true);
    expect(a.arpQueued).toBe(1);
    settle();
    expect(replies).toEqual([1]);
    expect(a.arpEntries()[0]).toMatchObject({ ip: IP_B, state: 'resolved', mac: MAC_B });
    expect(b.arpEntries()[0]).toMatchObject({ ip: IP_A, state: 'resolved', mac: MAC_A });
    expect(a.counters.arpOut).toBe(1);
    expect(b.counters.arpOut).toBe(1);

    const sock = a.udpBind(5000);
    const payload = new Uint8Array(1024).map((_, i) => (i * 7) & 0xff);
    const copiesBefore = b.counters.copyOps;
    for (let i = 0; i < 10; i++) expect(sock.sendTo(payload, IP_B, 7)).toBe(true);
    settle();
    expect(echo.stats.echoed).toBe(10);
    expect(b.counters.copyOps - copiesBefore).toBe(10);
    expect(sock.queued).toBe(10);
    const d = new UdpDatagram();
    expect(sock.recv(d)).toBe(true);
    expect(d.srcIp).toBe(IP_B);
    expect(d.srcPort).toBe(7);
    expect(d.payload()).toEqual(payload);
    sock.release(d);
    sock.close();
    expect(devA.rxAvailable).toBe(16);
    expect(devB.rxAvailable).toBe(16);
    expect(devA.txAvailable).toBe(16);
    for (const s of [a, b]) expect(inputOutcomes(s.counters)).toBe(s.counters.ethernetIn);
  });

  it('delivers broadcast UDP but ignores broadcast pings', () => {
    const { a, b, replies, settle } = twoStacks();
    const sock = b.udpBind(9);
    a.udpBind(1).sendTo(new Uint8Array([1, 2, 3]), parseIpv4('10.0.0.255'), 9);
    a.udpBind(2).sendTo(new Uint8Array([4]), 0xffffffff, 9);
    settle();
    expect(sock.queued).toBe(2);
    a.ping('10.0.0.255', 1, 1);
    settle();
    expect(replies).toEqual([]);
    expect(b.counters.drops.broadcastEcho).toBe(1);
  });
});

describe('Stack: every drop reason has a counter', () => {
  const peer = { srcMac: MAC_X, dstMac: MAC_A, srcIp: IP_X, dstIp: IP_A };

  /** Apply `change` to the frame and return it. */
  const edit =
    (change: (f: Uint8Array) => void) =>
    (f: Uint8Array): Uint8Array => {
      change(f);
      return f;
    };
  const reIp = (change: (ip: Ipv4Packet) => void) =>
    edit((f) => {
      const ip = new Ipv4Packet(f, 14, 20);
      change(ip);
      ip.fillChecksum();
    });
  const fresh = (make: () => Uint8Array) => () => make();

  const cases: [string, (f: Uint8Array) => Uint8Array, keyof InputDrops][] = [
    ['truncated', (f) => f.subarray(0, 10), 'truncated'],
    ['another MAC', edit((f) => f.set(MAC_B, 0)), 'notForUs'],
    ['an IPv6 EtherType', edit((f) => f.set([0x86, 0xdd], 12)), 'unsupported'],
    [
      'a bad IPv4 checksum',
      edit((f) => {
        f[22]! ^= 1;
      }),
      'badChecksum',
    ],
    [
      'IP version 6',
      edit((f) => {
        f[14] = 0x65;
      }),
      'malformed',
    ],
    [
      'another IP',
      fresh(() => udpFrame({ ...peer, dstIp: IP_B }, 1, 7, new Uint8Array(4))),
      'notForUs',
    ],
    ['a fragment', reIp((ip) => ip.setFragment(false, true, 0)), 'fragment'],
    ['a later fragment', reIp((ip) => ip.setFragment(false, false, 1480)), 'fragment'],
    ['TCP', reIp((ip) => ip.setProtocol(6)), 'unsupported'],
    [
      'a bad UDP checksum',
      edit((f) => {
        f[45]! ^= 1;
      }),
      'badChecksum',
    ],
    ['a UDP length beyond the packet', edit((f) => f.set([0x01, 0x00], 38)), 'truncated'],
    ['a closed port', fresh(() => udpFrame(peer, 1, 4444, new Uint8Array(4))), 'noSocket'],
    [
      'a broadcast source',
      fresh(() => udpFrame({ ...peer, srcIp: 0xffffffff }, 1, 7, new Uint8Array(4))),
      'malformed',
    ],
    [
      'ARP for someone else',
      fresh(() => arpFrame({ ...peer, dstMac: MAC_BROADCAST, dstIp: IP_B }, ArpOperation.Request)),
      'notForUs',
    ],
    [
      'an ICMP redirect',
      fresh(() => {
        const f = pingFrame(peer, 1, 1, 8);
        const p = new Icmpv4Packet(f, 34, 16);
        p.setMsgType(5);
        p.fillChecksum();
        return f;
      }),
      'unsupported',
    ],
    [
      'a bad ICMP checksum',
      fresh(() => {
        const f = pingFrame(peer, 1, 1, 8);
        f[44]! ^= 1;
        return f;
      }),
      'badChecksum',
    ],
  ];

  for (const [what, mutate, counter] of cases) {
    it(`counts ${what} as ${counter}`, () => {
      const { stack, feed } = harness();
      stack.udpBind(7);
      feed(mutate(udpFrame(peer, 1, 7, new Uint8Array([1, 2, 3, 4]))));
      expect(stack.counters.ethernetIn).toBe(1);
      expect(stack.counters.drops[counter]).toBe(1);
      expect(inputOutcomes(stack.counters)).toBe(1);
    });
  }

  it('counts a full socket queue as queueFull and gives the buffer back', () => {
    const { stack, device, feed } = harness();
    const sock = stack.udpBind(7, { queueLength: 2 });
    for (let i = 0; i < 3; i++) feed(udpFrame(peer, 1, 7, new Uint8Array(4)));
    expect(stack.counters.udpDelivered).toBe(2);
    expect(stack.counters.drops.queueFull).toBe(1);
    expect(device.rxAvailable).toBe(16 - 2);
    sock.close();
    expect(device.rxAvailable).toBe(16);
  });
});

describe('Stack: ARP requests, retries, timeouts and the bounded queue', () => {
  it('retries every interval, then drops the queued packet as arpUnresolved', () => {
    const { stack, sink, clock } = harness({ arp: { requestIntervalMs: 1000, maxRequests: 3 } });
    const s = stack.udpBind(1);
    expect(s.sendTo(new Uint8Array(8), IP_X, 9)).toBe(true);
    expect(sink.frames).toHaveLength(1);
    const req = ArpRepr.parse(new ArpPacket(sink.frames[0]!, 14));
    if (typeof req === 'string') throw new Error(req);
    expect(req.operation).toBe(ArpOperation.Request);
    expect(req.targetProtocolAddr).toBe(IP_X);
    expect(formatMac(new EthernetFrame(sink.frames[0]!).dst())).toBe('ff:ff:ff:ff:ff:ff');
    for (const t of [999, 1000, 2000, 3000]) {
      clock.t = t;
      stack.poll(t);
    }
    expect(stack.counters.arpOut).toBe(3);
    expect(stack.counters.txDrops.arpUnresolved).toBe(1);
    expect(stack.arpQueued).toBe(0);
    expect(stack.arpEntries()).toEqual([]);
  });

  it('bounds the queue of packets awaiting resolution and flushes it on the reply', () => {
    const { stack, sink, feed } = harness({ arp: { queueLength: 2 } });
    const s = stack.udpBind(1);
    for (let i = 0; i < 3; i++) s.sendTo(new Uint8Array([i]), IP_X, 9);
    expect(stack.counters.txDrops.arpQueueFull).toBe(1);
    expect(stack.arpQueued).toBe(2);
    expect(sink.frames).toHaveLength(1); // one request, not three
    feed(
      arpFrame(
        { srcMac: MAC_X, dstMac: MAC_A, srcIp: IP_X, dstIp: IP_A },
        ArpOperation.Reply,
        MAC_A,
      ),
    );
    expect(stack.arpQueued).toBe(0);
    expect(sink.frames).toHaveLength(3);
    expect(sink.frames.slice(1).map((f) => formatMac(new EthernetFrame(f).dst()))).toEqual([
      formatMac(MAC_X),
      formatMac(MAC_X),
    ]);
  });

  it('forgets resolved entries after their lifetime', () => {
    const { stack, clock, feed } = harness({ arp: { entryLifetimeMs: 5000 } });
    feed(
      arpFrame(
        { srcMac: MAC_X, dstMac: MAC_BROADCAST, srcIp: IP_X, dstIp: IP_A },
        ArpOperation.Request,
      ),
    );
    expect(stack.arpEntries()).toHaveLength(1);
    clock.t = 5000;
    stack.poll(clock.t);
    expect(stack.arpEntries()).toHaveLength(0);
  });

  it('does not learn from ARP about others, but refreshes entries it has', () => {
    const { stack, feed } = harness();
    feed(
      arpFrame(
        { srcMac: MAC_X, dstMac: MAC_BROADCAST, srcIp: IP_X, dstIp: IP_B },
        ArpOperation.Request,
      ),
    );
    expect(stack.arpEntries()).toEqual([]);
  });

  it('drops off-link packets without a gateway and routes them to one', () => {
    const { stack, sink } = harness();
    expect(stack.udpBind(1).sendTo(new Uint8Array(1), ipv4(8, 8, 8, 8), 53)).toBe(false);
    expect(stack.counters.txDrops.noRoute).toBe(1);
    const g = harness({ gateway: '10.0.0.254' });
    g.stack.udpBind(1).sendTo(new Uint8Array(1), ipv4(8, 8, 8, 8), 53);
    const req = ArpRepr.parse(new ArpPacket(g.sink.frames[0]!, 14));
    if (typeof req === 'string') throw new Error(req);
    expect(formatIpv4(req.targetProtocolAddr)).toBe('10.0.0.254');
    expect(sink.frames).toHaveLength(0);
  });
});

describe('Stack: accounting', () => {
  it('charges protocol work to IP and buffer work to Buffer, with overridable costs', () => {
    const charged = new Map<string, number>();
    const { b, settle } = (() => {
      const [devA, devB] = loopbackPair();
      const a = new Stack({ mac: MAC_A, ip: IP_A, device: devA, now: () => 0 });
      const b = new Stack({
        mac: MAC_B,
        ip: IP_B,
        device: devB,
        now: () => 0,
        charge: (c, n) => charged.set(c, (charged.get(c) ?? 0) + n),
        costs: { udpInput: 1_000_000 },
      });
      new UdpEchoService(b);
      a.udpBind(1).sendTo(new Uint8Array(1024), IP_B, 7);
      return {
        b,
        settle: () => {
          for (let i = 0; i < 10; i++) {
            a.poll(0);
            b.poll(0);
          }
        },
      };
    })();
    settle();
    expect(b.costs.udpInput).toBe(1_000_000);
    expect(b.costs.ipv4Input).toBe(LWIP_COSTS.ipv4Input);
    expect(charged.get('IP')!).toBeGreaterThan(1_000_000);
    expect(charged.get('Buffer')!).toBeGreaterThan(0);
    expect([...charged.keys()].sort()).toEqual(['Buffer', 'IP']);
  });

  it('throws LwipError for misuse: a port bound twice, a bad address', () => {
    const { stack } = harness();
    stack.udpBind(7);
    expect(() => stack.udpBind(7)).toThrow(expect.objectContaining({ code: 'PORT_IN_USE' }));
    expect(() => new Stack({ mac: 'zz', ip: IP_A, device: new FrameDevice() })).toThrow(
      expect.objectContaining({ code: 'ADDRESS' }),
    );
  });
});
