import { Worker } from 'node:worker_threads';
import { checkNumber } from '../errors.js';

/** Options of {@link DutyCycleLoad.create}. */
export interface DutyCycleLoadOptions {
  /** Busy worker threads ("domains"). Default 1. */
  domains?: number;
  /** Share of every period each domain spins, 0..1. Default 0 (idle until {@link DutyCycleLoad.setDuty}). */
  duty?: number;
  /** Length of one busy + sleep period in ms. Default 1. */
  periodMs?: number;
}

// Slot 0 of the control words is the stop flag (also the futex the domains sleep on); slot 1 is
// the duty in parts per million, so it can change without restarting the threads.
const STOP = 0;
const DUTY = 1;
const PPM = 1_000_000;

// Plain JS evaluated from a string, so it works from src/ (vitest, tsx) and from dist/ alike.
// The busy slice is timed from when the thread actually wakes (a late wake-up must not shorten
// it) while the periods stay on an absolute schedule, so on an uncontended CPU the thread is
// busy for duty × period of wall time in every period. A thread that falls behind (preempted)
// restarts the schedule instead of catching up: the lost CPU time is lost, as for a real domain.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { control, periodMs } = workerData;
let tid = -1;
try {
  tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
} catch {}
parentPort.postMessage(Number.isInteger(tid) ? tid : -1);
let sink = 0;
let periodStart = performance.now();
while (Atomics.load(control, ${STOP}) === 0) {
  const busyEnd = performance.now() + (Atomics.load(control, ${DUTY}) / ${PPM}) * periodMs;
  while (performance.now() < busyEnd) sink = (sink + 1) | 0;
  periodStart += periodMs;
  const now = performance.now();
  if (periodStart <= now) periodStart = now;
  else Atomics.wait(control, ${STOP}, 0, periodStart - now);
}
`;

/**
 * A synthetic target with a known CPU load: `domains` worker threads that each spin for
 * `duty` of every `periodMs` and sleep the rest, so the machine is busy
 * `domains × duty / CPUs` of the time. Use it to check a {@link TargetCpuMeter} against the truth
 * before trusting it on a real target (`bench/index.ts` runs both real-thread meters on it).
 */
export class DutyCycleLoad {
  readonly #workers: Worker[];
  readonly #control: Int32Array;
  readonly #threadIds: readonly number[];

  private constructor(workers: Worker[], control: Int32Array, threadIds: readonly number[]) {
    this.#workers = workers;
    this.#control = control;
    this.#threadIds = threadIds;
  }

  /** Starts the domains and resolves once every one is running. */
  static async create(options: DutyCycleLoadOptions = {}): Promise<DutyCycleLoad> {
    const domains = options.domains ?? 1;
    checkNumber('domains', domains, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    const periodMs = options.periodMs ?? 1;
    checkNumber('periodMs', periodMs, (v) => v > 0, 'a positive number of ms');
    const control = new Int32Array(new SharedArrayBuffer(8));
    Atomics.store(control, DUTY, toPpm(options.duty ?? 0));
    const workers = Array.from(
      { length: domains },
      () =>
        new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { control, periodMs } }),
    );
    const tids = await Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    return new DutyCycleLoad(
      workers,
      control,
      tids.filter((t) => t >= 0),
    );
  }

  /** Linux thread ids of the domains (for a {@link SchedstatCpuMeter}); empty elsewhere. */
  get threadIds(): readonly number[] {
    return this.#threadIds;
  }

  /** Number of domain threads. */
  get domains(): number {
    return this.#workers.length;
  }

  /** The current duty cycle, 0..1 (to 1 ppm). */
  get duty(): number {
    return Atomics.load(this.#control, DUTY) / PPM;
  }

  /** Changes every domain's duty cycle from its next period on. */
  setDuty(duty: number): void {
    Atomics.store(this.#control, DUTY, toPpm(duty));
  }

  /** Stops and terminates the domains. */
  async close(): Promise<void> {
    Atomics.store(this.#control, STOP, 1);
    Atomics.notify(this.#control, STOP);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

function toPpm(duty: number): number {
  checkNumber('duty', duty, (v) => v >= 0 && v <= 1, 'a share in [0, 1]');
  return Math.round(duty * PPM);
}
