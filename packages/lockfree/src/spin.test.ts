import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MODELS = ['notify.pml', 'latch.pml'].map((name) => ({
  name,
  path: fileURLToPath(new URL(`../spin/${name}`, import.meta.url)),
}));

function which(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface SpinResult {
  errors: number;
  output: string;
}

let dir = '';

/**
 * Generate, compile and run the Spin verifier for one variant of a model: a safety search
 * (invalid end states and assertions), or with `liveness` an acceptance-cycle search for the
 * model's LTL property.
 */
function verify(defines: string[], model = 'notify.pml', liveness = false): SpinResult {
  execFileSync('spin', [...defines, '-a', model], { cwd: dir, stdio: 'pipe' });
  // -O0: the models have a few thousand states, so compiling is the cost and search is not.
  const cflags = liveness ? ['-O0'] : ['-O0', '-DSAFETY'];
  execFileSync('gcc', [...cflags, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
  const output = execFileSync('./pan', [...(liveness ? ['-a'] : []), '-m100000'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const match = /errors: (\d+)/.exec(output);
  if (!match) throw new Error(`unexpected pan output:\n${output}`);
  return { errors: Number(match[1]), output };
}

// Each case generates, compiles and runs a C verifier (two for the deferred case): about 0.3 s
// alone, but several seconds on a busy 2-core machine, past vitest's 5 s default. The timeout
// only catches a hang; the verdicts are the assertions.
describe('Spin model of the notification protocol (spin/notify.pml)', { timeout: 60_000 }, () => {
  beforeAll(() => {
    if (!which('spin') || !which('gcc')) {
      throw new Error(
        'The Spin model checker and gcc are required (run `bash scripts/ensure-tools.sh` or `apt-get install -y spin gcc`).',
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'udf-spin-'));
    for (const m of MODELS) copyFileSync(m.path, join(dir, m.name));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the when-asleep protocol: no lost wake-up, every item consumed once', () => {
    const { errors, output } = verify([]);
    expect(output).toMatch(/invalid end states\s+\+/);
    expect(output).toMatch(/assertion violations\s+\+/);
    expect(errors).toBe(0);
  });

  it('verifies the deferred policy (batch 2, flush when dry)', () => {
    expect(verify(['-DBATCH=2', '-DITEMS=4']).errors).toBe(0);
    expect(verify(['-DBATCH=3', '-DITEMS=4']).errors).toBe(0);
  });

  it('rejects a consumer that blocks without re-checking after requesting a signal', () => {
    const { errors, output } = verify(['-DNO_RECHECK']);
    expect(errors).toBeGreaterThan(0);
    expect(output).toMatch(/invalid end state/);
  });

  it('rejects a deferred producer that does not flush when it runs dry', () => {
    const { errors, output } = verify(['-DBATCH=2', '-DITEMS=3', '-DNO_DRY_FLUSH']);
    expect(errors).toBeGreaterThan(0);
    expect(output).toMatch(/invalid end state/);
  });

  describe('the Sys sleep protocol on two CPUs (spin/latch.pml: bit + zero-timeout IPC + latch)', () => {
    it('verifies it: no lost wake-up (no invalid end state), every item consumed once', () => {
      for (const items of ['-DITEMS=3', '-DITEMS=5']) {
        const { errors, output } = verify([items], 'latch.pml');
        expect(output).toMatch(/invalid end states\s+\+/);
        expect(output).toMatch(/assertion violations\s+\+/);
        expect(errors).toBe(0);
      }
    });

    it('verifies the LTL property: pending work is always eventually consumed', () => {
      const { errors, output } = verify(['-DLIVENESS'], 'latch.pml', true);
      expect(output).toMatch(/never claim\s+\+ \(no_lost_wakeup\)/);
      expect(output).toMatch(/acceptance\s+cycles\s+\+/);
      expect(errors).toBe(0);
    });

    it('rejects the protocol without the latch: the sleeper blocks forever with work pending', () => {
      const safety = verify(['-DNO_LATCH'], 'latch.pml');
      expect(safety.errors).toBeGreaterThan(0);
      expect(safety.output).toMatch(/invalid end state/);
      const ltl = verify(['-DLIVENESS', '-DNO_LATCH'], 'latch.pml', true);
      expect(ltl.errors).toBeGreaterThan(0);
      expect(ltl.output).toMatch(/acceptance cycle/);
    });
  });
});
