// Every README example is a file in examples/, run here exactly as the README says
// (`node examples/<name>.mjs`), against the built package (as a user would, after install).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(PKG, 'README.md'), 'utf8');

const EXAMPLES: Record<string, RegExp> = {
  'ring.mjs': /^received 1000 descriptors in order$/m,
  'async-consumer.mjs': /^received 1000 descriptors without blocking the main thread$/m,
  'pool.mjs': /^second free: false\ndouble frees counted: 1, free buffers: 64$/m,
};

/** Newest modification time of the package's sources (what `dist` is built from). */
function newestSource(): number {
  let newest = 0;
  for (const f of readdirSync(join(PKG, 'src'))) {
    if (!f.endsWith('.test.ts')) newest = Math.max(newest, statSync(join(PKG, 'src', f)).mtimeMs);
  }
  return newest;
}

describe('README examples (examples/*.mjs)', { timeout: 120_000 }, () => {
  beforeAll(() => {
    // The examples import '@udf/lockfree' like a user would, which resolves to dist/: build it
    // if it is missing or older than the sources (turbo's test task builds first anyway).
    const dist = join(PKG, 'dist', 'index.js');
    if (!existsSync(dist) || statSync(dist).mtimeMs < newestSource()) {
      execFileSync('pnpm', ['run', 'build'], { cwd: PKG, stdio: 'pipe' });
    }
  });

  it('has a test for every example file and nothing else', () => {
    const files = readdirSync(join(PKG, 'examples')).filter((f) => f.endsWith('.mjs'));
    expect(files.sort()).toEqual(Object.keys(EXAMPLES).sort());
  });

  for (const [file, expected] of Object.entries(EXAMPLES)) {
    it(`${file}: the README shows it verbatim with its command, and it runs as written`, () => {
      const source = readFileSync(join(PKG, 'examples', file), 'utf8');
      expect(README).toContain(`\`\`\`js\n${source}\`\`\``);
      expect(README).toContain(`node examples/${file}`);
      // exactly the README's command; the timeout only stops a hang (which fails the test)
      const out = execFileSync('node', [`examples/${file}`], {
        cwd: PKG,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(out).toMatch(expected);
    });
  }
});
