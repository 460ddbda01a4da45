// The README's code cannot drift: its example is examples/manager.ts verbatim, run here, and every
// other ```ts block is marked as a verbatim excerpt of a file in this package.
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectReadmeInSync } from '../../../test-support/readme.js';
import { ValidationStatus } from './index.js';

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every ts block is a whole example file or a verbatim excerpt of a file', () => {
    expectReadmeInSync(resolve(import.meta.dirname, '..'), 'examples/manager.ts');
  });

  it('the example runs as written', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/manager.js');
    const lines = log.mock.calls.map((c) => c.join(' '));
    expect(lines[0]).toMatch(/^DMA 1514 bytes at physical 0x[0-9a-f]+$/);
    expect(lines[1]).toBe(`foreign reference: ${ValidationStatus.FOREIGN_DATASPACE}`);
  });
});
