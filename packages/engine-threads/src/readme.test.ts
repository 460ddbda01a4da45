// The README's examples cannot drift: each ```js block marked `<!-- example: FILE -->` is FILE
// verbatim, and examples/main.mjs runs as the README says (from the built package).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');
const built = existsSync(resolve(root, 'dist/domain-worker.js'));

describe('README', () => {
  it('shows examples/main.mjs and examples/ping-pong.mjs verbatim', () => {
    const readme = read('README.md');
    const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)```/g)];
    expect(blocks.map((b) => b[1])).toEqual(['examples/main.mjs', 'examples/ping-pong.mjs']);
    for (const b of blocks) expect(b[2]).toBe(read(b[1]!));
  });

  it.skipIf(!built)('the example runs as written', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['examples/main.mjs'], {
      cwd: root,
      timeout: 50_000,
    });
    expect(stdout.trim()).toBe('last answer 1000, failures 0');
  });
});
