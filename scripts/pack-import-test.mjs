#!/usr/bin/env node
// Packs every published @udf package with `pnpm pack`, installs the tarballs into an empty
// temporary project with npm, and imports each one from plain Node ESM (and CJS where built).
// Fails if a package does not pack, install, import, or exports nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    pkg: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ pkg }) => !pkg.private && (only.length === 0 || only.includes(pkg.name)));

const work = mkdtempSync(join(tmpdir(), 'udf-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
try {
  const tarballs = [];
  for (const { dir, pkg } of packages) {
    const out = run('pnpm', ['pack', '--pack-destination', work], dir).trim().split('\n').pop();
    tarballs.push(resolve(dir, out));
    console.log(`packed ${pkg.name} -> ${out.split('/').pop()}`);
  }
  const project = join(work, 'consumer');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], project);
  let failed = 0;
  for (const { pkg } of packages) {
    const esm = `const m = await import(${JSON.stringify(pkg.name)}); const n = Object.keys(m).length; if (n === 0) throw new Error('no exports'); console.log('esm ${pkg.name}: ' + n + ' exports');`;
    const cjs = `const m = require(${JSON.stringify(pkg.name)}); if (Object.keys(m).length === 0) throw new Error('no exports'); console.log('cjs ${pkg.name}: ok');`;
    for (const [flag, code] of [
      ['--input-type=module', esm],
      ['--input-type=commonjs', cjs],
    ]) {
      try {
        process.stdout.write(run('node', [flag, '-e', code], project));
      } catch (e) {
        failed++;
        console.error(`FAILED ${pkg.name} (${flag}):\n${e.stderr || e.message}`);
      }
    }
  }
  if (failed) {
    console.error(`pack-import: ${failed} import(s) failed`);
    process.exit(1);
  }
  console.log(`pack-import: ${packages.length} packages packed, installed and imported`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
