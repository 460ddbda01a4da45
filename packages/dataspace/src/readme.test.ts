// The README's example is examples/manager.ts, verbatim; this test runs it, so the docs cannot drift.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** The ```ts block that follows `<!-- example: <file> -->` in the README. */
function readmeBlock(readme: string, file: string): string | undefined {
  const at = readme.indexOf(`<!-- example: ${file} -->`);
  if (at < 0) return undefined;
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  return m?.[1];
}

describe('README example', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is examples/manager.ts, and runs as written', async () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const example = readFileSync(resolve(root, 'examples/manager.ts'), 'utf8');
    expect(readmeBlock(readme, 'examples/manager.ts')).toBe(example);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/manager.js');
    const lines = log.mock.calls.map((c) => c.join(' '));
    expect(lines[0]).toMatch(/^DMA 1514 bytes at physical 0x[0-9a-f]+$/);
    expect(lines[1]).toMatch(/^foreign reference: \d+$/);
    expect(lines[1]).not.toBe(`foreign reference: 0`);
  });
});
