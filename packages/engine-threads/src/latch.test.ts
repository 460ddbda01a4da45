import { describe, expect, it } from 'vitest';
import { REGION_BYTES, Stat, type StressConfig } from '../test/latch-stress.js';
import { ThreadsEngine } from './engine.js';

const MODULE = new URL('../test/latch-stress.ts', import.meta.url).href;
const VADDR = 0x40000;

interface Outcome {
  consumed: number;
  produced: number;
  sleeps: number;
  aborts: number;
  lost: number;
  wakeups: number;
  failedWakeups: number;
  disorder: number;
  otherErrors: number;
}

/** One producer domain and one consumer domain over a shared ring; returns the stats block. */
async function transfer(options: {
  latch: boolean;
  items: number;
  watchdogSeconds: number;
  stopOnLost: boolean;
  limitMs: number;
  seed: number;
}): Promise<Outcome> {
  const hz = 1e9;
  const engine = new ThreadsEngine({ hz, latch: options.latch });
  const region = new SharedArrayBuffer(REGION_BYTES);
  const cd = engine.createDomain('consumer');
  const pd = engine.createDomain('producer');
  engine.grantRegion(cd, VADDR, region);
  engine.grantRegion(pd, VADDR, region);
  const base = {
    items: options.items,
    vaddr: VADDR,
    watchdogCycles: options.watchdogSeconds * hz,
    stopOnLost: options.stopOnLost,
    pauseEvery: 64,
    seed: options.seed,
  };
  // the consumer is thread 1, the producer thread 2
  const c = engine.createThread({
    domain: cd,
    name: 'consumer',
    component: {
      module: MODULE,
      export: 'consumer',
      config: { ...base, partner: 2 } satisfies StressConfig,
    },
  });
  const p = engine.createThread({
    domain: pd,
    name: 'producer',
    component: {
      module: MODULE,
      export: 'producer',
      config: { ...base, partner: c } satisfies StressConfig,
    },
  });
  expect([c, p]).toEqual([1, 2]);
  await engine.start();
  try {
    await engine.join([c, p], options.limitMs);
  } finally {
    await engine.stop();
  }
  expect(engine.failures).toEqual([]);
  const s = new Int32Array(region, REGION_BYTES - 64, 16);
  return {
    consumed: s[Stat.consumed]!,
    produced: s[Stat.produced]!,
    sleeps: s[Stat.sleeps]!,
    aborts: s[Stat.aborts]!,
    lost: s[Stat.lost]!,
    wakeups: s[Stat.wakeups]!,
    failedWakeups: s[Stat.failedWakeups]!,
    disorder: s[Stat.disorder]!,
    otherErrors: s[Stat.otherErrors]!,
  };
}

describe('the sleep protocol with IPC wake-ups across two worker domains', () => {
  it('with the preemption latch: 3 × 1M items, no lost wake-up', { timeout: 300_000 }, async () => {
    const items = 1_000_000;
    for (const seed of [7, 8, 9]) {
      const r = await transfer({
        latch: true,
        items,
        watchdogSeconds: 2,
        stopOnLost: false,
        limitMs: 90_000,
        seed,
      });
      console.log('latch on:', JSON.stringify(r));
      expect(r).toMatchObject({
        consumed: items,
        produced: items,
        lost: 0,
        disorder: 0,
        otherErrors: 0,
      });
      expect(r.sleeps).toBeGreaterThan(0);
      expect(r.wakeups).toBeGreaterThan(0);
    }
  });

  it(
    'negative control: without the latch, a wake-up is lost within a few runs',
    { timeout: 240_000 },
    async () => {
      const runs: Outcome[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await transfer({
          latch: false,
          items: 1_000_000,
          watchdogSeconds: 0.2,
          stopOnLost: true,
          limitMs: 60_000,
          seed: 7 + i,
        });
        runs.push(r);
        if (r.lost > 0) break;
      }
      console.log('latch off:', JSON.stringify(runs));
      expect(runs.some((r) => r.lost > 0)).toBe(true);
    },
  );
});
