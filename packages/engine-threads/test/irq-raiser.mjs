// A worker that drives interrupt lines: the test posts { op: 'raise' | 'lower', line } and gets
// 'done' back. Imports the engine's InterruptTable through the workspace sources (tsx bootstrap).
import { parentPort, workerData } from 'node:worker_threads';

const { ControlBlocks, InterruptTable } = await import(workerData.engine);
const blocks = new ControlBlocks(workerData.kernel);
const table = new InterruptTable(blocks, workerData.irqTable);
parentPort.on('message', (m) => {
  if (m.op === 'raise') table.raise(m.line);
  else table.lower(m.line);
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
