// Notification suppression (paper, section 4.5) on the sim: with the notification bits, a
// producer wakes its peer only when the peer announced sleep; `notify: per-item` is the per-item
// baseline — one wake-up IPC per enqueued frame and per returned completion. Counted from the
// components' own counters, in virtual time (deterministic), at a load where the driver and the
// stack stay busy.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem, parseSystem } from './load.js';
import type { StepOptions } from './result.js';
import { runStep } from './runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const isolated = loadSystem(resolve(apps, 'isolated', 'system.yaml'));
const withNotify = (notify: 'when-asleep' | 'per-item') =>
  parseSystem({
    ...isolated,
    name: `isolated-${notify}`,
    sessions: [{ driver: 'driver', client: 'stack', nic: 'nic0', notify }],
  });
const step = (loadMbps: number): StepOptions => ({
  loadMbps,
  holdoffUs: 100,
  durationMs: 10,
  warmupMs: 2,
  packetSize: 1024,
  ipcScale: 1,
});

/** Notification IPCs both ends issued (delivered or not), wake-ups received, per echoed frame. */
async function perFrame(notify: 'when-asleep' | 'per-item', loadMbps: number) {
  const r = await runStep(withNotify(notify), step(loadMbps));
  const c = r.counters;
  const n = (k: string) => c[k] ?? Number.NaN;
  const frames = n('nic0.txSent');
  const issued =
    n('driver.driver.notificationsSent') +
    n('driver.driver.notificationsMissed') +
    n('stack0.thread.notificationsSent') +
    n('stack0.thread.notificationsMissed');
  return { frames, issued: issued / frames, lost: r.lostPackets, cpu: r.cpuPercent };
}

describe('notification suppression on the sim', () => {
  it('at 800 Mb/s, notify per item issues ≥ 10× the notification IPCs of the paper policy', async () => {
    const asleep = await perFrame('when-asleep', 800);
    const always = await perFrame('per-item', 800);
    expect(asleep.frames).toBeGreaterThan(1000);
    expect(asleep.lost + always.lost).toBe(0);
    // The baseline: a wake-up per transmitted frame and per posted receive buffer from the
    // stack, per returned completion from the driver — about four per echo.
    expect(always.issued).toBeGreaterThan(3);
    expect(always.issued / asleep.issued).toBeGreaterThanOrEqual(10);
    // The IPCs are not free: the baseline spends more of the CPU on the same load.
    expect(always.cpu).toBeGreaterThan(asleep.cpu);
  });
});
