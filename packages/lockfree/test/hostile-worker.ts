// A hostile peer: writes random garbage into the given words of shared memory until told to stop.
import { parentPort, workerData } from 'node:worker_threads';

const { sab, words, stopIndex } = workerData as {
  sab: SharedArrayBuffer;
  words: number[];
  stopIndex: number;
};
const mem = new Int32Array(sab);
let x = 0x9e3779b9;
let writes = 0;
Atomics.store(mem, stopIndex + 1, 1); // started
while (Atomics.load(mem, stopIndex) === 0) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  const at = words[(x >>> 0) % words.length]!;
  // mostly garbage, sometimes small values that look plausible
  Atomics.store(mem, at, (x & 3) === 0 ? x & 0xff : x);
  writes++;
}
parentPort!.postMessage(writes);
