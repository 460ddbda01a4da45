import { describe, expect, it } from 'vitest';
import { idleLoopUtilisation } from './idle-loop.js';
import { IdleAccountingCpuMeter } from './meter.js';
import { parseSchedstat, SchedstatCpuMeter } from './schedstat.js';

describe('IdleAccountingCpuMeter (sim engine)', () => {
  it('reports 1 − Δidle/Δtotal and the category shares of the window', () => {
    const acc = { idle: 100, total: 1000, categories: { IPC: 10, Driver: 20 } };
    const m = new IdleAccountingCpuMeter(() => acc, 1000);
    m.start();
    acc.idle += 680;
    acc.total += 1000;
    acc.categories = { IPC: 60, Driver: 170 };
    const r = m.stop();
    expect(r.utilisation).toBeCloseTo(0.32, 12);
    expect(r.seconds).toBe(1);
    expect(r.profile).toEqual({ IPC: 0.05, Driver: 0.15 });
  });
});

describe('idle-loop arithmetic (ipbench cpu_target)', () => {
  it('is 1 − rate / calibrated rate, clamped to [0, 1]', () => {
    expect(idleLoopUtilisation(700, 1, 1000)).toBeCloseTo(0.3, 12);
    expect(idleLoopUtilisation(1500, 1, 1000)).toBe(0);
    expect(idleLoopUtilisation(0, 2, 1000)).toBe(1);
    expect(idleLoopUtilisation(10, 0, 1000)).toBe(0);
  });
});

describe('SchedstatCpuMeter', () => {
  it('parses schedstat lines and rejects garbage', () => {
    expect(parseSchedstat('123456 789 42\n')).toEqual({
      runNs: 123456,
      waitNs: 789,
      timeslices: 42,
    });
    expect(parseSchedstat('nonsense')).toBeNull();
  });

  it('divides the threads’ run time by wall time × CPUs', () => {
    let t = 0;
    const run: Record<string, number> = { '11': 1e9, '12': 5e8 };
    const m = new SchedstatCpuMeter({
      threads: [11, 12, 13],
      cpus: 2,
      now: () => t,
      readFile: (p) => {
        const tid = /task\/(\d+)\//.exec(p)![1]!;
        if (!(tid in run)) throw new Error('ENOENT');
        return `${run[tid]} 0 1\n`;
      },
    });
    m.start();
    t += 1000; // 1 s
    run['11']! += 6e8;
    run['12']! += 2e8;
    const r = m.stop();
    expect(r.utilisation).toBeCloseTo(0.4, 12);
    expect(r.perThread).toEqual({ '11': 0.6, '12': 0.2 });
  });
});
