import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const built = existsSync(fileURLToPath(new URL('../dist/domain-worker.js', import.meta.url)));
const script = fileURLToPath(new URL('../test/dist-smoke.cjs', import.meta.url));

// The built package, imported by name in plain Node (ESM and CommonJS), starts its workers
// from dist/. Needs `pnpm build` first (turbo's test task depends on build).
describe.skipIf(!built)('the built package', () => {
  it.each(['esm', 'cjs'])(
    'runs a ping-pong and a device in the device worker (registers, an interrupt) when loaded as %s',
    { timeout: 60_000 },
    async (mode) => {
      const { stdout } = await run(process.execPath, [script, mode], { timeout: 50_000 });
      expect(stdout.trim()).toBe('ok 1000 device 42 irq 2');
    },
  );
});
