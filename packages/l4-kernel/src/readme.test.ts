// The README's code cannot drift: its example is examples/pingpong.ts verbatim, run here.
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectReadmeInSync } from '../../../test-support/readme.js';

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every ts block is a whole example file or a verbatim excerpt of a file', () => {
    expectReadmeInSync(resolve(import.meta.dirname, '..'), 'examples/pingpong.ts');
  });

  it('the example runs as written: IPC, the interrupt handler and user work all show in the profile', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/pingpong.js');
    const [profile, counters] = log.mock.calls.map((c) => c[0]);
    expect(profile.IPC).toBeGreaterThan(0);
    expect(profile.Driver).toBeGreaterThan(0);
    expect(profile.User).toBeGreaterThan(0);
    expect(counters.interrupts).toBeGreaterThan(90);
  });
});
