import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type StressConfig, stressBytes } from '../test/stress-layout.js';
import type { NotifyPolicy } from './notify.js';

const BOOTSTRAP = new URL('../test/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('../test/stress-worker.ts', import.meta.url).href;

interface ProducerReport {
  stuck: boolean;
  lostWakeups: number;
  sent: number;
  woken: number;
  notifications: number;
  suppressed: number;
  corruptions: number;
}
interface ConsumerReport {
  stuck: boolean;
  lostWakeups: number;
  received: number;
  errors: number;
  firstError: string;
  sleeps: number;
  producerWoken: number;
  corruptions: number;
}

function runWorker<T>(
  role: string,
  sab: SharedArrayBuffer,
  config: StressConfig,
): [Worker, Promise<T>] {
  const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY, role, sab, config } });
  const done = new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`${role} exited with code ${code} before reporting`)),
    );
  });
  return [worker, done];
}

async function transfer(config: StressConfig) {
  const sab = new SharedArrayBuffer(stressBytes(config));
  const [cw, consumer] = runWorker<ConsumerReport>('consumer', sab, config);
  const [pw, producer] = runWorker<ProducerReport>('producer', sab, config);
  try {
    const [p, c] = await Promise.all([producer, consumer]);
    return { p, c };
  } finally {
    await Promise.all([cw.terminate(), pw.terminate()]);
  }
}

const base = { capacity: 1024, slotWords: 4, maxBatch: 32, seed: 12345 } as const;
const blocking: Array<[string, NotifyPolicy, number]> = [
  ['always', { kind: 'always' }, 600_000],
  ['when-asleep', { kind: 'when-asleep' }, 1_000_000],
  ['deferred (batch 32)', { kind: 'deferred', batch: 32 }, 1_000_000],
];

describe('SpscRing across real worker threads', () => {
  it(
    'transfers 2M descriptors with spinning ends: no loss, duplicate or reordering',
    { timeout: 60_000 },
    async () => {
      const { p, c } = await transfer({
        ...base,
        items: 2_000_000,
        mode: 'spin',
        policy: { kind: 'when-asleep' },
        pauseEvery: 1 << 30,
      });
      expect(c.firstError).toBe('');
      expect(c).toMatchObject({
        stuck: false,
        lostWakeups: 0,
        received: 2_000_000,
        errors: 0,
        corruptions: 0,
      });
      expect(p).toMatchObject({ stuck: false, lostWakeups: 0, sent: 2_000_000, corruptions: 0 });
    },
  );

  it.each(blocking)(
    'policy %s with blocking ends that really sleep: every item arrives once, in order',
    { timeout: 60_000 },
    async (_name, policy, items) => {
      const { p, c } = await transfer({ ...base, items, mode: 'block', policy, pauseEvery: 64 });
      expect(c.firstError).toBe('');
      expect(c).toMatchObject({
        stuck: false,
        lostWakeups: 0,
        received: items,
        errors: 0,
        corruptions: 0,
      });
      expect(p).toMatchObject({ stuck: false, lostWakeups: 0, sent: items, corruptions: 0 });
      expect(c.sleeps).toBeGreaterThan(0);
      // at least one wake-up found the consumer blocked inside Atomics.wait
      expect(p.woken).toBeGreaterThan(0);
      if (policy.kind !== 'always') expect(p.notifications).toBeLessThan(items / 2);
    },
  );

  it(
    'a tiny ring keeps the producer blocking on space and the consumer on data',
    { timeout: 60_000 },
    async () => {
      const items = 300_000;
      const { p, c } = await transfer({
        ...base,
        capacity: 8,
        maxBatch: 5,
        items,
        mode: 'block',
        policy: { kind: 'deferred', batch: 4 },
        pauseEvery: 256,
      });
      expect(c.firstError).toBe('');
      expect(c).toMatchObject({ stuck: false, lostWakeups: 0, received: items, errors: 0 });
      expect(p).toMatchObject({ stuck: false, lostWakeups: 0, sent: items });
      expect(c.producerWoken + p.woken).toBeGreaterThan(0);
    },
  );
});
