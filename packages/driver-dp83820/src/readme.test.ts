// The README's example is examples/driver.ts, verbatim; this test runs it, so the docs cannot drift.
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

  it('is examples/driver.ts, and runs as written', async () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const example = readFileSync(resolve(root, 'examples/driver.ts'), 'utf8');
    expect(readmeBlock(readme, 'examples/driver.ts')).toBe(example);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/driver.js');
    expect(log.mock.calls.map((c) => c.join(' '))).toEqual([
      'driver running: true, frames on the wire: 0',
    ]);
  });
});
