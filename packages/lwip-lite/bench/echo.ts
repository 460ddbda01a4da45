/**
 * UDP echo through the stack alone: a device that hands the stack the same received 1024-byte
 * datagram over and over (no NIC, no copy on receive) and discards what it transmits. Measures
 * echoes per wall second and counts garbage collections during the run (the hot path should
 * allocate nothing, so there should be none or nearly none).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { UdpEchoService } from '../src/app/echo.js';
import { Stack } from '../src/iface/stack.js';
import { type Pbuf, PbufPool } from '../src/pbuf/pbuf.js';
import type { NetDevice } from '../src/phy/device.js';
import { arpFrame, udpFrame } from '../src/testing/frames.js';
import { MAC_BROADCAST, parseIpv4, parseMac } from '../src/wire/address.js';
import { ArpOperation } from '../src/wire/arp.js';

/** Result of {@link benchEcho}. */
export interface EchoBenchResult {
  echoes: number;
  seconds: number;
  perSecond: number;
  gcs: number;
  copiesPerEcho: number;
}

class ReplayDevice implements NetDevice {
  readonly mtu = 1514;
  readonly pool = new PbufPool({ dataspaceId: 1, count: 4 });
  private rx: Pbuf;
  private pending = 0;
  sent = 0;

  constructor(frame: Uint8Array) {
    this.rx = this.pool.alloc()!;
    this.load(frame);
  }
  load(frame: Uint8Array): void {
    this.rx.bytes.set(frame, this.rx.offset);
    this.rx.length = frame.length;
  }
  arm(n: number): void {
    this.pending = n;
  }
  nextRx(): Pbuf | null {
    if (this.pending === 0) return null;
    this.pending--;
    return this.rx;
  }
  releaseRx(): void {}
  allocTx(): Pbuf | null {
    return this.pool.alloc();
  }
  transmit(p: Pbuf): boolean {
    this.sent++;
    this.pool.free(p);
    return true;
  }
  releaseTx(p: Pbuf): void {
    this.pool.free(p);
  }
}

/** Run `echoes` UDP echoes of a 1024-byte payload. */
export function benchEcho(echoes: number): EchoBenchResult {
  const us = { mac: parseMac('02:00:00:00:00:01'), ip: parseIpv4('10.0.0.1') };
  const peer = { srcMac: parseMac('02:00:00:00:00:02'), srcIp: parseIpv4('10.0.0.2') };
  const addrs = { srcMac: peer.srcMac, dstMac: us.mac, srcIp: peer.srcIp, dstIp: us.ip };
  const dev = new ReplayDevice(arpFrame({ ...addrs, dstMac: MAC_BROADCAST }, ArpOperation.Request));
  const stack = new Stack({ mac: us.mac, ip: us.ip, device: dev, rxBudget: 1 << 30, now: () => 0 });
  new UdpEchoService(stack);
  dev.arm(1);
  stack.poll(0); // learn the peer's MAC
  dev.load(udpFrame(addrs, 40000, 7, new Uint8Array(1024).fill(0x42)));

  dev.arm(10_000);
  stack.poll(0); // warm up
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const copies0 = stack.counters.copyOps;
  const sent0 = dev.sent;
  const t0 = process.hrtime.bigint();
  const batch = 1000;
  for (let done = 0; done < echoes; done += batch) {
    dev.arm(batch);
    stack.poll(0);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  obs.disconnect();
  const n = dev.sent - sent0;
  if (n !== echoes) throw new Error(`expected ${echoes} echoes, got ${n}`);
  return {
    echoes: n,
    seconds,
    perSecond: n / seconds,
    gcs,
    copiesPerEcho: (stack.counters.copyOps - copies0) / n,
  };
}
