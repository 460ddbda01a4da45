// Per-thread figures from Linux: CPU time (the same source as the runner's ThreadCpuMeter) and
// context switches. A voluntary context switch is the thread blocking in the kernel — for a
// domain worker, an `Atomics.wait` on its doorbell that really slept (a futex wait) — so each one
// is a real wake-up the thread needed to run again: the honest count of wake-ups.
import { readFileSync } from 'node:fs';
import { type ThreadCpuSource, threadRunNs } from '@udf/system';

/** One thread's counts at one moment. */
export interface ThreadSample {
  /** Run time, ns. */
  readonly runNs: number;
  /** Times it blocked (slept) and was woken. */
  readonly voluntary: number;
  /** Times the scheduler took the CPU from it while it could run (CPU contention). */
  readonly involuntary: number;
}

function switches(tid: number): { voluntary: number; involuntary: number } {
  try {
    const s = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    const v = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(s);
    const n = /^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(s);
    return { voluntary: Number(v?.[1] ?? 0), involuntary: Number(n?.[1] ?? 0) };
  } catch {
    return { voluntary: 0, involuntary: 0 };
  }
}

/** Sample named threads (tid ≤ 0: skipped). */
export function sampleThreads(
  tids: Readonly<Record<string, number>>,
  source: Exclude<ThreadCpuSource, 'none'>,
): Record<string, ThreadSample> {
  const out: Record<string, ThreadSample> = {};
  for (const [name, tid] of Object.entries(tids)) {
    if (tid <= 0) continue;
    out[name] = { runNs: threadRunNs(tid, source) ?? 0, ...switches(tid) };
  }
  return out;
}

/** What each thread added between two samples. */
export function threadDeltas(
  from: Readonly<Record<string, ThreadSample>>,
  to: Readonly<Record<string, ThreadSample>>,
): Record<string, ThreadSample> {
  const out: Record<string, ThreadSample> = {};
  for (const [name, b] of Object.entries(to)) {
    const a = from[name];
    if (a === undefined) continue;
    out[name] = {
      runNs: b.runNs - a.runNs,
      voluntary: b.voluntary - a.voluntary,
      involuntary: b.involuntary - a.involuntary,
    };
  }
  return out;
}

/** The Linux thread id of the calling thread, -1 off Linux. */
export function ownThreadId(): number {
  try {
    return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
  } catch {
    return -1;
  }
}
