// Worker bootstrap: registers tsx in this thread, then loads the TypeScript worker named in
// workerData.entry. (Node 20 does not apply `--import tsx` hooks to a worker's entry module.)
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
