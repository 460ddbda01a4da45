import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IdleLoopCpuMeter } from './idle-loop.js';
import { currentThreadId, SchedstatCpuMeter } from './schedstat.js';

// Real threads: only loose bounds here (shared CI machines); accuracy is the arithmetic's job.
describe('IdleLoopCpuMeter on worker threads', () => {
  it('calibrates, counts while measuring and reports utilisation in [0, 1]', async () => {
    const meter = await IdleLoopCpuMeter.create({ workers: 1, calibrationMs: 100 });
    try {
      expect(meter.calibration[0]).toBeGreaterThan(0);
      const before = meter.loops()[0]!;
      meter.start();
      await new Promise((r) => setTimeout(r, 100));
      const r = meter.stop();
      expect(meter.loops()[0]!).toBeGreaterThan(before);
      expect(r.perCpu).toHaveLength(1);
      expect(r.utilisation).toBeGreaterThanOrEqual(0);
      expect(r.utilisation).toBeLessThanOrEqual(1);
      expect(r.seconds).toBeGreaterThan(0.05);
    } finally {
      await meter.close();
    }
  });
});

describe.runIf(existsSync('/proc/thread-self/schedstat'))('SchedstatCpuMeter on Linux', () => {
  it('sees this thread burn CPU', () => {
    const tid = currentThreadId();
    const m = new SchedstatCpuMeter({ threads: [tid], cpus: 1 });
    m.start();
    const end = performance.now() + 30;
    let x = 0;
    while (performance.now() < end) x++;
    const r = m.stop();
    expect(x).toBeGreaterThan(0);
    expect(Object.keys(r.perThread!)).toEqual([String(tid)]);
    expect(r.utilisation).toBeGreaterThan(0);
    expect(r.utilisation).toBeLessThanOrEqual(1);
  });
});

describe('idle-loop workers and the parent’s flags', () => {
  it('start under --input-type=module in the parent (the worker body is CommonJS)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const { createRequire } = await import('node:module');
    const here = new URL('.', import.meta.url);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const entry = new URL('idle-loop.ts', here).href;
    const code = `const { IdleLoopCpuMeter } = await import(${JSON.stringify(entry)});
      const m = await IdleLoopCpuMeter.create({ workers: 1, calibrationMs: 50 });
      m.start(); await new Promise((r) => setTimeout(r, 20)); console.log(typeof m.stop().utilisation); await m.close();`;
    const r = spawnSync(
      process.execPath,
      ['--conditions=@udf/source', '--import', tsx, '--input-type=module', '-e', code],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.stderr).not.toMatch(/require is not defined/);
    expect(r.stdout.trim()).toBe('number');
  });
});
