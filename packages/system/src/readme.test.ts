// The README's code cannot drift: its example is examples/run.ts verbatim, run here, and every
// other ```ts block is marked as a verbatim excerpt of a file in this package.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Every ```ts block of the README with the `<!-- example|excerpt: file -->` marker before it. */
function blocks(readme: string) {
  return [...readme.matchAll(/(?:<!-- (example|excerpt): (\S+) -->\n)?```ts\n([\s\S]*?)```/g)].map(
    (m) => ({
      kind: m[1],
      file: m[2],
      body: m[3]!,
      line: readme.slice(0, m.index).split('\n').length,
    }),
  );
}

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every ts block is a whole example file or a verbatim excerpt of a file', () => {
    const found = blocks(read('README.md'));
    expect(found.filter((b) => b.kind === 'example').map((b) => b.file)).toContain(
      'examples/run.ts',
    );
    for (const b of found) {
      expect(
        b.kind,
        `README.md:${b.line}: a ts block needs <!-- example|excerpt: file -->`,
      ).toBeDefined();
      if (b.kind === 'example') expect(b.body, `README.md:${b.line}`).toBe(read(b.file!));
      else expect(squash(read(b.file!)), `README.md:${b.line}`).toContain(squash(b.body));
    }
  });

  it('the example runs as written', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/run.js');
    const lines = log.mock.calls.map((c) => c.join(' '));
    expect(lines).toHaveLength(1);
    const [, mbps, cpu] = /^(\d+) Mb\/s echoed, CPU (\d+) %$/.exec(lines[0]!)!;
    expect(Number(mbps)).toBeGreaterThan(400);
    expect(Number(cpu)).toBeGreaterThan(0);
  });
});
