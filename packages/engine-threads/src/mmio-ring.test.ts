import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { MMIO_RING_BYTES, MmioWindow } from './mmio-ring.js';

describe('MMIO ring wake-ups (notify only a sleeper that announced itself)', () => {
  it(
    'reads through a ring whose consumer sleeps and dawdles all complete with their values, and no doorbell wake-up is lost',
    { timeout: 60_000 },
    async () => {
      const ring = new SharedArrayBuffer(MMIO_RING_BYTES);
      const bell = new SharedArrayBuffer(4);
      const stop = new SharedArrayBuffer(4);
      const w = new Worker(new URL('../test/ts-worker.mjs', import.meta.url), {
        workerData: {
          entry: new URL('./mmio-ring-consumer.fixture.ts', import.meta.url).href,
          ring,
          bell,
          stop,
        },
        execArgv: ['--conditions=@udf/source'],
      });
      const done = new Promise<{ timedOut: number; waits: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      const win = new MmioWindow(ring, bell, 4096);
      const bad: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const off = (i % 1024) * 4;
        if (i % 3 === 0) win.write32(off, i);
        const v = win.read32(off);
        if (v !== off * 3 + 1) bad.push(i);
        // let the consumer go to sleep now and then, so the next post must wake it
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      Atomics.store(new Int32Array(stop), 0, 1);
      Atomics.add(new Int32Array(bell), 0, 2);
      Atomics.notify(new Int32Array(bell), 0);
      const { timedOut, waits } = await done;
      await w.terminate();
      expect(bad).toEqual([]);
      expect(win.counters.reads).toBe(3000);
      // the protocol's two sleeps were both exercised
      expect(win.counters.sleptReads).toBeGreaterThan(0);
      expect(waits).toBeGreaterThan(0);
      expect(timedOut).toBe(0);
    },
  );
});
