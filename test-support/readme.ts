// Shared by every package's readme.test.ts: a README's code cannot drift. Each ```ts block is
// preceded by `<!-- example: FILE -->` (the block is FILE verbatim, and the test runs FILE) or
// `<!-- excerpt: FILE -->` (the block appears in FILE, white space folded).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';

/** One ```ts block of a README with its marker. */
export interface ReadmeBlock {
  readonly kind: string | undefined;
  readonly file: string | undefined;
  readonly body: string;
  readonly line: number;
}

/** Every ```ts block of `readme`, with the `<!-- example|excerpt: file -->` marker before it. */
export function readmeBlocks(readme: string): ReadmeBlock[] {
  return [...readme.matchAll(/(?:<!-- (example|excerpt): (\S+) -->\n)?```ts\n([\s\S]*?)```/g)].map(
    (m) => ({
      kind: m[1],
      file: m[2],
      body: m[3]!,
      line: readme.slice(0, m.index).split('\n').length,
    }),
  );
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Check the README of the package at `root`: `example` names the example file it must show
 * whole; every block is marked and matches its file.
 */
export function expectReadmeInSync(root: string, example: string): void {
  const read = (file: string) => readFileSync(resolve(root, file), 'utf8');
  const found = readmeBlocks(read('README.md'));
  expect(found.filter((b) => b.kind === 'example').map((b) => b.file)).toContain(example);
  for (const b of found) {
    expect(
      b.kind,
      `README.md:${b.line}: a ts block needs <!-- example|excerpt: file -->`,
    ).toBeDefined();
    if (b.kind === 'example') expect(b.body, `README.md:${b.line}`).toBe(read(b.file!));
    else expect(squash(read(b.file!)), `README.md:${b.line}`).toContain(squash(b.body));
  }
}
