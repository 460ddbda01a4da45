// Producer for the sleepUntilAsync test: pushes `items` sequence numbers, pausing now and then
// so that the consumer (on an event loop) really runs dry and waits in Atomics.waitAsync.
import { parentPort, workerData } from 'node:worker_threads';
import { NotificationBit, Notifier, SpscRing, wake } from '../src/index.js';

const { sab, items, bitAt } = workerData as {
  sab: SharedArrayBuffer;
  items: number;
  bitAt: number;
};
const ring = new SpscRing(sab, 0, 64, 2);
const bit = new NotificationBit(sab, bitAt);
const notifier = new Notifier(bit, { kind: 'when-asleep' });
const pause = new Int32Array(new SharedArrayBuffer(4));
const slot = new Uint32Array(2);
let woken = 0;
for (let seq = 0; seq < items; ) {
  slot[0] = seq;
  slot[1] = ~seq >>> 0;
  if (ring.push(slot)) {
    seq++;
    if (notifier.afterEnqueue(1)) woken += wake(bit);
    if (seq % 50 === 0) Atomics.wait(pause, 0, 0, 2); // let the consumer run dry
  } else if (notifier.onDry()) woken += wake(bit);
}
parentPort!.postMessage({ woken, notifications: notifier.stats.notifications });
