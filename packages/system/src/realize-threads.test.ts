// The placements on real worker threads (issue 16): each echoes real frames over the in-process
// wire and over a UDP wire driven by a node:dgram socket in the test, and no client (stack)
// domain ever holds the translation table's region or another session's buffers.
import { createSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { RealClock, SimClient } from '@udf/ipbench';
import {
  ArpOperation,
  ArpPacket,
  ArpRepr,
  EthernetFrame,
  EtherType,
  Icmpv4Packet,
  Icmpv4Repr,
  Icmpv4Type,
  IpProtocol,
  Ipv4Packet,
  Ipv4Repr,
  isWireError,
  MAC_BROADCAST,
  parseIpv4,
  parseMac,
} from '@udf/lwip-lite';
import { describe, expect, it } from 'vitest';
import { loadSystem, parseSystem } from './load.js';
import { plan } from './plan.js';
import {
  MONOLITHIC_SIM_ONLY,
  realizeThreads,
  ThreadsPlacementError,
  type ThreadsSystem,
} from './realize-threads.js';
import { primeThreadsSystem, startThreadsSystem } from './threads-runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));

/**
 * Run every client for a short real-time window (after a first, discarded run that resolves ARP
 * and warms the workers' code up); every probe must come back. ≈ 240 probes per second per
 * client: well below what a placement sustains on a loaded 2-CPU machine.
 */
async function echoAll(clients: readonly SimClient[], rateMbps = 0.5, durationS = 0.3) {
  await primeThreadsSystem({ clients } as unknown as ThreadsSystem);
  const results = await Promise.all(
    clients.map((c) =>
      c.start({ rateMbps, packetSize: 256, warmupS: 0.05, durationS, cooldownS: 0.2 }),
    ),
  );
  return results;
}

/** Every stack domain holds only its own sessions' regions: never a translation table, never another's buffers. */
function checkIsolation(built: ThreadsSystem): void {
  const { engine, plan: p } = built;
  const regions = built.allocatedRegions();
  expect(regions.length).toBeGreaterThan(0);
  const stacks = p.components.flatMap((c) => (c.kind === 'ip-stack' ? [c] : []));
  const drivers = p.components.flatMap((c) => (c.kind === 'dp83820-driver' ? [c] : []));
  const domainId = (name: string) => built.domains.indexOf(name);
  // the check can see a held region: the manager's domain holds every one it asked for
  const manager = p.components.find((c) => c.kind === 'dataspace-manager')!;
  for (const r of regions) expect(engine.holds(domainId(manager.space), r)).toBe(true);
  for (const stack of stacks) {
    if (drivers.some((d) => d.space === stack.space)) continue; // embedded: one domain
    const held = regions.filter((r) => engine.holds(domainId(stack.space), r));
    // its own buffer dataspace(s), one per interface: nothing else the manager allocated
    expect(held.length, `${stack.space} holds only its buffers`).toBe(stack.interfaces.length);
    for (const r of held) {
      for (const d of drivers)
        expect(
          engine.holds(domainId(d.space), r),
          `${stack.space} shares a region with driver ${d.space}`,
        ).toBe(false);
      for (const other of stacks)
        if (other.space !== stack.space)
          expect(engine.holds(domainId(other.space), r), `${other.space} holds its buffers`).toBe(
            false,
          );
    }
  }
  // every translation table (a region the driver holds from the manager) is the driver's alone
  for (const d of drivers) {
    const tables = regions.filter((r) => engine.holds(domainId(d.space), r));
    if (stacks.some((s) => s.space === d.space)) continue;
    expect(tables.length, `${d.space} holds its translation table`).toBeGreaterThan(0);
    for (const t of tables)
      for (const s of stacks) expect(engine.holds(domainId(s.space), t)).toBe(false);
  }
}

/** An Ethernet frame from `src` to `dst` with `ethertype` and room for `payload` bytes. */
function ethernet(dst: Uint8Array, src: Uint8Array, ethertype: number, payload: number) {
  const frame = new Uint8Array(Math.max(60, 14 + payload));
  const eth = new EthernetFrame(frame);
  eth.setDst(dst);
  eth.setSrc(src);
  eth.setEthertype(ethertype);
  return frame;
}

describe('realizeThreads', () => {
  it('refuses the monolithic baseline with a typed error saying why', () => {
    const p = plan(system('monolithic'));
    expect(() => realizeThreads(p)).toThrow(ThreadsPlacementError);
    expect(() => realizeThreads(p)).toThrow(MONOLITHIC_SIM_ONLY);
    try {
      realizeThreads(p);
    } catch (e) {
      expect((e as ThreadsPlacementError).code).toBe('THREADS_PLACEMENT');
    }
  });

  it.each([
    'isolated',
    'clustered',
    'embedded',
  ])("%s echoes every frame over the in-process wire; no stack domain holds a translation table or another session's buffers", async (name) => {
    const built = realizeThreads(plan(system(name)), { wire: { kind: 'load', via: 'in-process' } });
    try {
      await startThreadsSystem(built);
      const results = await echoAll(built.clients);
      for (const r of results) {
        expect(r.sends).toBeGreaterThan(5);
        expect(r.recvs).toBeGreaterThan(5);
        expect(r.lost, 'every frame sent in the window came back').toBe(0);
        expect(r.bad).toBe(0);
      }
      checkIsolation(built);
      // the drivers' interrupt status reads came from the NIC's status word, not a round trip
      // to the device worker (mmio-ring.ts, "Status words")
      for (const d of built.plan.components.filter((c) => c.kind === 'dp83820-driver')) {
        const c = built.engine.counters[d.space]!;
        expect(c.mmioStatusReads, `${d.space} status reads`).toBeGreaterThan(0);
        expect(c.mmioReads).toBeGreaterThanOrEqual(c.mmioStatusReads!);
      }
    } finally {
      await built.stop();
    }
  }, 60_000);

  it.each([
    'isolated',
    'clustered',
    'embedded',
  ])('%s echoes every frame over its UDP wire to a node:dgram socket in the test', async (name) => {
    const p = plan(system(name));
    const built = realizeThreads(p, {
      wire: { kind: 'udp', bind: { address: '127.0.0.1', port: 0 } },
    });
    const socket = createSocket('udp4');
    try {
      await startThreadsSystem(built);
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      // one ipbench client per NIC, speaking Ethernet frames through the test's socket
      const clock = new RealClock();
      const clients = p.devices.map((dev) => {
        const c = dev.clients[0]!;
        const wire = built.wires()[dev.name]!;
        const client = new SimClient({
          clock,
          mac: c.mac,
          ip: c.ip,
          port: c.port,
          targetMac: dev.mac,
          targetIp: c.targetIp,
          targetPort: p.load.echoPort,
        });
        client.attach({ receive: (f) => socket.send(f, wire.port, wire.address) });
        return { client, wire };
      });
      socket.on('message', (msg, from) => {
        const frame = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
        clients.find((c) => c.wire.port === from.port)?.client.receive(frame);
      });
      const results = await echoAll(clients.map((c) => c.client));
      for (const r of results) {
        expect(r.sends).toBeGreaterThan(5);
        expect(r.recvs).toBeGreaterThan(5);
        expect(r.lost, 'every frame sent in the window came back').toBe(0);
        expect(r.bad).toBe(0);
      }
    } finally {
      socket.close();
      await built.stop();
    }
  }, 60_000);

  it("a description with two stack domains on two NICs: neither holds the other's buffers nor the driver's table", async () => {
    const sys = parseSystem({
      name: 'two-clients',
      nics: [
        { name: 'nic0', model: 'dp83820', irq: 11, mac: '02:00:00:00:00:01' },
        { name: 'nic1', model: 'dp83820', irq: 10, mac: '02:00:00:00:01:01' },
      ],
      domains: [
        { name: 'memory', priority: 150, components: [{ kind: 'dataspace-manager' }] },
        {
          name: 'driver',
          priority: 200,
          components: [{ kind: 'dp83820-driver', nics: ['nic0', 'nic1'] }],
        },
        {
          name: 'stack-a',
          priority: 100,
          components: [
            { kind: 'ip-stack', nic: 'nic0', ip: '10.0.0.1' },
            { kind: 'udp-echo', port: 7 },
          ],
        },
        {
          name: 'stack-b',
          priority: 100,
          components: [
            { kind: 'ip-stack', nic: 'nic1', ip: '10.0.1.1' },
            { kind: 'udp-echo', port: 7 },
          ],
        },
      ],
      load: { clientsPerNic: 1 },
    });
    const built = realizeThreads(plan(sys), { wire: { kind: 'load', via: 'in-process' } });
    try {
      await startThreadsSystem(built);
      for (const r of await echoAll(built.clients)) {
        expect(r.recvs).toBeGreaterThan(5);
        expect(r.lost).toBe(0);
      }
      checkIsolation(built);
    } finally {
      await built.stop();
    }
  }, 60_000);

  it('with a UDP wire bound to a given port (udf run --wire), the stack answers ARP and ping from a host socket', async () => {
    const p = plan(system('isolated'));
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port; // a port that was free a moment ago
    probe.close();
    const built = realizeThreads(p, {
      wire: { kind: 'udp', bind: { address: '127.0.0.1', port } },
    });
    const host = createSocket('udp4');
    try {
      await startThreadsSystem(built);
      expect(built.wires().nic0).toEqual({ address: '127.0.0.1', port });
      expect(built.clients).toHaveLength(0);
      await new Promise<void>((r) => host.bind(0, '127.0.0.1', () => r()));
      const frames: Uint8Array[] = [];
      let arrived: () => void = () => {};
      host.on('message', (m) => {
        frames.push(new Uint8Array(m));
        arrived();
      });
      const next = (what: (f: Uint8Array) => boolean) =>
        new Promise<Uint8Array>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no answer')), 10_000);
          const look = () => {
            const f = frames.find(what);
            if (f === undefined) return;
            clearTimeout(timer);
            resolve(f);
          };
          arrived = look;
          look();
        });
      const me = parseMac('02:00:00:99:00:01');
      const myIp = parseIpv4('10.0.0.50');
      const stackIp = parseIpv4('10.0.0.1');
      const send = (f: Uint8Array) => host.send(f, port, '127.0.0.1');
      // who has 10.0.0.1?
      const arp = ethernet(MAC_BROADCAST, me, EtherType.Arp, 28);
      const req = new ArpRepr();
      req.operation = ArpOperation.Request;
      req.senderHardwareAddr.set(me);
      req.senderProtocolAddr = myIp;
      req.targetProtocolAddr = stackIp;
      req.emit(new ArpPacket(arp, 14, 28));
      send(arp);
      const reply = await next((f) => new EthernetFrame(f).ethertype === EtherType.Arp);
      const parsed = ArpRepr.parse(new ArpPacket(reply, 14, 28), new ArpRepr());
      if (isWireError(parsed)) throw new Error('bad ARP reply');
      expect(parsed.operation).toBe(ArpOperation.Reply);
      expect(parsed.senderProtocolAddr).toBe(stackIp);
      const stackMac = parsed.senderHardwareAddr.slice();
      // ping 10.0.0.1
      const ping = ethernet(stackMac, me, EtherType.Ipv4, 20 + 8 + 32);
      const ip = new Ipv4Repr();
      Object.assign(ip, {
        src: myIp,
        dst: stackIp,
        protocol: IpProtocol.Icmp,
        payloadLen: 40,
        ident: 7,
      });
      ip.emit(new Ipv4Packet(ping, 14, 60));
      const icmp = new Icmpv4Repr();
      Object.assign(icmp, {
        msgType: Icmpv4Type.EchoRequest,
        ident: 0x1234,
        seqNo: 1,
        dataLen: 32,
      });
      for (let i = 0; i < 32; i++) ping[42 + i] = i;
      icmp.emit(new Icmpv4Packet(ping, 34, 40));
      send(ping);
      const pong = await next(
        (f) => new EthernetFrame(f).ethertype === EtherType.Ipv4 && f[23] === IpProtocol.Icmp,
      );
      expect(pong[34]).toBe(Icmpv4Type.EchoReply);
      expect(Array.from(pong.subarray(42, 74))).toEqual(Array.from(ping.subarray(42, 74)));
    } finally {
      host.close();
      await built.stop();
    }
  }, 60_000);
});
