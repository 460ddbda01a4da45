/** Worker-thread entry: runs one experiment step per message. */
import { parentPort } from 'node:worker_threads';
import { loadSystem, runStep } from '@udf/system';
import type { Step } from './steps.js';

parentPort!.on('message', async (step: Step) => {
  try {
    const result = await runStep(loadSystem(step.file), step);
    parentPort!.postMessage({ ok: true, result });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
