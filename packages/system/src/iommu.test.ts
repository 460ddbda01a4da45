/**
 * `iommu: true` on a NIC in a system description (issue 18, "An IOMMU model"), on the sim
 * engine: the realiser formats one IOMMU table per driver, grants its descriptor rings and maps
 * the table into the dataspace manager, which enters every frame it installs in the driver's
 * translation caches. A legitimate echo load is unaffected; a driver that aims its receive ring
 * at another domain's memory corrupts it without the IOMMU and is stopped with it: the DMA is
 * refused and the NIC's fault interrupt reaches the device supervisor, which treats it as a crash
 * of the driver: the NIC is reset, the driver restarted, and the clients carry on.
 */
import { resolve } from 'node:path';
import { IommuTable } from '@udf/dataspace';
import { CMDSTS, DESC_LAYOUT_32, type Dp83820, Reg } from '@udf/driver-dp83820';
import type { ClientResult } from '@udf/ipbench';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { COUNTERS_VADDR, plan, type SystemPlan } from './plan.js';
import { type AssembledSystem, realizeSim } from './realize-sim.js';
import { rampStep, startUp } from './runner.js';
import type { SystemDescription } from './schema.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const PAGE = 4096;

function described(name: string, iommu: boolean): SystemDescription {
  const sys = loadSystem(resolve(apps, name, 'system.yaml'));
  return { ...sys, nics: sys.nics.map((n) => ({ ...n, iommu })) };
}

function planOf(name: string, iommu: boolean): SystemPlan {
  return plan(described(name, iommu), { durationMs: 4, warmupMs: 1 });
}

/** Each driver's IOMMU table, read through the manager's mapping of it. */
function tablesOf(built: AssembledSystem): IommuTable[] {
  const k = built.sim.kernel;
  const manager = k.allThreads().find((t) => t.name === 'dataspace-manager')!;
  const frames = IommuTable.framesFor(built.sim.machine.memory.size);
  return built.plan.components.flatMap((c) => {
    if (c.kind !== 'dp83820-driver' || c.iommu === null) return [];
    const paddr = k.lookup(manager.space, c.iommu.vaddr)!.paddr;
    const region = built.sim.machine.memory.regionOf(paddr)!;
    return [new IommuTable(region.buffer, region.byteOffset + (paddr - region.paddr), frames)];
  });
}

describe('iommu: true in a system description', () => {
  it('plans one table per driver behind an IOMMU, none without', () => {
    const on = planOf('clustered', true);
    const drivers = on.components.filter((c) => c.kind === 'dp83820-driver');
    expect(drivers.map((d) => d.kind === 'dp83820-driver' && d.iommu !== null)).toEqual(
      drivers.map(() => true),
    );
    expect(on.devices.every((d) => d.iommu)).toBe(true);
    expect(on.devices.map((d) => d.iommuFaultIrq)).toEqual([64, 65]);
    const off = planOf('clustered', false);
    expect(off.components.some((c) => c.kind === 'dp83820-driver' && c.iommu !== null)).toBe(false);
    expect(off.devices.every((d) => d.iommuFaultIrq === null)).toBe(true);
  });

  it.each([
    'isolated',
    'clustered',
  ])('%s: the echo load is the same with and without the IOMMU, and nothing faults', async (name) => {
    const results = [];
    for (const iommu of [false, true]) {
      const built = realizeSim(planOf(name, iommu));
      startUp(built);
      const step = await rampStep(built, 200 * built.plan.devices.length);
      expect(built.sim.kernel.failures).toEqual([]);
      const c = built.counters();
      for (const d of built.plan.devices) expect(c[`${d.name}.iommuFaults`], d.name).toBe(0);
      if (iommu) {
        const tables = tablesOf(built);
        expect(tables.length).toBeGreaterThan(0);
        for (const t of tables) {
          expect(t.faults).toBe(0);
          // Descriptor rings (16 pages a NIC) and the buffer pages the manager installed.
          expect(t.mappedFrames()).toBeGreaterThan(16);
        }
      }
      results.push({
        achievedBps: step.achievedBps,
        lost: step.lost,
        bad: step.bad,
        recvs: step.recvs,
      });
    }
    const [off, on] = results as [(typeof results)[0], (typeof results)[0]];
    expect(off.lost).toBe(0);
    expect(off.bad).toBe(0);
    // The check charges no virtual time. The only difference is the root task's fault handler,
    // whose start-up (attaching its lines) shifts the load's phase by a fraction of a packet.
    expect({ ...on, achievedBps: 0 }).toEqual({ ...off, achievedBps: 0 });
    expect(Math.abs(on.achievedBps - off.achievedBps) / off.achievedBps).toBeLessThan(1e-6);
  });
});

describe('a malicious driver in a realised system', () => {
  /** Aim every receive descriptor the NIC owns at `victim` (the driver's ring, written raw). */
  function aimRxRingAt(built: AssembledSystem, nic: Dp83820, victim: number): number {
    const mem = built.sim.machine.memory;
    const L = DESC_LAYOUT_32;
    const start = nic.read32(Reg.RXDP) >>> 0;
    let at = start;
    let n = 0;
    do {
      if ((mem.read32(at + L.cmdsts) & CMDSTS.OWN) === 0) {
        mem.write32(at + L.bufptr, victim);
        n++;
      }
      at = mem.read32(at + L.link) >>> 0;
    } while (at !== 0 && at !== start && n < 4096);
    return n;
  }

  it.each([
    false,
    true,
  ])('iommu %s: received frames aimed at the stack’s counters page', async (iommu) => {
    const built = realizeSim(planOf('isolated', iommu));
    startUp(built);
    const k = built.sim.kernel;
    const nic = built.sim.machine.devices.get('nic0') as Dp83820;
    // The stack domain's counters page: memory the driver was never given.
    const stack = k.allThreads().find((t) => t.name.startsWith('stack/'))!;
    const victim = k.lookup(stack.space, COUNTERS_VADDR)!.paddr;
    const before = new Uint8Array(PAGE);
    built.sim.machine.memory.copyOut(victim, before);
    expect(aimRxRingAt(built, nic, victim)).toBeGreaterThan(0);
    await rampStep(built, 100);
    const after = new Uint8Array(PAGE);
    built.sim.machine.memory.copyOut(victim, after);
    // The frame lands at the page's start: its first bytes become a destination MAC address.
    const overwritten = !after.subarray(0, 64).every((b, i) => b === before[i]);
    if (!iommu) {
      expect(overwritten).toBe(true);
      expect(nic.stats.iommuFaults).toBe(0);
    } else {
      expect(overwritten).toBe(false);
      expect(nic.stats.iommuFaults).toBe(1);
      expect(tablesOf(built)[0]!.lastFaultAddress).toBe(victim);
      // The fault interrupt went to the device supervisor: the NIC was reset, and the driver
      // that programmed the DMA is treated as crashed and restarted.
      const c = built.counters();
      expect(c['supervisor.iommuFaults']).toBe(1);
      expect(c['supervisor.devicesReset']).toBe(1);
      expect(built.restarts().map((r) => r.cause)).toEqual(['iommu']);
      expect(nic.iommuFaulted).toBe(false);
    }
  });

  it('iommu true: the driver is contained and restarted; the echo resumes with the client’s state intact', async () => {
    const built = realizeSim(planOf('isolated', true));
    startUp(built);
    const { sim } = built;
    const k = sim.kernel;
    const hz = sim.machine.hz;
    const results: ClientResult[] = [];
    for (const c of built.clients) {
      void c
        .start({ rateMbps: 100, warmupS: 0.001, durationS: 0.03, cooldownS: 0.005 })
        .then((r) => results.push(r));
    }
    sim.runFor(0.01 * hz);
    const nic = sim.machine.devices.get('nic0') as Dp83820;
    const driver = k.allThreads().find((t) => t.name === 'driver/dp83820')!.id;
    const stack = k.allThreads().find((t) => t.name.startsWith('stack/'))!;
    const victim = k.lookup(stack.space, COUNTERS_VADDR)!.paddr;
    const before = built.counters();
    const page = new Uint8Array(PAGE);
    sim.machine.memory.copyOut(victim, page);
    expect(aimRxRingAt(built, nic, victim)).toBeGreaterThan(0);
    while (results.length < built.clients.length) {
      sim.runFor(hz / 1000);
      await Promise.resolve();
    }
    const after = built.counters();
    // Blocked: the victim's bytes are those the stack itself wrote (its counters moved on, but
    // no frame landed there: the frame's first bytes would be the NIC's own MAC).
    const now = new Uint8Array(PAGE);
    sim.machine.memory.copyOut(victim, now);
    expect(Array.from(now.subarray(0, 6))).not.toEqual([2, 0, 0, 0, 0, 1]);
    expect(nic.stats.iommuFaults).toBe(1);
    // A crash of the driver: counted, reset, pins recovered, restarted with the same thread id.
    expect(k.failures).toEqual([]);
    expect(after['supervisor.iommuFaults']).toBe(1);
    expect(after['supervisor.driversRestarted']).toBe(1);
    expect(after['supervisor.pinsRecovered']).toBeGreaterThan(0);
    expect(after['manager.pinsRecovered']).toBe(after['supervisor.pinsRecovered']);
    expect(built.restarts().map((r) => [r.thread, r.cause])).toEqual([[driver, 'iommu']]);
    expect(k.threadInfo(driver)!.state).not.toBe('dead');
    // The client saw one new epoch and carries on: same ARP cache, counters continued.
    expect(after['stack0.0.session.restarts']).toBe(1);
    expect(after['stack0.0.session.corrupt']).toBe(0);
    expect(after['stack0.0.arpOut']).toBe(before['stack0.0.arpOut']);
    expect(after['stack0.0.session.rxFrames']).toBeGreaterThan(
      before['stack0.0.session.rxFrames']!,
    );
    // Echoes resumed after the fault: most of what was sent afterwards came back.
    const r = results[0]!;
    expect(r.recvs).toBeGreaterThan(0.8 * r.sends);
    expect(after['nic0.txSent']! - before['nic0.txSent']!).toBeGreaterThan(0.5 * r.sends);
    expect(nic.receiving).toBe(true);
  });
});
