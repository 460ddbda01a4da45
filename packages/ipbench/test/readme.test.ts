// The README's example is examples/echo-ramp.ts, run here exactly as the README says to run it,
// so the documentation cannot drift from working code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
// `--import tsx` as in the README, resolved from this package so the example can run in a temp dir.
const tsx = pathToFileURL(createRequire(join(pkg, 'package.json')).resolve('tsx')).href;
const example = readFileSync(join(pkg, 'examples/echo-ramp.ts'), 'utf8');

/** Code without comments, whitespace or trailing commas: formatting may differ, tokens may not. */
function tokens(code: string): string {
  return code
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '')
    .replace(/,([}\])])/g, '$1');
}

function section(title: string): string {
  const at = readme.indexOf(title);
  expect(at).toBeGreaterThanOrEqual(0);
  return readme.slice(at);
}

describe('README example', () => {
  const doc = section('## Example: a ramp against an in-memory echo target');
  const code = /```ts\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';

  it('is the code of examples/echo-ramp.ts', () => {
    expect(code.length).toBeGreaterThan(100);
    expect(tokens(code)).toBe(tokens(example));
  });

  it('runs with the README command and prints what the README shows', () => {
    expect(readme).toContain('`node --conditions=@udf/source --import tsx examples/echo-ramp.ts`');
    const cwd = mkdtempSync(join(tmpdir(), 'ipbench-readme-'));
    try {
      const run = spawnSync(
        process.execPath,
        ['--conditions=@udf/source', '--import', tsx, join(pkg, 'examples/echo-ramp.ts')],
        { cwd, encoding: 'utf8', timeout: 120_000 },
      );
      expect(run.stderr).toContain('step 13/13');
      expect(run.status).toBe(0);
      const printed = /prints\n\n```\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
      const lines = printed.split('\n').filter((l) => l !== '' && l.trim() !== '...');
      expect(lines.length).toBeGreaterThan(4);
      const out = run.stdout.split('\n');
      for (const line of lines) expect(out).toContain(line);
      for (const f of ['echo-ramp.csv', 'echo-ramp.json', 'echo-ramp.svg']) {
        expect(existsSync(join(cwd, f))).toBe(true);
      }
      expect(readFileSync(join(cwd, 'echo-ramp.svg'), 'utf8')).toMatch(/^<svg/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('packaging', () => {
  it('keeps vega out of the main entry: optional peers, no import from src/index.ts', () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(manifest.dependencies.vega).toBeUndefined();
    expect(manifest.dependencies['vega-lite']).toBeUndefined();
    expect(manifest.peerDependenciesMeta.vega.optional).toBe(true);
    expect(manifest.peerDependenciesMeta['vega-lite'].optional).toBe(true);
    expect(manifest.exports['./charts']).toBeDefined();
    // Walk the static import graph of the main entry.
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const spec = m[1]!;
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^vega|charts/);
        if (spec.startsWith('.')) walk(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    walk(join(pkg, 'src/index.ts'));
    expect(seen.size).toBeGreaterThan(10);
  });
});
