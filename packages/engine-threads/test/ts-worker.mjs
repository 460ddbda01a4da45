// Worker bootstrap for running from TypeScript sources (vitest): registers tsx in this thread,
// then loads the TypeScript entry named in workerData.entry. (Node 20 does not apply
// `--import tsx` hooks to a worker's entry module.) The engine starts workers with
// `--conditions=@udf/source` so workspace packages resolve to their sources too.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
