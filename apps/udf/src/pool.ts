/**
 * Runs experiment steps on a pool of worker threads (each step is an independent, deterministic
 * simulation, so running them side by side changes no result), reporting each as it finishes.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { StepResult } from '@udf/system';
import type { Step } from './steps.js';

/** Run `steps` on up to `parallelism` workers; `onResult` is called in completion order. */
export async function runSteps(
  steps: readonly Step[],
  onResult: (result: StepResult, index: number) => void,
  parallelism = Math.min(2, availableParallelism()),
): Promise<StepResult[]> {
  const results: StepResult[] = new Array(steps.length);
  let next = 0;
  const workerFile = new URL('./worker.js', import.meta.url);
  const lane = () =>
    new Promise<void>((done, fail) => {
      const worker = new Worker(workerFile);
      const feed = () => {
        if (next >= steps.length) {
          void worker.terminate().then(() => done());
          return;
        }
        const index = next++;
        worker.once('message', (msg: { ok: boolean; result?: StepResult; error?: string }) => {
          if (!msg.ok) {
            void worker.terminate();
            fail(
              new Error(
                `step ${steps[index]!.config} @ ${steps[index]!.loadMbps} Mb/s failed: ${msg.error}`,
              ),
            );
            return;
          }
          results[index] = msg.result!;
          onResult(msg.result!, index);
          feed();
        });
        worker.postMessage(steps[index]);
      };
      worker.once('error', fail);
      feed();
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, steps.length)) }, lane));
  return results;
}
