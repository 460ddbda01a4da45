// Worker: binds counters objects onto a shared counters page, one after another, so the page's
// name table grows and is rewritten while the main thread reads it (the race of
// counters-page.test.ts). Round r fills page r of `sab` and announces it in `go[1]`.
import { workerData } from 'node:worker_threads';
import { COUNTERS_PAGE_BYTES, CountersPage } from '../src/counters-page.js';

const { sab, rounds, binds, go } = workerData as {
  sab: SharedArrayBuffer;
  rounds: number;
  binds: number;
  go: Int32Array;
};
Atomics.store(go, 0, 1);
for (let r = 0; r < rounds; r++) {
  const page = new CountersPage(sab, r * COUNTERS_PAGE_BYTES);
  Atomics.store(go, 1, r);
  for (let i = 0; i < binds; i++) page.bind(`round${r}.component${i}`, { frames: i });
}
Atomics.store(go, 0, 2);
