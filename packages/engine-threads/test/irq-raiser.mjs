// A worker that drives interrupt lines: the test posts { op: 'raise' | 'lower', line } and gets
// 'done' back. Imports the engine's InterruptTable through the workspace sources (tsx bootstrap).
import { parentPort, workerData } from 'node:worker_threads';

const { ControlBlocks, InterruptTable } = await import(workerData.engine);
const blocks = new ControlBlocks(workerData.kernel);
const table = new InterruptTable(blocks, workerData.irqTable);
parentPort.on('message', (m) => {
  if (m.op === 'raise') table.raise(m.line);
  else if (m.op === 'lower') table.lower(m.line);
  else if (m.op === 'stress') {
    // a device whose cause count `pending` the handler consumes: the line is asserted while
    // pending > 0; only this worker adds, so lowering when it reads 0 cannot hide a new cause
    const p = new Int32Array(m.pending);
    for (let i = 0; i < m.events; i++) {
      Atomics.add(p, 0, 1);
      table.raise(m.line);
      if ((i & 63) === 0 && Atomics.load(p, 0) === 0) table.lower(m.line);
    }
    const end = Date.now() + 10_000;
    while (Atomics.load(p, 0) !== 0 && Date.now() < end) Atomics.wait(p, 1, 0, 1);
    table.lower(m.line);
  }
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
