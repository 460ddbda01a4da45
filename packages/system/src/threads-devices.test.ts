// The NIC device factory in the threads engine's device worker, reached over its UDP wire by the
// main thread's frame link (no driver: the receiver is off, so the frame is counted and dropped).
import { createSocket } from 'node:dgram';
import { ThreadsEngine } from '@udf/engine-threads';
import { describe, expect, it } from 'vitest';
import { NicStatsPage, type ThreadsNicConfig } from './threads-devices.js';
import { FrameRing, InProcessFrameLink } from './threads-frame-ring.js';
import { UdpFrameLink } from './threads-wire.js';

const devices = new URL('./threads-devices.ts', import.meta.url).href;

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('threads NIC: dp83820Device and UdpFrameLink', () => {
  it('builds a Dp83820 in the device worker, reports its thread id and counters; a frame from the link arrives at the NIC', async () => {
    const engine = new ThreadsEngine();
    const stats = new NicStatsPage();
    const tids = new SharedArrayBuffer(4);
    const config: ThreadsNicConfig = {
      irqLine: 3,
      mac: '02:00:00:00:00:01',
      eeprom64: true,
      timing: { pciClockHz: 66e6, pciBusBytes: 8, readLatencyClocks: 8 },
      stats: stats.buffer,
      probe: { out: tids, slot: 0 },
    };
    engine.createDevice({
      name: 'nic0',
      component: { module: devices, export: 'dp83820Device', config },
      wire: { kind: 'udp' },
    });
    await engine.start();
    const link = new UdpFrameLink(engine.wires.nic0!);
    try {
      await waitFor(() => stats.snapshots > 0);
      expect(stats.receiving).toBe(false);
      expect(Atomics.load(new Int32Array(tids), 0)).toBeGreaterThan(0);
      await link.open();
      const frame = new Uint8Array(60);
      frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
      link.receive(frame);
      await waitFor(() => stats.read().rxArrived === 1);
      expect(stats.read().rxDisabledDrops).toBe(1);
      expect(link.counters.sent).toBe(1);
    } finally {
      link.close();
      await engine.stop();
    }
  }, 30_000);

  it('the in-process wire: frames pushed by the main thread reach the NIC in the device worker', async () => {
    const engine = new ThreadsEngine();
    const stats = new NicStatsPage();
    const toNic = FrameRing.create(64);
    const fromNic = FrameRing.create(64);
    engine.createDevice({
      name: 'nic0',
      component: {
        module: devices,
        export: 'dp83820Device',
        config: {
          irqLine: 3,
          mac: '02:00:00:00:00:01',
          eeprom64: true,
          timing: { pciClockHz: 66e6, pciBusBytes: 8, readLatencyClocks: 8 },
          stats: stats.buffer,
          inProcess: { toNic: toNic.buffer, fromNic: fromNic.buffer },
        } satisfies ThreadsNicConfig,
      },
    });
    await engine.start();
    const link = new InProcessFrameLink(toNic, fromNic);
    link.open();
    try {
      await waitFor(() => stats.snapshots > 0);
      const frame = new Uint8Array(60);
      frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
      for (let i = 0; i < 20; i++) link.receive(frame);
      await waitFor(() => stats.read().rxArrived === 20);
      expect(stats.read().rxDisabledDrops).toBe(20);
      expect(link.counters.sent).toBe(20);
    } finally {
      await link.close();
      await engine.stop();
    }
  }, 30_000);

  it('FrameRing: frames come out in order, intact; a full ring drops and counts; close wakes the consumer', async () => {
    const ring = FrameRing.create(4);
    for (let i = 0; i < 6; i++) ring.push(Uint8Array.of(i, i, i));
    expect(ring.drops).toBe(2);
    const got: number[][] = [];
    expect(ring.drain((f) => got.push([...f]))).toBe(4);
    expect(got).toEqual([0, 1, 2, 3].map((i) => [i, i, i]));
    expect(ring.push(new Uint8Array(2000))).toBe(false);
    const waiting = ring.wait();
    ring.close();
    await waiting;
    expect(ring.closed).toBe(true);
  });

  it('UdpFrameLink hands a frame to the client its destination MAC names, broadcasts to all, drops the rest', async () => {
    const nic = createSocket('udp4');
    await new Promise<void>((r) => nic.bind(0, '127.0.0.1', () => r()));
    const link = new UdpFrameLink({ address: '127.0.0.1', port: nic.address().port });
    await link.open();
    const got: string[] = [];
    link.attach('02:00:00:00:00:0a', { receive: () => got.push('a') });
    link.attach('02:00:00:00:00:0b', { receive: () => got.push('b') });
    // learn the link's address from one frame it sends
    const from = new Promise<{ port: number }>((r) => nic.once('message', (_m, rinfo) => r(rinfo)));
    link.receive(new Uint8Array(60));
    const peer = await from;
    const send = (dst: number[]) => {
      const f = Buffer.alloc(60);
      f.set(dst);
      nic.send(f, peer.port, '127.0.0.1');
    };
    send([2, 0, 0, 0, 0, 0x0b]);
    send([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    send([2, 0, 0, 0, 0, 0x0c]);
    await waitFor(() => link.counters.received + link.counters.dropped === 3);
    expect(got.sort()).toEqual(['a', 'b', 'b']);
    expect(link.counters.dropped).toBe(1);
    link.close();
    nic.close();
  });
});
