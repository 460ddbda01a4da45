import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DutyCycleLoad } from './duty-cycle.js';
import { IdleLoopCpuMeter } from './idle-loop.js';
import { SchedstatCpuMeter } from './schedstat.js';

describe('DutyCycleLoad', () => {
  it('rejects a duty outside [0, 1], a non-integer domain count and a non-positive period', async () => {
    for (const options of [{ duty: 1.5 }, { duty: -0.1 }, { domains: 0 }, { periodMs: 0 }]) {
      await expect(DutyCycleLoad.create(options)).rejects.toMatchObject({
        code: 'IPBENCH_BAD_CONFIG',
      });
    }
  });

  it('changes the duty of running domains and reports it', async () => {
    const load = await DutyCycleLoad.create({ domains: 2, duty: 0.25 });
    try {
      expect(load.domains).toBe(2);
      expect(load.duty).toBe(0.25);
      load.setDuty(0.75);
      expect(load.duty).toBe(0.75);
      expect(() => load.setDuty(2)).toThrow(
        expect.objectContaining({ code: 'IPBENCH_BAD_CONFIG' }),
      );
      expect(load.duty).toBe(0.75);
    } finally {
      await load.close();
    }
  });
});

// Both real-thread meters on one window of a real load. Only what cannot flake on a loaded
// 2-core CI machine is asserted; how closely they agree is the benchmark's job (README).
describe.runIf(existsSync('/proc/thread-self/schedstat'))('both CPU meters on one load', () => {
  it('read a ~50 % duty domain as shares in [0, 1], and schedstat sees its thread busy', async () => {
    const idle = await IdleLoopCpuMeter.create({ calibrationMs: 200 });
    const load = await DutyCycleLoad.create({ domains: 1, duty: 0.5 });
    try {
      expect(load.threadIds).toHaveLength(1);
      const tid = String(load.threadIds[0]);
      const sched = new SchedstatCpuMeter({ threads: load.threadIds });
      idle.start();
      sched.start();
      await sleep(500);
      const bySchedstat = sched.stop();
      const byIdleLoop = idle.stop();
      for (const u of [byIdleLoop.utilisation, bySchedstat.utilisation]) {
        expect(Number.isFinite(u)).toBe(true);
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThanOrEqual(1);
      }
      expect(Object.keys(bySchedstat.perThread!)).toEqual([tid]);
      expect(bySchedstat.perThread![tid]).toBeGreaterThan(0.1); // of one CPU; nominal 0.5
    } finally {
      await load.close();
      await idle.close();
    }
  }, 10_000);
});
