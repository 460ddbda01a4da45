import { DescStatus } from '@udf/netdev';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BROADCAST, makeFrame } from '../testing/frames.js';
import { buildRig, RIG } from '../testing/sim-rig.js';
import { classify, type SteerAddress } from './driver.js';

const PEER = [0x02, 0, 0, 0, 0, 0x99];
const MAC0 = [0x02, 0, 0, 0, 0, 0x10];
const IP_A = 0x0a00_0001;
const IP_B = 0x0a00_0002;
const ms = (rig: ReturnType<typeof buildRig>, n: number) => rig.sim.machine.cycles(n / 1000);

/** An IPv4 frame to `ip` (the device's MAC unless `mac`), `length` bytes, payload tagged by `seed`. */
function ipFrame(ip: number, length: number, seed: number, mac = MAC0): Uint8Array {
  const f = makeFrame(mac, PEER, length, seed);
  f[14] = 0x45;
  f[30] = ip >>> 24;
  f[31] = (ip >>> 16) & 0xff;
  f[32] = (ip >>> 8) & 0xff;
  f[33] = ip & 0xff;
  return f;
}

/** An ARP request (broadcast) for `target`. */
function arpFrame(target: number): Uint8Array {
  const f = makeFrame(BROADCAST, PEER, 60, 0);
  f[12] = 0x08;
  f[13] = 0x06;
  f[38] = target >>> 24;
  f[39] = (target >>> 16) & 0xff;
  f[40] = (target >>> 8) & 0xff;
  f[41] = target & 0xff;
  return f;
}

function recorder(into: Uint8Array[]) {
  return {
    onRx: (len: number, status: number, bytes: Uint8Array) => {
      if (status === DescStatus.Ok) into.push(bytes.slice(0, len));
      return null;
    },
  };
}

const STEERING = [{ ipv4: IP_A }, { ipv4: IP_B }];

describe('receive steering on a NIC shared by two sessions (issue 17 item 3)', () => {
  it('without steering, frames land in whichever session posted the next buffer', () => {
    const got: Uint8Array[][] = [[], []];
    const rig = buildRig({ sessions: [0, 0], hooks: [recorder(got[0]!), recorder(got[1]!)] });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 200 }, (_, i) => ipFrame(i % 2 ? IP_B : IP_A, 300, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 8));
    // The symptom steering fixes: session A received frames addressed to B.
    expect(got[0]!.some((f) => f[33] === (IP_B & 0xff))).toBe(true);
  });

  it('every frame reaches the session it is addressed to, byte for byte, and nothing else does', () => {
    const got: Uint8Array[][] = [[], []];
    const rig = buildRig({
      sessions: [0, 0],
      hooks: [recorder(got[0]!), recorder(got[1]!)],
      steering: STEERING,
    });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 200 }, (_, i) => ipFrame(i % 2 ? IP_B : IP_A, 300, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 8));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(got[0]!).toEqual(frames.filter((_, i) => i % 2 === 0));
    expect(got[1]!).toEqual(frames.filter((_, i) => i % 2 === 1));
    const st = rig.driver.stats;
    // The first session's buffers fill the device ring first: B's frames land there and are copied.
    expect(st.steeredCopies).toBeGreaterThan(0);
    expect(st.steerDrops).toBe(0);
    expect(st.rxUnclaimed).toBe(0);
    expect(st.rxFrames).toBe(200);
    expect(st.descriptorsTaken).toBe(st.descriptorsReturned + rig.driver.buffersHeld);
  });

  it('a full session drops only its own frames; the other session gets every one of its frames', () => {
    const got: Uint8Array[] = [];
    let posted = false;
    const rig = buildRig({
      sessions: [0, 0],
      hooks: [
        {
          // Posts each of its buffers once, then never takes a frame: its return ring fills.
          hostile: ({ net, ds }) => {
            if (posted) return 0;
            posted = true;
            let n = 0;
            for (let i = 0; i < RIG.CAPACITY; i++)
              n += net.postRx(ds, i * RIG.BUFFER_SIZE, RIG.BUFFER_SIZE) ? 1 : 0;
            return n;
          },
        },
        recorder(got),
      ],
      steering: STEERING,
      keepFrames: false,
    });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 400 }, (_, i) => ipFrame(i % 2 ? IP_B : IP_A, 1024, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 12));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(got).toEqual(frames.filter((_, i) => i % 2 === 1));
    const st = rig.driver.stats;
    expect(rig.devices[0]!.stats.rxOverruns).toBe(0);
    // The stalled session's frames: what its ring and deferred queue hold, the rest dropped and counted.
    expect(st.steerDrops).toBeGreaterThan(0);
    expect(st.steerDrops + rig.driver.buffersHeld + RIG.CAPACITY).toBeGreaterThanOrEqual(200);
    expect(st.rxUnclaimed).toBe(0);
    expect(st.returnDrops).toBe(0);
  });

  it('a client that re-posts buffers it never took back still does not stall the other session', () => {
    const got: Uint8Array[] = [];
    const rig = buildRig({
      sessions: [0, 0],
      hooks: [{ hoard: true }, recorder(got)],
      steering: STEERING,
      keepFrames: false,
    });
    rig.sim.runFor(ms(rig, 1));
    const frames = Array.from({ length: 400 }, (_, i) => ipFrame(i % 2 ? IP_B : IP_A, 1024, i));
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 12));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(rig.devices[0]!.stats.rxOverruns).toBe(0);
    // Every frame for B arrives. A frame for B that lands in the hoarder's buffer is the
    // hoarder's to read and overwrite until the driver copies it (and a buffer posted twice
    // holds the later frame for both slots): B may then see duplicates or altered payloads;
    // sessions sharing a NIC share their frames' integrity (see the driver's module docs).
    expect(got.length).toBeGreaterThanOrEqual(200);
    expect(rig.driver.stats.returnDrops).toBe(0);
  });

  it('ARP goes to the session owning the target address, broadcast to the first session, unknown destinations and garbage nowhere', () => {
    const got: Uint8Array[][] = [[], []];
    const rig = buildRig({
      sessions: [0, 0],
      hooks: [recorder(got[0]!), recorder(got[1]!)],
      steering: STEERING,
    });
    rig.sim.runFor(ms(rig, 1));
    const arpB = arpFrame(IP_B);
    const arpNobody = arpFrame(0x0a00_0009);
    const bcast = ipFrame(0xffff_ffff, 100, 1, BROADCAST);
    const unknown = ipFrame(0x0a00_0009, 100, 2);
    const badVersion = ipFrame(IP_A, 100, 3);
    badVersion[14] = 0x65;
    const badIhl = ipFrame(IP_A, 100, 4);
    badIhl[14] = 0x43;
    const other = makeFrame(MAC0, PEER, 80, 5);
    other[12] = 0x86;
    other[13] = 0xdd; // IPv6: not steered by address, to the first session
    // Frames for A first so that B's later frames land in A's buffers too.
    const frames = [arpB, arpNobody, bcast, unknown, badVersion, badIhl, other];
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 3));
    expect(rig.sim.kernel.failures).toEqual([]);
    expect(got[1]!).toEqual([arpB]);
    expect(got[0]!).toEqual([bcast, other]);
    expect(rig.driver.stats.rxUnclaimed).toBe(4);
  });

  it('a registered MAC wins over the IPv4 address', () => {
    const got: Uint8Array[][] = [[], []];
    const macB = [0x02, 0, 0, 0, 0, 0x20];
    const rig = buildRig({
      sessions: [0, 0],
      hooks: [recorder(got[0]!), recorder(got[1]!)],
      steering: [{ ipv4: IP_A }, { mac: macB }],
    });
    rig.sim.runFor(ms(rig, 1));
    // The device must accept the foreign MAC: promiscuous is off in the rig, so use IP A with
    // the station MAC for A and check classify for the MAC rule below.
    const f = ipFrame(IP_A, 100, 1);
    rig.peers[0]!.send(rig.devices[0]!.port, [f], 20e-6);
    rig.sim.runFor(ms(rig, 2));
    expect(got[0]!).toEqual([f]);
    const group: SteerAddress[] = [
      { ipv4: IP_A, mac: null },
      { ipv4: -1, mac: Uint8Array.from(macB) },
    ];
    const g = ipFrame(IP_A, 100, 1, macB);
    expect(classify(g, 0, g.length, group)).toBe(group[1]);
  });

  it('one session per NIC is never steered: no header read, no copy, no drop', () => {
    const got: Uint8Array[] = [];
    const rig = buildRig({ hooks: [recorder(got)], steering: [{ ipv4: IP_A }] });
    rig.sim.runFor(ms(rig, 1));
    const frames = [ipFrame(IP_B, 100, 1), ipFrame(IP_A, 100, 2)];
    rig.peers[0]!.send(rig.devices[0]!.port, frames, 20e-6);
    rig.sim.runFor(ms(rig, 2));
    expect(got).toEqual(frames);
    expect(rig.driver.stats.steeredCopies + rig.driver.stats.rxUnclaimed).toBe(0);
  });
});

describe('classify (receive steering rule)', () => {
  const group: SteerAddress[] = [
    { ipv4: IP_A, mac: null },
    { ipv4: IP_B, mac: null },
  ];

  it('reads nothing beyond the frame: truncated headers belong to nobody', () => {
    const f = ipFrame(IP_B, 100, 0);
    expect(classify(f, 0, 13, group)).toBeNull();
    expect(classify(f, 0, 33, group)).toBeNull();
    expect(classify(f, 0, 34, group)).toBe(group[1]);
    const a = arpFrame(IP_B);
    expect(classify(a, 0, 41, group)).toBeNull();
    expect(classify(a, 0, 42, group)).toBe(group[1]);
  });

  it('never throws on arbitrary bytes, offsets and lengths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 128 }),
        fc.nat(64),
        fc.integer({ min: -5, max: 200 }),
        (bytes, at, len) => {
          const r = classify(bytes, at, Math.min(len, bytes.length - at), group);
          expect(r === null || group.includes(r)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
