// The consumer runs on the main thread's event loop (as on a browser's main thread, where
// Atomics.wait throws): it awaits sleepUntilAsync instead of blocking. Run:
// node examples/async-consumer.mjs
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { NotificationBit, Notifier, SpscRing, sleepUntilAsync, wake } from '@udf/lockfree';

const COUNT = 1000;
const CAPACITY = 64;
const WORDS = 8;
const BIT_AT = SpscRing.byteLength(CAPACITY, WORDS);

if (isMainThread) {
  const sab = new SharedArrayBuffer(BIT_AT + 64);
  const ring = new SpscRing(sab, 0, CAPACITY, WORDS);
  const bit = new NotificationBit(sab, BIT_AT);
  const producer = new Worker(new URL(import.meta.url), { workerData: sab });
  let failure;
  producer.once('error', (err) => {
    failure = err;
  });
  const out = new Uint32Array(16 * WORDS);
  let next = 0;
  while (next < COUNT && !failure) {
    const n = ring.popBatch(out, 16);
    for (let i = 0; i < n; i++) {
      if (out[i * WORDS] !== next++) throw new Error(`descriptor ${next - 1} out of order`);
    }
    // the event loop keeps running while we wait: timers, I/O, the worker's error event
    if (n === 0 && !(await sleepUntilAsync(bit, () => ring.count() > 0, 5_000))) {
      throw new Error('no descriptor for 5 s: the producer stalled');
    }
  }
  if (failure) throw failure;
  console.log(`received ${next} descriptors without blocking the main thread`);
} else {
  const ring = new SpscRing(workerData, 0, CAPACITY, WORDS);
  const bit = new NotificationBit(workerData, BIT_AT);
  const notifier = new Notifier(bit, { kind: 'when-asleep' });
  const desc = new Uint32Array(WORDS);
  for (let seq = 0; seq < COUNT; ) {
    desc[0] = seq;
    if (ring.push(desc)) {
      seq++;
      if (notifier.afterEnqueue(1)) wake(bit);
    } else if (notifier.onDry()) wake(bit);
  }
}
