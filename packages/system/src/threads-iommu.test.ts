// `iommu: true` on the threads engine (issue 18, "An IOMMU model"), with real workers: the
// realiser gives each driver an IOMMU table in shared memory, mapped into the manager's domain
// (which enters the frames it installs in the driver's translation caches) and handed to the
// Dp83820 in the device worker (which checks every DMA burst against it). An echo load is
// unaffected; a receive ring aimed at another domain's memory corrupts it without the IOMMU and
// is refused with it — the fault line reaches the device supervisor, which restarts the driver.
import { resolve } from 'node:path';
import { CMDSTS, DESC_LAYOUT_32 } from '@udf/driver-dp83820';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { plan, type SystemPlan } from './plan.js';
import { realizeThreads, type ThreadsSystem } from './realize-threads.js';
import { threadsIommuFrames } from './threads-iommu.js';
import { primeThreadsSystem, startThreadsSystem } from './threads-runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const PAGE = 4096;

/**
 * The app's plan with every NIC's `iommu` as given, and a long pin-time quota (on threads the
 * quota is real time: an idle NIC keeps its receive buffers pinned between the test's phases).
 */
function planOf(name: string, iommu: boolean): SystemPlan {
  const sys = loadSystem(resolve(apps, name, 'system.yaml'));
  const p = plan({ ...sys, nics: sys.nics.map((n) => ({ ...n, iommu })) });
  return {
    ...p,
    components: p.components.map((c) =>
      c.kind === 'dataspace-manager' ? { ...c, maxPinSeconds: 600 } : c,
    ),
  };
}

/** A light load: every probe must come back. */
async function echoAll(built: ThreadsSystem): Promise<number> {
  const results = await Promise.all(
    built.clients.map((c) =>
      c.start({ rateMbps: 0.5, packetSize: 256, warmupS: 0.05, durationS: 0.5, cooldownS: 0.3 }),
    ),
  );
  let recvs = 0;
  for (const r of results) {
    expect(r.recvs).toBeGreaterThan(5);
    expect(r.lost, 'every probe came back').toBe(0);
    expect(r.bad).toBe(0);
    recvs += r.recvs;
  }
  return recvs;
}

/** Wait (real time) until `check` holds; the device worker snapshots its counters every 20 ms. */
async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('iommu: true on the threads engine', () => {
  it('builds one table per driver, mapped into the manager and covering the physical memory the engine can hand out', () => {
    const on = realizeThreads(planOf('clustered', true));
    const drivers = on.plan.components.filter((c) => c.kind === 'dp83820-driver');
    expect(on.iommu.map((t) => t.driverSpace)).toEqual(drivers.map((d) => d.space));
    for (const t of on.iommu) {
      expect(t.table.formatted).toBe(true);
      expect(t.frames).toBe(threadsIommuFrames(on.plan));
      expect(t.frames * PAGE).toBeGreaterThan(2 * on.plan.machine.memoryBytes);
      // only the descriptor rings are granted before the manager runs
      expect(t.table.mappedFrames()).toBe(16 * t.devices.length);
    }
    expect(realizeThreads(planOf('clustered', false)).iommu).toEqual([]);
  });

  it.each([
    'isolated',
    'clustered',
  ])('%s: an echo load with the IOMMU on loses nothing and nothing faults', async (name) => {
    const built = realizeThreads(planOf(name, true), { wire: { kind: 'load', via: 'in-process' } });
    try {
      await startThreadsSystem(built);
      await primeThreadsSystem(built);
      const recvs = await echoAll(built);
      expect(recvs).toBeGreaterThan(0);
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      for (const d of built.plan.devices) expect(c[`${d.name}.iommuFaults`], d.name).toBe(0);
      expect(c['supervisor.iommuFaults']).toBe(0);
      expect(c['supervisor.driversRestarted']).toBe(0);
      for (const t of built.iommu) {
        expect(t.table.faults).toBe(0);
        // the rings and the buffer frames the manager entered for the driver
        expect(t.table.mappedFrames()).toBeGreaterThan(16 * t.devices.length);
      }
    } finally {
      await built.stop();
    }
  }, 90_000);
});

describe('a malicious driver on the threads engine', () => {
  /**
   * Aim every receive descriptor the NIC owns at `victim`, writing the driver's ring as the
   * driver could (from the main thread, through the ring's shared memory).
   */
  function aimRxRingAt(built: ThreadsSystem, victim: number): number {
    const dp = built.plan.components.find((c) => c.kind === 'dp83820-driver')!;
    if (dp.kind !== 'dp83820-driver') throw new Error('no driver');
    const dev = dp.devices[0]!;
    const words = new Int32Array(built.physicalRegion(dev.dma.region)!.buffer);
    const L = DESC_LAYOUT_32; // the driver's layout (no wide descriptors), receive ring first
    let n = 0;
    for (let i = 0; i < dev.rxDescriptors; i++) {
      const at = i * L.size;
      if ((Atomics.load(words, (at + L.cmdsts) >> 2) & CMDSTS.OWN) === 0) {
        Atomics.store(words, (at + L.bufptr) >> 2, victim);
        n++;
      }
    }
    return n;
  }

  it.each([
    false,
    true,
  ])('iommu %s: received frames aimed at a page of the stack’s domain', async (iommu) => {
    const built = realizeThreads(planOf('isolated', iommu), {
      wire: { kind: 'load', via: 'in-process' },
    });
    // The victim: a page of the stack's domain the driver was never given.
    const stack = built.plan.components.find((c) => c.kind === 'ip-stack')!;
    const page = built.engine.createRegion(PAGE);
    built.engine.grantRegion(built.domains.indexOf(stack.space), 0xb000_0000, page);
    const victim = page.paddr;
    const bytes = new Uint8Array(page.buffer);
    bytes.fill(0xa5);
    try {
      await startThreadsSystem(built);
      await primeThreadsSystem(built);
      if (iommu) expect(built.iommu[0]!.table.accessOf(victim / PAGE)).toBe(0);
      expect(aimRxRingAt(built, victim)).toBeGreaterThan(0);
      // a load whose frames land where the ring says (some probes are lost either way)
      await Promise.all(
        built.clients.map((c) =>
          c.start({ rateMbps: 0.5, packetSize: 256, warmupS: 0, durationS: 0.3, cooldownS: 0.2 }),
        ),
      );
      // The frame lands at the page's start: its first bytes become a destination MAC address.
      const overwritten = () => !bytes.subarray(0, 64).every((b) => b === 0xa5);
      if (!iommu) {
        expect(overwritten()).toBe(true);
        expect(built.counters()['nic0.iommuFaults']).toBe(0);
        return;
      }
      await until(() => built.restart!.restarter.stats.restarted >= 1, 'the driver restart');
      await until(() => built.counters()['nic0.iommuFaults'] === 1, 'the NIC stats page');
      expect(overwritten()).toBe(false);
      const table = built.iommu[0]!.table;
      expect(table.faults).toBe(1);
      expect(table.lastFaultAddress).toBe(victim);
      // The fault interrupt reached the device supervisor: the NIC was reset, and the driver
      // that programmed the DMA treated as crashed and restarted with the same thread id.
      const c = built.counters();
      expect(c['supervisor.iommuFaults']).toBe(1);
      expect(c['supervisor.devicesReset']).toBe(1);
      expect(built.restart!.records().map((r) => r.cause)).toEqual(['iommu']);
      expect(built.engine.failures).toEqual([]);
      // the rebuilt rings are clean: the clients carry on, every probe comes back
      await echoAll(built);
      expect(overwritten()).toBe(false);
      expect(built.counters()['nic0.iommuFaults']).toBe(1);
    } finally {
      await built.stop();
    }
  }, 120_000);
});
