// The sim's headline figures, as the README ("Results at a glance") and docs/reproduction.md
// quote them from `pnpm start`. The sim is deterministic, so a change to any component, cost or
// policy that moves them fails here — then re-measure and update those documents with the code.
// (A notification-policy change once moved the monolithic baseline from 38.8 % to 41.7 % CPU
// unnoticed for a stop.)
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import type { StepOptions } from './result.js';
import { runStep } from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => loadSystem(resolve(apps, name, 'system.yaml'));
// `udf compare`'s defaults: the descriptions' load (100 ms measured after 10 ms warm-up)
const step = (loadMbps: number, holdoffUs: number): StepOptions => ({
  loadMbps,
  holdoffUs,
  durationMs: 100,
  warmupMs: 10,
  packetSize: 1024,
  ipcScale: 1,
});

describe('headline figures of pnpm start (sim, deterministic)', () => {
  it.each([
    ['isolated', 450, 100, 450.2, 32.0],
    ['isolated', 450, 0, 450.0, 67.7],
    ['monolithic', 450, 100, 450.1, 38.8],
    ['monolithic', 450, 0, 450.0, 84.9],
    ['monolithic', 1000, 0, 224.6, 100.0],
  ])('%s at %i Mb/s offered, %i µs hold-off', async (name, load, holdoff, mbps, cpu) => {
    const r = await runStep(system(name), step(load, holdoff));
    expect(r.achievedMbps.toFixed(1)).toBe(mbps.toFixed(1));
    expect(r.cpuPercent.toFixed(1)).toBe(cpu.toFixed(1));
  });
});
