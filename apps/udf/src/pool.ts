/**
 * Runs experiment steps on a pool of worker threads (each step is an independent, deterministic
 * simulation, so running them side by side changes no result), reporting each as it finishes. A
 * step that fails is recorded and the others still run: one failure never discards the rest.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { StepResult } from '@udf/system';
import type { Step } from './steps.js';

/** A step that did not complete: which one, and the one-line reason. */
export interface StepFailure {
  /** Index of the step in the list given to {@link runSteps}. */
  readonly index: number;
  readonly config: string;
  readonly holdoffUs: number;
  readonly loadMbps: number;
  /** One line: the error's name and message (no stack). */
  readonly error: string;
}

/** What {@link runSteps} returns: results of the steps that completed, and the failures. */
export interface StepOutcome {
  /** Completed results, in step order. */
  readonly results: StepResult[];
  /** Failed steps, in step order. */
  readonly failures: StepFailure[];
}

/** Most worker threads `udf` starts: twice the cores the machine offers. */
export const MAX_JOBS = 2 * availableParallelism();

/** What a worker answers for one step. */
export type WorkerReply = { ok: true; result: StepResult } | { ok: false; error: string };

/** Run `steps` on up to `parallelism` workers; `onDone` is called in completion order. */
export async function runSteps(
  steps: readonly Step[],
  onDone: (result: StepResult | null, index: number) => void,
  parallelism = Math.min(2, availableParallelism()),
): Promise<StepOutcome> {
  const results: (StepResult | undefined)[] = new Array(steps.length);
  const failures: StepFailure[] = [];
  let next = 0;
  const workerFile = new URL('./worker.js', import.meta.url);
  const fail = (index: number, error: string) => {
    const s = steps[index]!;
    failures.push({ index, config: s.config, holdoffUs: s.holdoffUs, loadMbps: s.loadMbps, error });
    onDone(null, index);
  };
  const lane = () =>
    new Promise<void>((done) => {
      let worker: Worker | null = null;
      let current = -1;
      const spawn = () => {
        const w = new Worker(workerFile);
        w.on('message', (msg: WorkerReply) => {
          if (msg.ok) {
            results[current] = msg.result;
            onDone(msg.result, current);
          } else fail(current, msg.error);
          current = -1;
          feed();
        });
        // The worker died (out of memory, a crash, an exit): fail its step, go on with a new one.
        const lost = (why: string) => {
          if (worker !== w) return;
          worker = null;
          if (current >= 0) fail(current, why);
          current = -1;
          void w.terminate();
          feed();
        };
        w.on('error', (e) => lost(`worker failed: ${e.message.split('\n')[0]}`));
        w.on('exit', (code) => lost(`worker exited with code ${code}`));
        return w;
      };
      const feed = () => {
        if (next >= steps.length) {
          const w = worker;
          worker = null;
          if (w) void w.terminate();
          done();
          return;
        }
        current = next++;
        worker ??= spawn();
        worker.postMessage(steps[current]);
      };
      feed();
    });
  const lanes = Math.max(1, Math.min(parallelism, steps.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  failures.sort((a, b) => a.index - b.index);
  return { results: results.filter((r): r is StepResult => r !== undefined), failures };
}
