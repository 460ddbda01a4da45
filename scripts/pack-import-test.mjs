#!/usr/bin/env node
// Packs every published @udf package (packages/* and the `udf` command in apps/udf) with
// `pnpm pack`, installs the tarballs into an empty temporary project with plain npm, imports each
// library from plain Node ESM (and CJS where built), and runs the installed `udf` command:
// `--version`, `list`, `validate isolated` and `compare --quick` (the shipped placements must
// resolve from the installed package). Fails if anything does not pack, install, import or run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);
const inFolder = (folder) =>
  readdirSync(join(root, folder)).map((dir) => ({
    dir: join(root, folder, dir),
    pkg: JSON.parse(readFileSync(join(root, folder, dir, 'package.json'), 'utf8')),
  }));
const published = [...inFolder('packages'), ...inFolder('apps')].filter(({ pkg }) => !pkg.private);
const packages = published.filter(({ pkg }) => only.length === 0 || only.includes(pkg.name));
const cli = packages.find(({ pkg }) => pkg.bin?.udf);
// The command needs its dependencies' tarballs too.
if (cli) {
  for (const p of published) if (!packages.includes(p)) packages.push(p);
}
const libraries = packages.filter(({ pkg }) => !pkg.bin);

const work = mkdtempSync(join(tmpdir(), 'udf-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
try {
  const tarballs = [];
  const tarballOf = new Map();
  for (const { dir, pkg } of packages) {
    const out = run('pnpm', ['pack', '--pack-destination', work], dir).trim().split('\n').pop();
    tarballs.push(resolve(dir, out));
    tarballOf.set(pkg.name, resolve(dir, out));
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
  for (const { pkg } of libraries) {
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
  if (cli) {
    const out = join(work, 'results');
    const version = cli.pkg.version;
    const checks = [
      [['udf', '--version'], (o) => o.trim() === version],
      [[cli.pkg.name, '--version'], (o) => o.trim() === version],
      [['udf', 'list'], (o) => /^isolated\s+\S/m.test(o) && /^monolithic\s+\S/m.test(o)],
      [['udf', 'validate', 'isolated'], (o) => /^isolated: /.test(o)],
      [
        ['udf', 'compare', '--quick', '--no-progress', '--out', out],
        (o) => /^monolithic\s+100 µs\s+700\s/m.test(o),
      ],
    ];
    for (const [args, ok] of checks) {
      const started = performance.now();
      try {
        const o = run('npx', ['--no-install', ...args], project);
        const s = ((performance.now() - started) / 1000).toFixed(1);
        if (!ok(o)) throw new Error(`unexpected output:\n${o}`);
        console.log(`ran npx ${args.join(' ')} (${s} s)`);
      } catch (e) {
        failed++;
        console.error(`FAILED npx ${args.join(' ')}:\n${e.stderr || e.message}`);
      }
    }
    try {
      JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    } catch (e) {
      failed++;
      console.error(`FAILED compare --quick wrote no results.json: ${e.message}`);
    }
  }
  // A plain `npm i @udf/ipbench` must not pull in a chart stack (vega is an optional peer of the
  // `@udf/ipbench/charts` entry only).
  if (tarballOf.has('@udf/ipbench')) {
    const closure = new Set();
    const visit = (name) => {
      if (closure.has(name) || !tarballOf.has(name)) return;
      closure.add(name);
      const { pkg } = published.find((p) => p.pkg.name === name);
      for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
    };
    visit('@udf/ipbench');
    const light = join(work, 'ipbench-only');
    execFileSync('mkdir', ['-p', light]);
    writeFileSync(join(light, 'package.json'), JSON.stringify({ name: 'light', private: true }));
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...[...closure].map((n) => tarballOf.get(n)),
      ],
      light,
    );
    const installed = readdirSync(join(light, 'node_modules'));
    if (installed.includes('vega') || installed.includes('vega-lite')) {
      failed++;
      console.error('FAILED npm i @udf/ipbench installed vega: charts must stay optional');
    } else {
      run('node', ['--input-type=module', '-e', "await import('@udf/ipbench')"], light);
      console.log(
        `npm i @udf/ipbench: installs and imports without vega (${installed.filter((n) => !n.startsWith('.')).join(', ')})`,
      );
    }
  }
  if (failed) {
    console.error(`pack-import: ${failed} check(s) failed`);
    process.exit(1);
  }
  console.log(
    `pack-import: ${packages.length} packages packed and installed, ${libraries.length} imported${cli ? ', the udf command run' : ''}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
