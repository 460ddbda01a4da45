import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { runStep } from './runner.js';
import type { SystemDescription } from './schema.js';

const here = dirname(fileURLToPath(import.meta.url));
const isolated = loadSystem(resolve(here, '../../../apps/isolated/system.yaml'));

const withPolicy = (sys: SystemDescription, policy: 'ns83820' | 'prime'): SystemDescription => ({
  ...sys,
  domains: sys.domains.map((d) => ({
    ...d,
    components: d.components.map((c) =>
      c.kind === 'dp83820-driver' ? { ...c, interruptPolicy: policy } : c,
    ),
  })),
});

async function interruptsPerPacket(policy: 'ns83820' | 'prime') {
  const r = await runStep(withPolicy(isolated, policy), {
    loadMbps: 450,
    holdoffUs: 0,
    warmupMs: 2,
    durationMs: 10,
  });
  return { perPacket: r.counters['nic0.interrupts']! / r.counters['nic0.rxDelivered']!, r };
}

describe('interrupt policies in the whole system (450 Mb/s, 0 µs hold-off)', () => {
  it('ns83820 takes more than two interrupts per packet; prime fewer, and less CPU, for the same throughput', async () => {
    const ns = await interruptsPerPacket('ns83820');
    const prime = await interruptsPerPacket('prime');
    expect(ns.perPacket).toBeGreaterThan(2);
    expect(prime.perPacket).toBeLessThan(ns.perPacket - 0.3);
    expect(prime.r.cpuPercent).toBeLessThan(ns.r.cpuPercent - 5);
    expect(prime.r.achievedMbps).toBeCloseTo(ns.r.achievedMbps, -1);
  });
});
