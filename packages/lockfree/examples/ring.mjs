// A producer worker sends 1000 32-byte descriptors to a consumer worker, which sleeps when the
// ring is empty. Run: node examples/ring.mjs
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { NotificationBit, Notifier, SpscRing, sleepUntil, wake } from '@udf/lockfree';

const COUNT = 1000;
const CAPACITY = 256;
const WORDS = 8; // 32-byte descriptors
const BIT_AT = SpscRing.byteLength(CAPACITY, WORDS); // the consumer's notification word
const attach = (sab) => ({
  ring: new SpscRing(sab, 0, CAPACITY, WORDS),
  bit: new NotificationBit(sab, BIT_AT),
});

if (isMainThread) {
  // The main thread only starts both ends and reports: it never blocks, so a worker that fails
  // (or cannot load) is reported at once instead of hanging the program.
  const sab = new SharedArrayBuffer(BIT_AT + 64);
  const start = (role) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { sab, role } });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${role} exited (code ${code})`)));
    });
  const [received] = await Promise.all([start('consumer'), start('producer')]);
  console.log(`received ${received} descriptors in order`);
} else if (workerData.role === 'consumer') {
  const { ring, bit } = attach(workerData.sab);
  const out = new Uint32Array(32 * WORDS);
  let next = 0;
  while (next < COUNT) {
    const n = ring.popBatch(out, 32);
    for (let i = 0; i < n; i++) {
      if (out[i * WORDS] !== next++) throw new Error(`descriptor ${next - 1} out of order`);
    }
    // empty: request a signal, re-check, block; give up after 5 s instead of hanging
    if (n === 0 && !sleepUntil(bit, () => ring.count() > 0, 5_000)) {
      throw new Error('no descriptor for 5 s: the producer stalled');
    }
  }
  parentPort.postMessage(next);
} else {
  const { ring, bit } = attach(workerData.sab);
  const notifier = new Notifier(bit, { kind: 'when-asleep' });
  const desc = new Uint32Array(WORDS);
  for (let seq = 0; seq < COUNT; ) {
    desc[0] = seq;
    if (ring.push(desc)) {
      seq++;
      if (notifier.afterEnqueue(1)) wake(bit); // only if the consumer sleeps
    } else if (notifier.onDry()) wake(bit); // full: flush deferred wake-ups
  }
  parentPort.postMessage('done');
}
