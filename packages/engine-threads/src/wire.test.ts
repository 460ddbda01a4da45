import { createSocket } from 'node:dgram';
import { CMDSTS } from '@udf/driver-dp83820';
import { describe, expect, it } from 'vitest';
import { testFrame } from '../test/nic-components.js';
import { udpEchoLoad } from '../test/udp-load.js';
import { ThreadsEngine } from './engine.js';
import { UdpWire } from './wire.js';

const DEVICES = new URL('../test/devices.ts', import.meta.url).href;
const NIC = new URL('../test/nic-components.ts', import.meta.url).href;
const MAC = [0x02, 0, 0, 0, 0, 0x01];
const PEER = [0x02, 0, 0, 0, 0, 0x99];
const mac = (m: number[]) => m.map((x) => x.toString(16).padStart(2, '0')).join(':');

async function until(what: string, cond: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('the UDP wire (one Ethernet frame per datagram)', () => {
  it(
    'a frame sent by a node:dgram socket reaches the Dp83820 receive path, and the frame it transmits arrives at the socket',
    { timeout: 30_000 },
    async () => {
      const e = new ThreadsEngine({ interruptLines: 16 });
      const drv = e.createDomain('driver');
      const nic = e.createDevice({
        name: 'nic0',
        component: { module: DEVICES, export: 'dp83820', config: { irqLine: 3, mac: mac(MAC) } },
        wire: { kind: 'udp', bind: { address: '127.0.0.1', port: 0 } },
      });
      e.mapDevice(drv, nic, 0x1000_0000);
      const region = e.createRegion(0x4000);
      e.grantRegion(drv, 0x2000_0000, region);
      const out = new SharedArrayBuffer(8 * 8);
      const rxCopy = new SharedArrayBuffer(1514);
      const length = 800;
      const t = e.createThread({
        domain: drv,
        name: 'udp-probe',
        component: {
          module: NIC,
          export: 'udpProbe',
          config: {
            regs: 0x1000_0000,
            mem: 0x2000_0000,
            irqLine: 3,
            mac: MAC,
            peerMac: PEER,
            length,
            out,
            rxCopy,
          },
        },
      });
      const sock = createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const got: Buffer[] = [];
      sock.on('message', (m) => got.push(m));
      await e.start();
      try {
        const addr = e.wires.nic0!;
        expect(addr.address).toBe('127.0.0.1');
        expect(addr.port).toBeGreaterThan(0);
        const o = new Float64Array(out);
        await until('receiver on', () => o[1] === 1);
        // not an Ethernet frame: dropped and counted, never handed to the NIC
        sock.send(Buffer.from([1, 2, 3]), addr.port, addr.address);
        const inbound = testFrame(MAC, PEER, 600, 1);
        sock.send(inbound, addr.port, addr.address);
        await until('frame transmitted back', () => got.length > 0);
        await e.join([t], 10_000);
        expect(o[2]! & CMDSTS.OK).not.toBe(0);
        expect(o[2]! & CMDSTS.SIZE_MASK).toBe(600);
        expect(new Uint8Array(rxCopy).subarray(0, 600)).toEqual(inbound);
        expect(o[3]! & CMDSTS.OWN).toBe(0);
        expect(got).toHaveLength(1);
        expect(new Uint8Array(got[0]!)).toEqual(testFrame(PEER, MAC, length, 9));
      } finally {
        await e.stop();
        sock.close();
      }
      const c = e.deviceCounters!;
      expect(c.wireRx).toBe(1);
      expect(c.wireTx).toBe(1);
      expect(c.wireDropped).toBe(1);
      expect(e.failures).toEqual([]);
    },
  );
});

describe('a reflector driver on the threads engine under UDP load', () => {
  it(
    'reflects 3000 frames sent 16 at a time through the Dp83820, every one back with its bytes intact',
    { timeout: 60_000 },
    async () => {
      const e = new ThreadsEngine({ interruptLines: 8 });
      const drv = e.createDomain('driver');
      const nic = e.createDevice({
        name: 'nic0',
        component: { module: DEVICES, export: 'dp83820', config: { irqLine: 2, mac: mac(MAC) } },
        wire: { kind: 'udp' },
      });
      e.mapDevice(drv, nic, 0x1000_0000);
      const ring = 32;
      e.grantRegion(drv, 0x2000_0000, e.createRegion(0x1_0000 + 2 * ring * 2048));
      const out = new SharedArrayBuffer(8 * 4);
      e.createThread({
        domain: drv,
        name: 'reflector',
        component: {
          module: NIC,
          export: 'reflector',
          config: { regs: 0x1000_0000, mem: 0x2000_0000, irqLine: 2, ring, out },
        },
      });
      await e.start();
      try {
        const o = new Float64Array(out);
        await until('driver ready', () => o[0] === 1);
        const frames = Array.from({ length: 16 }, (_, i) => testFrame(MAC, PEER, 1024, i));
        const expected = frames.map((f) => {
          const x = f.slice();
          x.set(f.subarray(6, 12), 0);
          x.set(f.subarray(0, 6), 6);
          return x;
        });
        // frame i % 16 is in flight at most once at a time (window 16), and comes back swapped
        const r = await udpEchoLoad(
          e.wires.nic0!,
          3000,
          16,
          (i) => frames[i % 16]!,
          (d) => expected.some((x) => x.length === d.length && x.every((v, k) => v === d[k])),
        );
        expect(r.returned).toBe(3000);
        expect(r.intact).toBe(true);
        expect(o[2]).toBe(0);
        expect(e.failures).toEqual([]);
      } finally {
        await e.stop();
      }
    },
  );
});

describe('UdpWire with a fixed peer', () => {
  it('sends transmitted frames to the configured peer and hands arriving datagrams to the port', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const peer = sock.address();
    const arrived: Uint8Array[] = [];
    let frames = 0;
    const port = {
      connect: () => {},
      receive: (f: Uint8Array) => arrived.push(f.slice()),
    };
    const wire = new UdpWire(
      port,
      { kind: 'udp', peer: { address: '127.0.0.1', port: peer.port } },
      () => {
        frames++;
      },
    );
    try {
      const me = await wire.bind();
      const got = new Promise<Buffer>((r) => sock.once('message', (m) => r(m)));
      const f = testFrame(PEER, MAC, 100, 4);
      wire.receive(f); // the NIC transmits before anything arrived: the configured peer gets it
      expect(new Uint8Array(await got)).toEqual(f);
      const big = new Uint8Array(1600); // larger than any Ethernet frame: dropped
      sock.send(big, me.port, me.address);
      const g = testFrame(MAC, PEER, 64, 5);
      sock.send(g, me.port, me.address);
      await until('frame in', () => arrived.length === 1);
      expect(arrived[0]).toEqual(g);
      expect(frames).toBe(1);
      expect(wire.counters).toEqual({ rxFrames: 1, txFrames: 1, dropped: 1 });
    } finally {
      wire.close();
      sock.close();
    }
  });
});

describe('UdpWire sending from one reused datagram buffer', () => {
  it('a burst of frames transmitted back to back, each overwritten by the NIC right after, all arrive intact', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    const port = { connect: () => {}, receive: () => {} };
    const wire = new UdpWire(port, { kind: 'udp' }, () => {});
    try {
      const me = await wire.bind();
      // the first frame from the load generator makes it the peer
      sock.send(testFrame(MAC, PEER, 64, 1), me.port, me.address);
      await until('peer known', () => wire.counters.rxFrames === 1);
      // the NIC's staging buffer: one region it rewrites for every frame it sends
      const staging = new Uint8Array(1514);
      // few enough that the receiving socket's buffer (≈ 200 KiB by default) holds them all
      const n = 48;
      for (let i = 0; i < n; i++) {
        const len = 60 + ((i * 37) % 1000);
        staging.fill(i & 0xff, 0, len);
        wire.receive(staging.subarray(0, len));
      }
      staging.fill(0xee);
      await until('all frames out', () => got.length === n);
      got.forEach((m, i) => {
        expect(m.length).toBe(60 + ((i * 37) % 1000));
        expect(m.every((b) => b === (i & 0xff))).toBe(true);
      });
      expect(wire.counters.txFrames).toBe(n);
    } finally {
      wire.close();
      sock.close();
    }
  });
});
