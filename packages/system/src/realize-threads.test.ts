// The placements on real worker threads (issue 16): each echoes real frames over the in-process
// wire and over a UDP wire driven by a node:dgram socket in the test, and no client (stack)
// domain ever holds the translation table's region or another session's buffers.
import { createSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { RealClock, SimClient } from '@udf/ipbench';
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
});
