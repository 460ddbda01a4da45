/**
 * Entry of a domain worker: attaches to the kernel region, builds the domain's components from
 * their plain-data references, reports `ready`, and on `start` runs the domain scheduler
 * (synchronously: the worker then lives in `Atomics.wait` on its doorbell, not in its event loop).
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CycleClock } from './clock.js';
import { loadComponent } from './component.js';
import { ControlBlocks } from './control-blocks.js';
import { CounterBoard } from './counter-board.js';
import { InterruptTable } from './interrupts.js';
import { IpcPath } from './ipc.js';
import { WorkerSlowPath } from './kernel-link.js';
import { DomainDevices, DomainMemory } from './memory.js';
import type { DomainWorkerData, WorkerReport } from './protocol.js';
import { DomainScheduler } from './scheduler.js';

const data = workerData as DomainWorkerData;
const port = parentPort!;
const post = (m: WorkerReport) => port.postMessage(m);

function describe(e: unknown): { message: string; stack?: string } {
  if (e instanceof Error) return { message: `${e.name}: ${e.message}`, stack: e.stack };
  return { message: String(e) };
}

const blocks = new ControlBlocks(data.kernel);
// the locks this worker takes carry its tag: should the engine terminate it holding one, the
// main thread releases exactly those (ControlBlocks.recoverLocks)
blocks.owner = data.domain + 1;
const irq = data.irqTable === null ? null : new InterruptTable(blocks, data.irqTable);
const ipc = new IpcPath(blocks, data.latch, irq);
const memory = new DomainMemory(data.memory, {
  port: data.memoryPort,
  link: data.link,
  domain: data.domain,
});
const slow = new WorkerSlowPath(
  data.link,
  data.domain,
  (r) => port.postMessage(r),
  () => memory.sync(),
  () => blocks.stopRequested(data.domain),
);
ipc.slow = slow;
const scheduler = new DomainScheduler({
  slow,
  domain: data.domain,
  blocks,
  ipc,
  clock: new CycleClock(data.hz, data.epochMs),
  memory,
  devices: new DomainDevices(data.devices, irq === null ? undefined : (line) => irq.lower(line)),
  spinMicros: data.spinMicros,
  board: new CounterBoard(data.board),
  onExit: (id, error) =>
    post(
      error === undefined
        ? { type: 'exit', id }
        : { type: 'exit', id, kind: 'THREAD_FAILED', ...describe(error) },
    ),
});

async function main(): Promise<void> {
  for (const t of data.threads) {
    try {
      scheduler.add(t.id, t.priority, await loadComponent(t.component), t.pager);
    } catch (e) {
      ipc.kill(t.id);
      post({ type: 'exit', id: t.id, kind: 'COMPONENT_LOAD', ...describe(e) });
    }
  }
  port.once('message', () => {
    const how = scheduler.run();
    const counters = { ...scheduler.counters, ...ipc.counters, how: how === 'done' ? 1 : 0 };
    post({ type: 'stopped', how, counters });
  });
  post({ type: 'ready' });
}

// (not top-level await: the CommonJS build of this entry must parse too)
void main();
