import {
  DESC_WORDS,
  DescStatus,
  NetSessionClient,
  NetSessionDriver,
  netSessionLayout,
} from '@udf/netdev';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UdpEchoService } from '../app/echo.js';
import { inputOutcomes } from '../iface/counters.js';
import { Stack } from '../iface/stack.js';
import type { Pbuf } from '../pbuf/pbuf.js';
import { PbufPool } from '../pbuf/pbuf.js';
import { arpFrame, udpFrame } from '../testing/frames.js';
import { MAC_BROADCAST, parseIpv4, parseMac } from '../wire/address.js';
import { ArpOperation } from '../wire/arp.js';
import { UdpPacket } from '../wire/udp.js';
import { SessionNetDevice } from './session.js';

const DS = 5;

/** A session with a fake driver that delivers given frames into posted buffers and collects transmitted ones. */
function session(capacity = 8) {
  const buffer = new SharedArrayBuffer(netSessionLayout(capacity).byteLength);
  const opts = { buffer, byteOffset: 0, capacity };
  const client = new NetSessionClient(opts);
  const driver = new NetSessionDriver(opts);
  const memory = new Uint8Array(new SharedArrayBuffer(16 * 2048));
  const rxPool = new PbufPool({ dataspaceId: DS, count: 8, bytes: memory });
  const txPool = new PbufPool({ dataspaceId: DS, count: 8, bytes: memory, base: 8 * 2048 });
  const device = new SessionNetDevice({ client, rxPool, txPool });
  const d = new Uint32Array(DESC_WORDS);
  const sent: Uint8Array[] = [];
  const fake = {
    deliver(frame: Uint8Array, status: number = DescStatus.Ok): boolean {
      if (!driver.takeRxBuffer(d)) return false;
      memory.set(frame, d[1]!);
      return driver.deliverRx(d[0]!, d[1]!, frame.length, status);
    },
    forge(dataspace: number, offset: number, length: number) {
      driver.deliverRx(dataspace, offset, length, DescStatus.Ok);
    },
    drainTx(): void {
      while (driver.takeTx(d)) {
        sent.push(memory.slice(d[1]!, d[1]! + d[2]!));
        driver.completeTx(d[0]!, d[1]!, d[2]!, DescStatus.Ok);
      }
    },
  };
  return { device, fake, sent, driver, rxPool, txPool, client, buffer, memory };
}

const US = { mac: parseMac('02:00:00:00:00:01'), ip: parseIpv4('10.0.0.1') };
const PEER = {
  srcMac: parseMac('02:00:00:00:00:02'),
  dstMac: US.mac,
  srcIp: parseIpv4('10.0.0.2'),
  dstIp: US.ip,
};

describe('SessionNetDevice: the stack on a driver session', () => {
  it('posts its receive buffers, echoes UDP through the rings and recycles every buffer', () => {
    const { device, fake, sent, driver, rxPool, txPool } = session();
    expect(driver.rxBuffersAvailable()).toBe(8);
    const stack = new Stack({ mac: US.mac, ip: US.ip, device, now: () => 0 });
    new UdpEchoService(stack);
    fake.deliver(arpFrame({ ...PEER, dstMac: MAC_BROADCAST }, ArpOperation.Request));
    for (let i = 0; i < 20; i++) {
      fake.deliver(udpFrame(PEER, 3000 + i, 7, new Uint8Array(1024).fill(i)));
      stack.poll(0);
      fake.drainTx();
      device.reapTx();
    }
    expect(sent).toHaveLength(21); // one ARP reply, twenty echoes
    const last = new UdpPacket(sent[20]!, 34);
    expect(last.dstPort).toBe(3019);
    expect(sent[20]![42 + 100]).toBe(19);
    expect(device.stats.rxFrames).toBe(21);
    expect(driver.rxBuffersAvailable()).toBe(8);
    expect(rxPool.available).toBe(0); // all posted
    expect(txPool.available).toBe(8);
    expect(inputOutcomes(stack.counters)).toBe(21);
    // The driver was awake all along: the paper's policy suppresses every wake-up.
    expect(device.takeNotify()).toBe(0);
    driver.prepareSleep();
    fake.deliver(udpFrame(PEER, 1, 7, new Uint8Array(8)));
    stack.poll(0);
    expect(device.takeNotify()).toBe(1);
    expect(device.takeNotify()).toBe(0);
  });

  it('counts, and survives, descriptors a hostile driver forges', () => {
    const { device, fake } = session();
    const stack = new Stack({ mac: US.mac, ip: US.ip, device, now: () => 0 });
    fake.forge(DS + 1, 0, 60); // foreign dataspace
    fake.forge(DS, 100, 60); // not the start of a buffer
    fake.forge(DS, 8 * 2048, 60); // a transmit buffer, never posted for receive
    fake.forge(DS, 0, 1 << 20); // absurd length
    fake.deliver(udpFrame(PEER, 1, 7, new Uint8Array(4)), DescStatus.DeviceError);
    stack.poll(0);
    expect(device.stats.corrupt).toBe(4);
    expect(device.stats.rxErrors).toBe(1);
    expect(stack.counters.ethernetIn).toBe(0);
  });

  it('stops re-posting receive buffers once the driver returns them Aborted', () => {
    const { device, fake, client } = session();
    const stack = new Stack({ mac: US.mac, ip: US.ip, device, now: () => 0 });
    fake.deliver(udpFrame(PEER, 1, 7, new Uint8Array(4)), DescStatus.Aborted);
    stack.poll(0);
    expect(device.stats.rxAborted).toBe(1);
    expect(device.sessionAborted).toBe(true);
    const before = client.rxPostSpace();
    expect(device.refill()).toBe(0);
    expect(client.rxPostSpace()).toBe(before);
  });
});

/** A session with `count` receive buffers over rings of `capacity` (no stack: the test drives the device). */
function bare(capacity: number, count: number) {
  const buffer = new SharedArrayBuffer(netSessionLayout(capacity).byteLength);
  const opts = { buffer, byteOffset: 0, capacity };
  const client = new NetSessionClient(opts);
  const driver = new NetSessionDriver(opts);
  const memory = new Uint8Array(new SharedArrayBuffer(2 * count * 2048));
  const rxPool = new PbufPool({ dataspaceId: DS, count, bytes: memory });
  const txPool = new PbufPool({ dataspaceId: DS, count, bytes: memory, base: count * 2048 });
  const device = new SessionNetDevice({ client, rxPool, txPool });
  return { device, driver, client, rxPool, txPool, buffer };
}

describe('SessionNetDevice buffer accounting (issue 17 item 2)', () => {
  it('exposes ring corruptions a driver causes in stats.sessionCorruptions (issue 17 item 5)', () => {
    const { device, buffer } = bare(8, 32);
    const layout = netSessionLayout(8);
    // The driver is the producer of rxUsed: a producer index far ahead of the consumer.
    new Uint32Array(buffer)[(layout.rxUsed + 64) >> 2] = 0x7fff_0000;
    expect(device.nextRx()).toBeNull();
    expect(device.stats.sessionCorruptions).toBeGreaterThan(0);
    expect(Object.keys(device.stats)).toContain('sessionCorruptions');
  });

  it('loses no receive buffer when the driver returns errors while the post ring is full', () => {
    const { device, driver } = bare(8, 32);
    const d = new Uint32Array(DESC_WORDS);
    const held: number[][] = [];
    // An honest driver: takes whatever is posted (the client refills behind it) and returns
    // buffers with a receive error; the pool is more than twice the ring.
    for (let round = 0; round < 4; round++) {
      while (driver.takeRxBuffer(d)) held.push([d[0]!, d[1]!, d[2]!]);
      device.refill();
      for (const [ds, off, len] of held.splice(0, 8)) {
        driver.deliverRx(ds!, off!, len!, DescStatus.DeviceError);
      }
      expect(device.nextRx()).toBeNull();
    }
    expect(device.stats.rxErrors).toBe(32);
    // Every buffer can still be used: drain the driver's hands and refill.
    for (const [ds, off, len] of held.splice(0))
      driver.deliverRx(ds!, off!, len!, DescStatus.DeviceError);
    while (driver.takeRxBuffer(d)) driver.deliverRx(d[0]!, d[1]!, d[2]!, DescStatus.DeviceError);
    expect(device.nextRx()).toBeNull();
    // The driver now keeps everything it is given: all 32 distinct buffers reach it.
    const distinct = new Set<number>();
    for (let i = 0; i < 8; i++) {
      device.refill();
      while (driver.takeRxBuffer(d)) distinct.add(d[1]!);
    }
    expect(distinct.size).toBe(32); // before the fix: 8 (24 buffers vanished)
    expect(device.census()).toMatchObject({ rxPool: 0, rxDriver: 32, rxStack: 0 });
    expect(device.stats.rxPostRefused).toBeGreaterThan(0);
  });

  it('keeps every buffer in exactly one place under a hostile driver (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 0, max: 12 }) }),
      fc.record({
        kind: fc.constant('return' as const),
        pick: fc.nat(),
        status: fc.integer({ min: 0, max: 8 }),
        length: fc.integer({ min: 0, max: 3000 }),
      }),
      fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('forge' as const),
        ds: fc.constantFrom(DS, DS + 1),
        offset: fc.integer({ min: 0, max: 70 * 2048 }),
        length: fc.integer({ min: 0, max: 4000 }),
      }),
      fc.record({ kind: fc.constant('complete' as const), pick: fc.nat(), status: fc.nat(8) }),
      fc.record({ kind: fc.constant('stack' as const), n: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('release' as const), n: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('send' as const), n: fc.integer({ min: 0, max: 6 }) }),
      fc.constant({ kind: 'refill' as const }),
    );
    let total = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 400, size: 'max' }), (ops) => {
        total += ops.length;
        const { device, driver } = bare(8, 32);
        const d = new Uint32Array(DESC_WORDS);
        const rxHeld: number[][] = [];
        const txHeld: number[][] = [];
        const returned: number[][] = [];
        const inStack: Pbuf[] = [];
        for (const o of ops) {
          switch (o.kind) {
            case 'take':
              for (let i = 0; i < o.n && driver.takeRxBuffer(d); i++)
                rxHeld.push([d[0]!, d[1]!, d[2]!]);
              while (driver.takeTx(d)) txHeld.push([d[0]!, d[1]!, d[2]!]);
              break;
            case 'return': {
              if (rxHeld.length === 0) break;
              const [ds, off] = rxHeld.splice(o.pick % rxHeld.length, 1)[0]!;
              if (driver.deliverRx(ds!, off!, o.length, o.status)) returned.push([ds!, off!]);
              break;
            }
            case 'duplicate': {
              if (returned.length === 0) break;
              const [ds, off] = returned[o.pick % returned.length]!;
              driver.deliverRx(ds!, off!, 100, DescStatus.Ok);
              break;
            }
            case 'forge':
              driver.deliverRx(o.ds, o.offset, o.length, DescStatus.Ok);
              driver.completeTx(o.ds, o.offset, o.length, DescStatus.Ok);
              break;
            case 'complete': {
              if (txHeld.length === 0) break;
              const [ds, off, len] = txHeld.splice(o.pick % txHeld.length, 1)[0]!;
              driver.completeTx(ds!, off!, len!, o.status);
              break;
            }
            case 'stack':
              for (let i = 0; i < o.n; i++) {
                const p = device.nextRx();
                if (!p) break;
                inStack.push(p);
              }
              break;
            case 'release':
              for (let i = 0; i < o.n && inStack.length > 0; i++) device.releaseRx(inStack.pop()!);
              break;
            case 'send':
              for (let i = 0; i < o.n; i++) {
                const p = device.allocTx(60);
                if (!p) break;
                p.length = 60;
                device.transmit(p);
              }
              break;
            case 'refill':
              device.refill();
              device.reapTx();
              break;
          }
          const c = device.census();
          if (c.rxPool + c.rxDriver + c.rxStack !== 32) return false;
          if (c.txPool + c.txDriver + c.txStack !== 32 || c.txStack !== 0) return false;
          if (c.rxStack !== inStack.length) return false;
        }
        return true;
      }),
      { numRuns: 1000 },
    );
    // Together with the driver's hostile-client property (driver-dp83820
    // boundary.property.test.ts, > 1 M operations) this is issue 17's "done when".
    expect(total).toBeGreaterThanOrEqual(150_000);
  });
});

describe('SessionNetDevice across a driver restart (a new session epoch)', () => {
  it('takes what the dead driver returned, reclaims the rest, counts frames in flight lost, and carries on', () => {
    const { device, fake, sent, driver, client, rxPool, txPool, buffer, memory } = session();
    const census = () => {
      const c = device.census();
      return { rx: c.rxPool + c.rxDriver + c.rxStack, tx: c.txPool + c.txDriver + c.txStack };
    };
    const stack = new Stack({ mac: US.mac, ip: US.ip, device, now: () => 0 });
    new UdpEchoService(stack);
    fake.deliver(arpFrame({ ...PEER, dstMac: MAC_BROADCAST }, ArpOperation.Request));
    stack.poll(0);
    fake.drainTx();
    device.reapTx();
    // The driver holds two receive buffers and has one frame delivered; three echoes are
    // submitted but not taken: then it dies.
    const held = new Uint32Array(DESC_WORDS);
    driver.takeRxBuffer(held);
    driver.takeRxBuffer(held);
    fake.deliver(udpFrame(PEER, 4000, 7, new Uint8Array(64)));
    for (let i = 0; i < 3; i++) {
      const p = device.allocTx(64)!;
      p.length = 60;
      expect(device.transmit(p)).toBe(true);
    }
    expect(census()).toEqual({ rx: rxPool.count, tx: txPool.count });
    // The supervisor starts a new epoch.
    client.control.bumpEpoch();
    expect(device.restartPending()).toBe(true);
    // A frame the dead driver delivered is still taken first: no acknowledgement yet.
    expect(device.checkEpoch()).toBe(false);
    stack.poll(0); // echoes it: a fourth frame submitted to the dead driver
    expect(device.checkEpoch()).toBe(true);
    expect(client.control.clientEpoch()).toBe(1);
    expect(device.stats.restarts).toBe(1);
    expect(device.stats.txLost).toBe(4);
    expect(device.stats.rxReclaimed).toBe(rxPool.count);
    expect(device.census()).toMatchObject({ rxDriver: 0, txDriver: 0 });
    expect(census()).toEqual({ rx: rxPool.count, tx: txPool.count });
    // Until the fresh driver serves the epoch, nothing is posted or sent.
    expect(device.refill()).toBe(0);
    const p = device.allocTx(64)!;
    p.length = 60;
    expect(device.transmit(p)).toBe(false);
    expect(device.stats.txDuringRestart).toBe(1);
    // The fresh driver drops the stale posts and serves the epoch.
    const fresh = new NetSessionDriver({ buffer, byteOffset: 0, capacity: 8 });
    expect(fresh.discardStale()).toBeGreaterThan(0);
    expect(fresh.hasWork()).toBe(false);
    fresh.control.serve(1);
    expect(device.checkEpoch()).toBe(true);
    expect(fresh.rxBuffersAvailable()).toBe(8);
    // Echo through the fresh driver: the stack's ARP entry is still there (no request sent).
    const before = sent.length;
    const d = new Uint32Array(DESC_WORDS);
    fresh.takeRxBuffer(d);
    const frame = udpFrame(PEER, 4001, 7, new Uint8Array(64));
    memory.set(frame, d[1]!);
    fresh.deliverRx(d[0]!, d[1]!, frame.length, DescStatus.Ok);
    stack.poll(0);
    expect(fresh.takeTx(d)).toBe(true);
    expect(new UdpPacket(memory.slice(d[1]!, d[1]! + d[2]!), 34).dstPort).toBe(4001);
    expect(sent.length).toBe(before);
    expect(census()).toEqual({ rx: rxPool.count, tx: txPool.count });
  });
});
