// CPU per domain on threads across a restart (issue 16): the ledger follows a name's new Linux
// thread and carries the dead one's run time, so a domain's total never drops. A fake /proc.
import { describe, expect, it } from 'vitest';
import { ThreadCpuMeter, ThreadRunLedger, threadSchedNs } from './threads-cpu.js';

/** A fake /proc/self/task: run and wait ns per tid (absent: the thread is gone). */
function fakeProc() {
  const threads = new Map<number, { run: number; wait: number }>();
  const read = (path: string): string => {
    const m = /^\/proc\/self\/task\/(\d+)\/(schedstat|stat)$/.exec(path);
    const t = m ? threads.get(Number(m[1])) : undefined;
    if (!m || t === undefined) throw new Error(`ENOENT ${path}`);
    if (m[2] === 'schedstat') return `${t.run} ${t.wait} 7\n`;
    const ticks = Math.floor(t.run / 1e7);
    return `${m[1]} (node) S 1 1 1 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 1 0 0\n`;
  };
  return { threads, read };
}

describe('ThreadRunLedger', () => {
  it('carries a dead thread’s last reading into its name’s total when the name gets a new thread', () => {
    const proc = fakeProc();
    const tids: Record<string, number> = { driver: 10, stack: 11 };
    proc.threads.set(10, { run: 5e6, wait: 0 });
    proc.threads.set(11, { run: 1e6, wait: 0 });
    const ledger = new ThreadRunLedger(() => tids, proc.read);
    expect(ledger.runNs('driver')).toBe(5e6);
    expect(ledger.source).toBe('schedstat');
    proc.threads.get(10)!.run = 8e6;
    expect(ledger.sample().get('driver')).toBe(8e6);
    // the worker runs a little more, then dies unread; a fresh one (tid 12) takes its place
    proc.threads.get(10)!.run = 9e6;
    expect(ledger.runNs('driver')).toBe(9e6); // the restarter's reading just before the stop
    proc.threads.delete(10);
    proc.threads.set(12, { run: 2e6, wait: 0 });
    tids.driver = 12;
    expect(ledger.runNs('driver')).toBe(9e6 + 2e6);
    proc.threads.get(12)!.run = 3e6;
    expect(ledger.sample().get('driver')).toBe(12e6);
    expect(ledger.sample().get('stack')).toBe(1e6);
  });

  it('takes the old thread’s final reading at the change if it still exists', () => {
    const proc = fakeProc();
    const tids: Record<string, number> = { driver: 10 };
    proc.threads.set(10, { run: 5e6, wait: 0 });
    const ledger = new ThreadRunLedger(() => tids, proc.read);
    ledger.sample();
    proc.threads.get(10)!.run = 7e6;
    proc.threads.set(12, { run: 1e6, wait: 0 });
    tids.driver = 12;
    expect(ledger.runNs('driver')).toBe(8e6);
  });

  it('a meter window over a restart: the domain’s CPU is what both workers ran, never negative', () => {
    const proc = fakeProc();
    const tids: Record<string, number> = { driver: 10 };
    proc.threads.set(10, { run: 100e6, wait: 0 });
    const ledger = new ThreadRunLedger(() => tids, proc.read);
    const meter = new ThreadCpuMeter(ledger, 2);
    meter.start();
    proc.threads.get(10)!.run = 130e6;
    ledger.runNs('driver'); // a heartbeat check reads it
    proc.threads.delete(10);
    proc.threads.set(12, { run: 20e6, wait: 0 });
    tids.driver = 12;
    const r = meter.stop();
    const seconds = r.seconds ?? 0;
    expect(seconds).toBeGreaterThan(0);
    // 30 ms of the old worker + 20 ms of the fresh one, as a share of the window
    expect(r.perThread?.driver).toBeCloseTo(50e6 / (seconds * 1e9), 6);
    // before the fix the meter read the dead thread (nothing) and the new one from 0: the
    // domain's total went from 100 ms to 20 ms
  });

  it('the stat source (no schedstat) follows a new thread as well', () => {
    const proc = fakeProc();
    const read = (p: string) =>
      p.endsWith('schedstat') ? '0 0 0\n' : proc.read(p.replace(/schedstat$/, 'stat'));
    const tids: Record<string, number> = { driver: 10 };
    proc.threads.set(10, { run: 50e6, wait: 0 });
    const ledger = new ThreadRunLedger(() => tids, read);
    expect(ledger.runNs('driver')).toBe(50e6);
    expect(ledger.source).toBe('stat');
    proc.threads.delete(10);
    proc.threads.set(12, { run: 20e6, wait: 0 });
    tids.driver = 12;
    expect(ledger.runNs('driver')).toBe(70e6);
    expect(ledger.sched('driver')).toBe(null);
  });

  it('threadSchedNs: run and run-queue wait; all zeros (no scheduler statistics) is unknown', () => {
    const read = (p: string) => (p.includes('/1/') ? '123 456 7\n' : '0 0 0\n');
    expect(threadSchedNs(1, read)).toEqual({ runNs: 123, waitNs: 456 });
    expect(threadSchedNs(2, read)).toBe(null);
    expect(
      threadSchedNs(3, () => {
        throw new Error('gone');
      }),
    ).toBe(null);
  });
});
