import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChaosOptions, runChaos } from './chaos.js';
import { StepOptionsError } from './errors.js';
import * as entry from './index.js';
import { loadSystem } from './load.js';
import * as runner from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));
const options = (more: Partial<ChaosOptions>): ChaosOptions => ({
  seed: 7,
  faults: 3,
  kinds: ['kill'],
  loadMbps: 200,
  durationMs: 60,
  ...more,
});

describe('udf chaos on the sim engine (issue 18)', () => {
  it('kills: the packets lost are exactly those in flight at each fault', async () => {
    const r = await runChaos(system('isolated'), options({}));
    expect(r.faults).toHaveLength(3);
    for (const f of r.faults) {
      expect(f.kind).toBe('kill');
      expect(f.restarted).toBe(true);
      expect(f.inFlightAtFault).toBeGreaterThan(0);
      expect(f.lostPackets).toBe(f.inFlightAtFault);
      expect(f.outageSeconds).toBeGreaterThan(0);
      expect(f.outageSeconds).toBeLessThan(0.005);
    }
    expect(r.totals.restarts).toBe(3);
    expect(r.totals.otherLost).toBe(0);
    expect(r.totals.unsupervisedFailures).toBe(0);
    expect(r.totals.arrived - r.totals.echoed).toBe(r.totals.lostPackets + r.totals.outageLost);
  });

  it('hangs are found by the heartbeat and restarted; garbage in the rings is counted by the client', async () => {
    const r = await runChaos(
      system('clustered'),
      options({ seed: 1, faults: 6, kinds: ['kill', 'hang', 'corrupt'], durationMs: 300 }),
    );
    const kinds = new Set(r.faults.map((f) => f.kind));
    expect(kinds).toEqual(new Set(['kill', 'hang', 'corrupt']));
    for (const f of r.faults) {
      expect(f.restarted).toBe(f.kind !== 'corrupt');
      if (f.kind === 'hang') {
        // Two heartbeat periods (10 ms each) at most, and every packet in flight lost.
        expect(f.detectSeconds).toBeLessThanOrEqual(0.02);
        expect(f.lostPackets).toBe(f.inFlightAtFault);
      }
      if (f.kind === 'corrupt') expect(f.lostPackets).toBe(0);
    }
    expect(r.totals.garbageWritten).toBeGreaterThan(0);
    expect(r.totals.corruptCounted).toBe(r.totals.garbageWritten);
    expect(r.totals.otherLost).toBe(0);
  });

  it('iommu: a driver aiming DMA outside its pins is stopped by the IOMMU and restarted; lost = in flight', async () => {
    const r = await runChaos(system('isolated'), options({ kinds: ['iommu'], seed: 3 }));
    expect(r.faults).toHaveLength(3);
    for (const f of r.faults) {
      expect(f.kind).toBe('iommu');
      expect(f.restarted).toBe(true);
      expect(f.lostPackets).toBe(f.inFlightAtFault);
      expect(f.outageSeconds).toBeLessThan(0.005);
    }
    expect(r.totals.restarts).toBe(3);
    expect(r.totals.otherLost).toBe(0);
    expect(r.totals.unsupervisedFailures).toBe(0);
  });

  it('iommu on a clustered driver: both NICs fault at once, one recovery per fault', async () => {
    const r = await runChaos(system('clustered'), options({ kinds: ['iommu'], seed: 1 }));
    for (const f of r.faults) {
      expect(f.restarted).toBe(true);
      expect(f.lostPackets).toBe(f.inFlightAtFault);
      expect(f.outageSeconds).toBeLessThan(0.005);
    }
    expect(r.totals.restarts).toBe(r.faults.length);
    expect(r.totals.otherLost).toBe(0);
  });

  it('is reproducible: the same seed gives the same report', async () => {
    const o = options({ kinds: ['kill', 'hang', 'corrupt'], faults: 2, durationMs: 40 });
    const a = await runChaos(system('isolated'), o);
    const b = await runChaos(system('isolated'), o);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = await runChaos(system('isolated'), { ...o, seed: 8 });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('is exported by the package entry point itself, not through the runner', () => {
    expect(entry.runChaos).toBe(runChaos);
    expect('runChaos' in runner).toBe(false);
  });

  it('rejects bad options and a system without a user-level driver', async () => {
    await expect(runChaos(system('isolated'), options({ faults: 0 }))).rejects.toThrow(
      StepOptionsError,
    );
    await expect(runChaos(system('isolated'), options({ kinds: [] }))).rejects.toThrow(/kinds/);
    await expect(runChaos(system('monolithic'), options({}))).rejects.toThrow(
      /no user-level driver/,
    );
  });
});
