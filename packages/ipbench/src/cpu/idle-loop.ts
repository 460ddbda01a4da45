import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkNumber, IpbenchError } from '../errors.js';
import { type CpuReading, clamp01, type TargetCpuMeter } from './meter.js';

/**
 * Busy share implied by an idle loop that ran `loops` times in `seconds`, when an unloaded CPU
 * runs it `calibratedPerSecond` times a second (ipbench `cpu_target`, after Andrew Morton's
 * cyclesoak): `1 − rate / calibrated`, clamped to [0, 1].
 */
export function idleLoopUtilisation(
  loops: number,
  seconds: number,
  calibratedPerSecond: number,
): number {
  if (seconds <= 0 || calibratedPerSecond <= 0) return 0;
  return clamp01(1 - loops / seconds / calibratedPerSecond);
}

/** Options of {@link IdleLoopCpuMeter.create}. */
export interface IdleLoopOptions {
  /** Idle-loop workers, one per CPU to watch. Default `os.availableParallelism()`. */
  workers?: number;
  /** Length of the unloaded calibration run in ms. Default 500. */
  calibrationMs?: number;
  /** Niceness the workers ask for (Linux, best effort). Default 19, the lowest priority. */
  nice?: number;
  /** Inner iterations per counted loop. Default 2000. */
  chunk?: number;
}

// The worker body is plain JS evaluated from a string, so it works from src/ (vitest, tsx) and
// from the bundled dist/ alike.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { counters, index, nice, chunk } = workerData;
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid)) require('node:os').setPriority(tid, nice);
} catch {}
let sink = 0;
for (;;) {
  if (Atomics.load(counters, index * 2 + 1) !== 0n) break;
  for (let i = 0; i < chunk; i++) sink = (sink + i) | 0;
  Atomics.add(counters, index * 2, 1n);
}
`;

/**
 * ipbench's `cpu_target` method on real threads: one low-priority worker per CPU spins in a
 * counting loop; utilisation is how much slower it counts than in an unloaded calibration run.
 *
 * @remarks Needs the target's work to preempt the loop (the workers ask for niceness 19 on Linux).
 * Call {@link IdleLoopCpuMeter.calibrate} while the target is idle; `create` does it once.
 */
export class IdleLoopCpuMeter implements TargetCpuMeter {
  readonly #workers: Worker[];
  readonly #counters: BigInt64Array;
  #calibrated: number[];
  #from: { at: number; loops: number[] } | null = null;
  #failed: Error | undefined;

  private constructor(workers: Worker[], counters: BigInt64Array) {
    this.#workers = workers;
    this.#counters = counters;
    this.#calibrated = workers.map(() => 0);
  }

  /** Spawns the idle-loop workers and calibrates them against the current (idle) machine. */
  static async create(options: IdleLoopOptions = {}): Promise<IdleLoopCpuMeter> {
    const n = options.workers ?? availableParallelism();
    checkNumber('workers', n, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    const counters = new BigInt64Array(new SharedArrayBuffer(16 * n));
    const workers = Array.from(
      { length: n },
      (_, index) =>
        new Worker(WORKER_SOURCE, {
          eval: true,
          // The body is CommonJS: never inherit flags such as --input-type=module from the parent.
          execArgv: [],
          workerData: { counters, index, nice: options.nice ?? 19, chunk: options.chunk ?? 2000 },
        }),
    );
    const meter = new IdleLoopCpuMeter(workers, counters);
    // A worker that fails is reported to the caller (a 451 from a daemon), never a crash.
    for (const w of workers) {
      w.on('error', (e) => {
        meter.#failed ??= e;
      });
    }
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise((resolve, reject) => {
              w.once('online', resolve);
              w.once('error', reject);
            }),
        ),
      );
      await meter.calibrate(options.calibrationMs ?? 500);
    } catch (e) {
      await meter.close();
      throw new IpbenchError('IPBENCH_UNSUPPORTED', `idle loop failed: ${(e as Error).message}`);
    }
    return meter;
  }

  /** Calibrated loops per second of each worker. */
  get calibration(): readonly number[] {
    return this.#calibrated;
  }

  /** Total loops counted so far by each worker. */
  loops(): number[] {
    return this.#workers.map((_, i) => Number(Atomics.load(this.#counters, i * 2)));
  }

  /** Measures the unloaded loop rate over `ms` milliseconds (run it with the target idle). */
  async calibrate(ms = 500): Promise<readonly number[]> {
    const a = this.loops();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const b = this.loops();
    const s = (performance.now() - t0) / 1000;
    this.#calibrated = b.map((v, i) => (v - a[i]!) / s);
    if (this.#calibrated.some((v) => v <= 0)) {
      throw new IpbenchError('IPBENCH_UNSUPPORTED', 'idle loop did not run during calibration');
    }
    return this.#calibrated;
  }

  /** Opens a window. */
  start(): void {
    this.#from = { at: performance.now(), loops: this.loops() };
  }

  /** Closes the window: busy share per worker and their mean. */
  stop(): CpuReading {
    if (this.#failed) {
      throw new IpbenchError('IPBENCH_UNSUPPORTED', `idle loop failed: ${this.#failed.message}`);
    }
    const to = this.loops();
    const from = this.#from ?? { at: performance.now(), loops: to };
    const seconds = (performance.now() - from.at) / 1000;
    this.#from = null;
    const perCpu = to.map((v, i) =>
      idleLoopUtilisation(v - from.loops[i]!, seconds, this.#calibrated[i]!),
    );
    const utilisation = perCpu.reduce((a, b) => a + b, 0) / perCpu.length;
    return { utilisation, perCpu, seconds };
  }

  /** Stops and terminates the workers. */
  async close(): Promise<void> {
    for (let i = 0; i < this.#workers.length; i++) Atomics.store(this.#counters, i * 2 + 1, 1n);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
