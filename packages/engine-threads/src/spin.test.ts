import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MODEL = fileURLToPath(new URL('../spin/wakeup.pml', import.meta.url));

function which(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let dir = '';

/** Generate, compile and run the Spin verifier for one variant; returns its error count and output. */
function verify(defines: string[]): { errors: number; output: string } {
  execFileSync('spin', [...defines, '-a', 'wakeup.pml'], { cwd: dir, stdio: 'pipe' });
  execFileSync('gcc', ['-O0', '-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
  const output = execFileSync('./pan', ['-m100000'], { cwd: dir, encoding: 'utf8' });
  const match = /errors: (\d+)/.exec(output);
  if (!match) throw new Error(`unexpected pan output:\n${output}`);
  return { errors: Number(match[1]), output };
}

// Compiling each verifier takes seconds on a busy machine; the timeout only catches a hang.
describe(
  'Spin model of IPC wake-ups with the preemption latch (spin/wakeup.pml)',
  { timeout: 60_000 },
  () => {
    beforeAll(() => {
      if (!which('spin') || !which('gcc')) {
        throw new Error(
          'The Spin model checker and gcc are required (run `bash scripts/ensure-tools.sh` or `apt-get install -y spin gcc`).',
        );
      }
      dir = mkdtempSync(join(tmpdir(), 'udf-spin-'));
      copyFileSync(MODEL, join(dir, 'wakeup.pml'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('verifies the engine protocol: no lost wake-up, every item consumed', () => {
      const { errors, output } = verify([]);
      expect(output).toMatch(/invalid end states\s+\+/);
      expect(errors).toBe(0);
      expect(verify(['-DITEMS=5']).errors).toBe(0);
    });

    it.each([
      ['-DNO_LATCH', 'without the latch'],
      ['-DRING_FIRST', 'when the waker rings the doorbell before changing the state'],
      ['-DSPLIT_CHECK', 'when the receive checks the latch outside the section that blocks'],
    ])('finds the lost wake-up (%s) %s', (define) => {
      const { errors, output } = verify([define]);
      expect(errors).toBeGreaterThan(0);
      expect(output).toMatch(/invalid end state/);
    });
  },
);
