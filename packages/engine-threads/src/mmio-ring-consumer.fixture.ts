// A test fixture, run in a worker by mmio-ring.test.ts (not part of the package): a consumer of
// one MMIO ring that follows the device worker's doorbell protocol (announce the sleep in bit 0
// of the doorbell, wait on the announced value, clear the bit when awake) and dawdles at random
// so that the reader on the other side gives up spinning and sleeps. It counts the waits that
// ran into their (long) timeout: with no lost wake-up there are none while the reader works.
import { parentPort, workerData } from 'node:worker_threads';
import type { MmioDevice } from '@udf/l4-kernel';
import { DEVICE_BELL_SLEEPING, drainMmioRing } from './mmio-ring.js';

const { ring, bell, stop } = workerData as {
  ring: SharedArrayBuffer;
  bell: SharedArrayBuffer;
  stop: SharedArrayBuffer;
};
const r = new Int32Array(ring);
const b = new Int32Array(bell);
const halt = new Int32Array(stop);
let seed = 12345;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
};
const device: MmioDevice = { mmioSize: 4096, read32: (o) => o * 3 + 1, write32: () => {} };
let timedOut = 0;
let waits = 0;
while (Atomics.load(halt, 0) === 0) {
  const v = Atomics.load(b, 0);
  if (rnd() % 3 === 0) {
    // dawdle up to 300 µs: longer than the reader spins
    const until = performance.now() + (rnd() % 300) / 1000;
    while (performance.now() < until) {
      // busy
    }
  }
  drainMmioRing(r, device);
  if (Atomics.load(b, 0) !== v) continue;
  const s = v | DEVICE_BELL_SLEEPING;
  if (Atomics.compareExchange(b, 0, v, s) !== v) continue;
  waits++;
  if (Atomics.wait(b, 0, s, 2000) === 'timed-out' && Atomics.load(halt, 0) === 0) timedOut++;
  Atomics.and(b, 0, ~DEVICE_BELL_SLEEPING);
}
parentPort!.postMessage({ timedOut, waits });
