// Proves the component boundary lint rule (biome.json override, noRestrictedImports) works:
// copies a violating and an allowed fixture to `.ts` files in the fixtures folder (the override
// covers it like a component folder; no tsconfig includes it), runs biome on each, and fails
// unless the violating one is rejected once per bad import and the allowed one passes. The
// copies are removed afterwards. Run: pnpm --filter @udf/l4-kernel lint:boundary
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const fixtures = join(here, 'boundary-fixtures');
const target = fixtures;

function lint(file) {
  try {
    const out = execFileSync('pnpm', ['exec', 'biome', 'lint', '--max-diagnostics=50', file], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, out };
  } catch (e) {
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let failed = false;
for (const [name, expectOk, expectHits] of [
  ['violating', false, 3],
  ['allowed', true, 0],
]) {
  const dest = join(target, `__boundary_${name}.ts`);
  copyFileSync(join(fixtures, `${name}.ts.txt`), dest);
  try {
    const r = lint(dest);
    const hits = (r.out.match(/noRestrictedImports/g) ?? []).length;
    const good = r.ok === expectOk && hits >= expectHits && (expectOk ? hits === 0 : true);
    console.log(
      `${name}: lint ${r.ok ? 'passed' : 'failed'}, ${hits} restricted import(s) — ${good ? 'as expected' : 'WRONG'}`,
    );
    if (!good) {
      console.log(r.out);
      failed = true;
    }
  } finally {
    rmSync(dest, { force: true });
  }
}
if (failed) process.exit(1);
