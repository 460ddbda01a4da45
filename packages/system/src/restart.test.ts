import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TranslationTable } from '@udf/dataspace';
import type { ClientResult } from '@udf/ipbench';
import { describe, expect, it } from 'vitest';
import { loadSystem, parseSystemText } from './load.js';
import { plan } from './plan.js';
import { type AssembledSystem, realizeSim } from './realize-sim.js';
import { startUp } from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));

/** A started system under an echo load of `mbps` per client; returns the run's promise. */
function underLoad(name: string, mbps: number, seconds: number, edit = (text: string) => text) {
  const text = edit(readFileSync(resolve(apps, name, 'system.yaml'), 'utf8'));
  const built = realizeSim(plan(parseSystemText(text), { durationMs: 4, warmupMs: 1 }));
  startUp(built);
  const results: ClientResult[] = [];
  for (const c of built.clients) {
    void c
      .start({ rateMbps: mbps, warmupS: 0.001, durationS: seconds, cooldownS: 0.005 })
      .then((r) => results.push(r));
  }
  return { built, results };
}

/** Run until every client finished its run. */
async function finish(built: AssembledSystem, results: ClientResult[]): Promise<void> {
  const ms = built.sim.machine.hz / 1000;
  while (results.length < built.clients.length) {
    built.sim.runFor(ms);
    await Promise.resolve();
  }
}

const driverOf = (built: AssembledSystem, space: string) =>
  built.sim.kernel.allThreads().find((t) => t.name === `${space}/dp83820`)!.id;

describe('driver fault containment on the sim engine (issue 18)', () => {
  it('a driver that throws under load is restarted with the same id; the stack keeps its state', async () => {
    const { built, results } = underLoad('isolated', 100, 0.03);
    const { sim } = built;
    const k = sim.kernel;
    const hz = sim.machine.hz;
    sim.runFor(0.01 * hz);
    const driver = driverOf(built, 'driver');
    const before = built.counters();
    expect(before['stack0.0.arpOut']).toBeGreaterThan(0);
    k.injectFailure(driver, new Error('driver bug'));
    await finish(built, results);
    const after = built.counters();

    // Detection by the kernel's exit notice, not by stopping the run.
    expect(k.failures).toEqual([]);
    expect(after['supervisor.exitsNotified']).toBe(1);
    expect(after['supervisor.driversRestarted']).toBe(1);
    expect(k.threadInfo(driver)!.name).toBe('driver/dp83820');
    expect(k.threadInfo(driver)!.state).not.toBe('dead');
    expect(after['kernel.threadsRestarted']).toBe(1);
    // The device was reset and the manager recovered every pin the dead driver held.
    expect(after['supervisor.devicesReset']).toBe(1);
    expect(after['manager.pinsRecovered']).toBe(after['supervisor.pinsRecovered']);
    expect(after['manager.pinsRecovered']).toBeGreaterThan(0);
    // The client saw one new epoch, took back what the driver held, and carries on.
    expect(after['stack0.0.session.restarts']).toBe(1);
    expect(after['stack0.0.session.rxReclaimed']).toBeGreaterThan(0);
    expect(after['stack0.0.session.corrupt']).toBe(0);
    // Its ARP cache survived: no new resolution after the restart.
    expect(after['stack0.0.arpOut']).toBe(before['stack0.0.arpOut']);
    // Echoes resumed: the load lost a few packets, far fewer than it sent after the fault.
    const r = results[0]!;
    expect(r.lost).toBeGreaterThan(0);
    expect(r.recvs).toBeGreaterThan(0.8 * r.sends);
    expect(after['nic0.txSent']! - before['nic0.txSent']!).toBeGreaterThan(0.5 * r.sends);
  });

  it('recovers pins without a leak: after the load, the manager has as many free frames as before the fault', async () => {
    const { built, results } = underLoad('isolated', 100, 0.02);
    const { sim } = built;
    sim.runFor(0.005 * sim.machine.hz);
    const free = built.counters()['manager.freeFrames'];
    sim.kernel.injectFailure(driverOf(built, 'driver'), new Error('driver bug'));
    await finish(built, results);
    expect(built.counters()['supervisor.driversRestarted']).toBe(1);
    expect(built.counters()['manager.freeFrames']).toBe(free);
  });

  it('a clustered driver serving two sessions: both get the new epoch and carry on', async () => {
    const { built, results } = underLoad('clustered', 50, 0.02);
    const { sim } = built;
    sim.runFor(0.005 * sim.machine.hz);
    sim.kernel.injectFailure(driverOf(built, 'drivers'), new Error('driver bug'));
    await finish(built, results);
    const c = built.counters();
    expect(c['supervisor.driversRestarted']).toBe(1);
    // Both sessions of the clustered driver got the new epoch.
    const restarts = Object.entries(c).filter(([key]) => key.endsWith('.session.restarts'));
    expect(restarts.length).toBe(2);
    for (const [, n] of restarts) expect(n).toBe(1);
    for (const r of results) expect(r.recvs).toBeGreaterThan(0.8 * r.sends);
  });

  it('a hung driver is detected by its heartbeat within two check periods and restarted', async () => {
    const { built, results } = underLoad('isolated', 100, 0.06);
    const { sim } = built;
    const hz = sim.machine.hz;
    const period = built.plan.components.find((c) => c.kind === 'dp83820-driver');
    const heartbeat = period?.kind === 'dp83820-driver' ? period.heartbeatSeconds : 0;
    expect(heartbeat).toBe(0.01);
    sim.runFor(0.01 * hz);
    const hungAt = sim.now();
    sim.kernel.injectHang(driverOf(built, 'driver'));
    await finish(built, results);
    const c = built.counters();
    expect(c['supervisor.hangsDetected']).toBe(1);
    expect(c['supervisor.driversRestarted']).toBe(1);
    expect(c['stack0.0.session.restarts']).toBe(1);
    const record = built.restarts()[0]!;
    expect(record.cause).toBe('hung');
    // The hang starts at the driver's next kernel call (within microseconds of hungAt).
    expect(record.detectedAt - hungAt).toBeLessThanOrEqual(2 * heartbeat * hz + 0.001 * hz);
    expect(record.detectedAt - hungAt).toBeGreaterThan(heartbeat * hz - 0.001 * hz);
  });

  it('an idle driver is not mistaken for a hung one', async () => {
    const built = realizeSim(plan(system('isolated'), { durationMs: 4, warmupMs: 1 }));
    startUp(built);
    built.sim.runFor(0.1 * built.sim.machine.hz);
    const c = built.counters();
    expect(c['supervisor.heartbeatChecks']).toBeGreaterThan(5);
    expect(c['supervisor.hangsDetected']).toBe(0);
  });

  it('a driver that pins beyond its quota is disabled through the supervisor, its pins recovered, and restarted like a crashed one (paper 4.4)', async () => {
    const { built, results } = underLoad('isolated', 100, 0.03, (t) =>
      t.replace('{ kind: dataspace-manager }', '{ kind: dataspace-manager, pinQuotaPages: 64 }'),
    );
    const { sim } = built;
    const k = sim.kernel;
    sim.runFor(0.01 * sim.machine.hz);
    expect(built.counters()['manager.driversDisabled']).toBe(0);
    // A driver bug: it pins every page its translation cache holds (the table is the driver's
    // memory, shared with the manager, which scans it).
    const drv = built.plan.components.find((c) => c.kind === 'dp83820-driver')!;
    if (drv.kind !== 'dp83820-driver') throw new Error('no driver');
    const driver = driverOf(built, 'driver');
    const at = k.lookup(k.threadInfo(driver)!.space, drv.translationCache.vaddr)!.paddr;
    const region = sim.machine.memory.regionOf(at)!;
    const table = new TranslationTable(
      region.buffer,
      region.byteOffset + at - region.paddr,
      drv.translationCache.entries,
    );
    let pinned = 0;
    for (let e = 0; e < drv.translationCache.entries; e++) if (table.tryPin(e)) pinned++;
    expect(pinned).toBeGreaterThan(64);
    await finish(built, results);
    const c = built.counters();
    expect(c['manager.driversDisabled']).toBe(1);
    expect(c['supervisor.driversDisabled']).toBe(1);
    expect(c['manager.pinsRecovered']).toBeGreaterThanOrEqual(pinned);
    expect(built.restarts().map((r) => r.cause)).toEqual(['quota']);
    expect(c['stack0.0.session.restarts']).toBe(1);
    expect(k.threadInfo(driver)!.state).not.toBe('dead');
    // The fresh driver stays within its quota and serves the load again.
    const r = results[0]!;
    expect(r.recvs).toBeGreaterThan(0.8 * r.sends);
  });
});
