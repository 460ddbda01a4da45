// The threads runner end to end on one placement: a short ramp of real load, results marked
// engine 'threads', CPU per domain from the workers' own thread ids, per-step counters.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { counterDeltas, runThreadsRamp } from './threads-runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');

describe('runThreadsRamp', () => {
  it('isolated: two steps echo real load; rows are engine threads with CPU per domain', async () => {
    const sys = loadSystem(resolve(apps, 'isolated', 'system.yaml'));
    const rs = await runThreadsRamp(sys, {
      loadsMbps: [2, 4],
      durationMs: 300,
      warmupMs: 100,
      packetSize: 256,
    });
    expect(rs).toHaveLength(2);
    for (const r of rs) {
      expect(r.engine).toBe('threads');
      expect(r.achievedMbps).toBeGreaterThan(0);
      expect(r.rttUs.avg).toBeGreaterThan(0);
      expect(r.profile).toEqual({});
      // every domain's worker and the device worker reported a thread id (Linux)
      if (process.platform === 'linux')
        expect(Object.keys(r.cpuByDomain ?? {}).sort()).toEqual(
          ['devices', 'driver', 'memory', 'stack'].sort(),
        );
      // this step's frames, not the ramp's so far
      expect(r.counters['nic0.rxArrived']).toBeGreaterThan(0);
      expect(r.counters['nic0.rxArrived']).toBeLessThan(2 * (r.ipbench.sends + 200));
    }
  }, 60_000);

  it('counterDeltas: what a step added', () => {
    expect(counterDeltas({ a: 1, b: 5 }, { a: 4, b: 5, c: 2 })).toEqual({ a: 3, b: 0, c: 2 });
  });
});
