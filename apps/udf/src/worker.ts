/** Worker-thread entry: runs one experiment step per message and answers with a result or one line. */
import { parentPort } from 'node:worker_threads';
import { loadSystem, runStep } from '@udf/system';
import type { WorkerReply } from './pool.js';
import type { Step } from './steps.js';

parentPort!.on('message', async (step: Step) => {
  let reply: WorkerReply;
  try {
    reply = { ok: true, result: await runStep(loadSystem(step.file), step) };
  } catch (e) {
    const err = e as Error;
    reply = { ok: false, error: `${err.name}: ${String(err.message).split('\n')[0]}` };
  }
  parentPort!.postMessage(reply);
});
