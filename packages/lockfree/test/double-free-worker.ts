// The freeing side of a buffer pool, hostile: it frees every id it receives twice and pushes
// duplicate ids straight onto the free ring (bypassing `free`) until told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { BufferPool } from '../src/pool.js';
import { SpscRing } from '../src/ring.js';

const { sab, count, size, activeAt, stopIndex } = workerData as {
  sab: SharedArrayBuffer;
  count: number;
  size: number;
  activeAt: number;
  stopIndex: number;
};
const pool = new BufferPool(sab, 0, count, size);
const active = new SpscRing(sab, activeAt, 64, 1);
const control = new Int32Array(sab);
const id = new Uint32Array(1);
let x = 0x2545f491;
let received = 0;
let refused = 0;
let injected = 0;
Atomics.store(control, stopIndex + 1, 1); // started
while (Atomics.load(control, stopIndex) === 0) {
  if (active.pop(id) && pool.claim(id[0]!)) {
    received++;
    // the honest free: retried while the free ring is full of injected duplicates
    let freed = pool.free(id[0]!);
    while (!freed && Atomics.load(control, stopIndex) === 0) freed = pool.free(id[0]!);
    if (freed && !pool.free(id[0]!)) refused++; // the double free
  }
  // inject a duplicate of some valid id, leaving room for the honest frees
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  if (pool.freeRing.space() > count / 2) {
    id[0] = (x >>> 0) % count;
    if (pool.freeRing.push(id)) injected++;
  }
}
parentPort!.postMessage({ received, refused, injected, doubleFrees: pool.stats.doubleFrees });
