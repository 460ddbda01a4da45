// `udf validate` and the up-front checks, tried with the broken descriptions and hostile values
// of issue 14: each must be rejected with exit code 2 and one line per problem, no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = resolve(import.meta.dirname, '../dist/cli.js');
const udf = (...args: string[]) =>
  spawnSync('node', [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
const shipped = (name: string) =>
  readFileSync(resolve(import.meta.dirname, `../../${name}/system.yaml`), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'udf-validate-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** Exit code 2, one line per problem, no stack trace, and every line matches one pattern. */
function rejected(r: ReturnType<typeof udf>, ...patterns: RegExp[]) {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/status \d/);
  for (const p of patterns) expect(r.stderr).toMatch(p);
}

const TWO_DRIVERS = `name: twodrv
nics:
  - { name: nic0, model: dp83820, irq: 11, mac: "02:00:00:00:00:01" }
  - { name: nic1, model: dp83820, irq: 10, mac: "02:00:00:00:01:01" }
domains:
  - { name: memory, priority: 150, components: [{ kind: dataspace-manager }] }
  - { name: drv0, priority: 200, components: [{ kind: dp83820-driver, nics: [nic0] }] }
  - { name: drv1, priority: 200, components: [{ kind: dp83820-driver, nics: [nic1] }] }
  - name: stack
    priority: 100
    components:
      - { kind: ip-stack, nic: nic0, ip: 10.0.0.1 }
      - { kind: ip-stack, nic: nic1, ip: 10.0.1.1 }
      - { kind: udp-echo }
`;

describe('udf validate rejects what used to fail only at run time', () => {
  it('two driver domains feeding one stack domain', () => {
    rejected(
      udf('validate', file('twodrv.yaml', TWO_DRIVERS)),
      /domains\[3\]: stack domain "stack" takes NICs nic0, nic1 from driver domains "drv0" and "drv1"/,
    );
  });

  it('memoryMiB: 4 names the minimum, computed from the description', () => {
    rejected(
      udf('validate', file('mem4.yaml', `${shipped('isolated')}machine: { memoryMiB: 4 }\n`)),
      /machine\.memoryMiB: 4 MiB is too little: .* need 4124 pages; set memoryMiB: 17 or more/,
    );
  });

  it('pages: 16 names the minimum (sessions + translation tables)', () => {
    const isolated = shipped('isolated').replace(
      '{ kind: dataspace-manager }',
      '{ kind: dataspace-manager, pages: 16 }',
    );
    rejected(
      udf('validate', file('pages16.yaml', isolated)),
      /domains\[0\]\.components\[0\]\.pages: 16 pages are too few: .* need 288; set pages: 288/,
    );
    const clustered = shipped('clustered').replace(
      '{ kind: dataspace-manager }',
      '{ kind: dataspace-manager, pages: 300 }',
    );
    rejected(udf('validate', file('pages300.yaml', clustered)), /need 544; set pages: 544/);
  });

  it('a hold-off that is not a multiple of 100 µs, in the description and on the command line', () => {
    rejected(
      udf(
        'validate',
        file('h150.yaml', shipped('isolated').replace('holdoffUs: 100', 'holdoffUs: 150')),
      ),
      /nics\[0\]\.holdoffUs: a multiple of 100 µs .*got 150/,
    );
    rejected(udf('run', 'isolated', '--holdoff', '50'), /--holdoff.*multiple of 100 µs.*got 50/);
  });

  it('duplicate MAC or IP addresses, a non-contiguous netmask, clients outside the subnet', () => {
    const clustered = shipped('clustered');
    rejected(
      udf(
        'validate',
        file('mac.yaml', clustered.replace('02:00:00:00:01:01', '02:00:00:00:00:01')),
      ),
      /nics\[1\]\.mac: MAC 02:00:00:00:00:01 is already used by nic0/,
    );
    rejected(
      udf('validate', file('ip.yaml', clustered.replace('10.0.1.1', '10.0.0.1'))),
      /domains\[2\]\.components\[1\]\.ip: IP 10.0.0.1 is already the address of the stack on nic0/,
    );
    const isolated = shipped('isolated');
    rejected(
      udf(
        'validate',
        file(
          'mask.yaml',
          isolated.replace('ip: 10.0.0.1 }', 'ip: 10.0.0.1, netmask: 255.0.255.0 }'),
        ),
      ),
      /netmask: 255\.0\.255\.0 is not a contiguous netmask/,
    );
    rejected(
      udf(
        'validate',
        file(
          'mask26.yaml',
          isolated.replace('ip: 10.0.0.1 }', 'ip: 10.0.0.1, netmask: 255.255.255.192 }'),
        ),
      ),
      /the ipbench clients \(10\.0\.0\.100-10\.0\.0\.103\) lie outside 10\.0\.0\.1\/255\.255\.255\.192/,
    );
    rejected(
      udf(
        'validate',
        file('clientip.yaml', isolated.replace('ip: 10.0.0.1 }', 'ip: 10.0.0.101 }')),
      ),
      /10\.0\.0\.101 is the address of an ipbench client/,
    );
  });

  it('names get a "did you mean", bad values are shown', () => {
    rejected(
      udf(
        'validate',
        file('nic.yaml', shipped('isolated').replace('ip-stack, nic: nic0', 'ip-stack, nic: nicz')),
      ),
      /components\[0\]\.nic: unknown NIC "nicz" \(did you mean "nic0"\?\)/,
    );
    const typo = shipped('isolated')
      .replace('holdoffUs: 100', 'holdof: 100')
      .replace('kind: udp-echo', 'kind: udp-ecko');
    rejected(
      udf('validate', file('typo.yaml', typo)),
      /nics\[0\]: unknown field "holdof" \(did you mean "holdoffUs"\?\)/,
      /components\[1\]\.kind: unknown component kind "udp-ecko" \(did you mean "udp-echo"\?\)/,
    );
    rejected(
      udf('validate', file('cost.yaml', `${shipped('isolated')}machine: { costTable: pentium }\n`)),
      /machine\.costTable: .*\(did you mean "pentium4"\?\), got "pentium"/,
    );
  });

  it('machine.hz: 1e300 and other insane machine values', () => {
    rejected(
      udf('validate', file('hz.yaml', `${shipped('isolated')}machine: { hz: 1e300 }\n`)),
      /machine\.hz: expected a clock between/,
    );
  });
});

describe('bounds and late checks', () => {
  it('refuses /dev/zero and oversized files without reading them', () => {
    rejected(udf('validate', '/dev/zero'), /\/dev\/zero: not a regular file/);
    const big = file('big.yaml', `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    rejected(udf('validate', big), /larger than the 1048576-byte limit/);
  });

  it('CLI values are checked before any work', () => {
    const zero = udf('run', 'isolated', '--loads', '0');
    rejected(zero, /--loads.*greater than 0 and at most 1000, got 0/);
    expect(zero.stderr.trim().split('\n')).toHaveLength(1);
    rejected(udf('run', 'isolated', '--loads', ''), /--loads.*list of values/);
    rejected(udf('run', 'isolated', '--loads', '100,'), /--loads/);
    rejected(udf('compare', '--jobs', '100000'), /--jobs.*to \d+/);
    rejected(udf('run', 'isolated', '--duration', '1e12'), /--duration/);
    rejected(udf('profile', 'isolated', '--holdoff', '50'), /--holdoff/);
    rejected(
      udf('run', 'isolated', '--loads', '0.001', '--duration', '1', '--warmup', '0'),
      /every 3\.28e\+4 ms, longer than the 1 ms window/,
    );
  });

  it('profile --holdoff 0 is accepted (a paper configuration)', () => {
    const r = udf('profile', 'isolated', '--holdoff', '0', '--load', '100', '--duration', '2');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/isolated, 0 µs hold-off/);
  });

  it('--out that cannot be written is rejected before work starts', () => {
    const started = Date.now();
    rejected(
      udf('run', 'isolated', '--out', '/proc/x'),
      /--out \/proc\/x: cannot write results there/,
    );
    const blocker = file('not-a-dir', 'x');
    rejected(udf('run', 'isolated', '--out', join(blocker, 'sub')), /cannot write results there/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('two configurations with the same name are rejected', () => {
    const copy = file('copy.yaml', shipped('isolated'));
    rejected(udf('compare', '--configs', `isolated,${copy}`), /both named "isolated"/);
    rejected(udf('compare', '--configs', 'isolated,isolated'), /"isolated" is listed twice/);
  });

  it('a failed step keeps the completed ones: printed, written, marked, exit 1', () => {
    // IPC a thousand times dearer: the system cannot start within the start-up limit.
    const slow = file(
      'slow.yaml',
      `${shipped('embedded').replace('name: embedded', 'name: slow')}machine: { ipcScale: 1000 }\n`,
    );
    const out = mkdtempSync(join(tmpdir(), 'udf-partial-'));
    const r = udf(
      'compare',
      '--configs',
      `isolated,${slow}`,
      '--holdoff',
      '100',
      '--loads',
      '100',
      '--duration',
      '2',
      '--warmup',
      '1',
      '--no-progress',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^isolated\s+100 µs\s+100\s+\d/m);
    expect(r.stderr).toMatch(/^udf: step slow 100 µs 100 Mb\/s failed: \w+Error: .+$/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(doc.rows.map((x: { config: string }) => x.config)).toEqual(['isolated']);
    expect(doc.failures).toHaveLength(1);
    expect(doc.failures[0]).toMatchObject({ config: 'slow', holdoffUs: 100, loadMbps: 100 });
    expect(readFileSync(join(out, 'isolated-100us.csv'), 'utf8')).toMatch(/^requested,/);
    // profile: the same run failure is one line and exit code 1.
    const p = udf('profile', slow, '--load', '100', '--duration', '2');
    expect(p.status).toBe(1);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/^udf: \w+Error: /);
  });

  it('a deeply nested or alias-bombed YAML is one line, exit 2', () => {
    rejected(udf('validate', file('deep.yaml', '['.repeat(200_000))), /not valid YAML\/JSON/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const prev = i === 1 ? 'a' : `a${i - 1}`;
      bomb.push(`a${i}: &a${i} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    rejected(
      udf('validate', file('bomb.yaml', `${bomb.join('\n')}\n`)),
      /not valid YAML\/JSON: Excessive alias count/,
    );
  });
});
