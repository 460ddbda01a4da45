import {
  DESC_WORDS,
  DescStatus,
  NetSessionClient,
  NetSessionDriver,
  netSessionLayout,
} from '@udf/netdev';
import { describe, expect, it } from 'vitest';
import { UdpEchoService } from '../app/echo.js';
import { inputOutcomes } from '../iface/counters.js';
import { Stack } from '../iface/stack.js';
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
  return { device, fake, sent, driver, rxPool, txPool, client };
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
    expect(device.takeNotify()).toBe(false);
    driver.prepareSleep();
    fake.deliver(udpFrame(PEER, 1, 7, new Uint8Array(8)));
    stack.poll(0);
    expect(device.takeNotify()).toBe(true);
    expect(device.takeNotify()).toBe(false);
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
