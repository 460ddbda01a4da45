// The README's code cannot drift: its example is examples/session.ts verbatim, run here, and every
// other ```ts block is marked as a verbatim excerpt of a file in this package.
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectReadmeInSync } from '../../../test-support/readme.js';

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every ts block is a whole example file or a verbatim excerpt of a file', () => {
    expectReadmeInSync(resolve(import.meta.dirname, '..'), 'examples/session.ts');
  });

  it('the example runs as written', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/session.js');
    const lines = log.mock.calls.map((c) => c.join(' '));
    expect(lines).toEqual(['tx done: dataspace 3, length 1066, status ok']);
  });
});
