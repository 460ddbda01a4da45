// The pages a driver keeps pinned for its devices' receive rings while the wire is idle (issue
// 16): what the proposed pin-time allowance (`PinQuota.maxLongPinnedPages`) is computed from.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { plan, postedReceivePages, type SystemPlan } from './plan.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => plan(loadSystem(resolve(apps, name, 'system.yaml')));

describe('postedReceivePages', () => {
  it('receive descriptors times the pages one buffer spans, summed over a driver’s devices', () => {
    // isolated: one NIC of 64 receive descriptors, 2 KiB buffers (two to a page, none crossing)
    expect(postedReceivePages(system('isolated'))).toBe(64);
    // clustered: one driver, two NICs
    expect(postedReceivePages(system('clustered'))).toBe(128);
  });

  it('a buffer size that does not divide the page may cross a page boundary: one page more', () => {
    const p = system('isolated');
    const odd: SystemPlan = { ...p, sessions: p.sessions.map((s) => ({ ...s, bufferSize: 1536 })) };
    expect(postedReceivePages(odd)).toBe(64 * 2);
    const big: SystemPlan = { ...p, sessions: p.sessions.map((s) => ({ ...s, bufferSize: 9000 })) };
    expect(postedReceivePages(big)).toBe(64 * 4);
  });
});
