// The udf command as a user runs it: the built CLI in a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPcap } from '@udf/lwip-lite';
import { describe, expect, it } from 'vitest';

const cli = resolve(import.meta.dirname, '../dist/cli.js');
const udf = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8' });

describe('udf', () => {
  it('run --pcap DIR writes one capture per NIC and step that a pcap reader accepts', () => {
    const out = mkdtempSync(join(tmpdir(), 'udf-cli-'));
    const pcaps = join(out, 'captures');
    execFileSync(
      'node',
      [
        cli,
        'run',
        'clustered',
        '--holdoff',
        '100',
        '--loads',
        '50',
        '--duration',
        '3',
        '--warmup',
        '1',
        '--no-progress',
        '--out',
        out,
        '--pcap',
        pcaps,
      ],
      { encoding: 'utf8' },
    );
    const files = readdirSync(pcaps).sort();
    expect(files).toEqual(['clustered-100us-50mbps-nic0.pcap', 'clustered-100us-50mbps-nic1.pcap']);
    for (const f of files) {
      const cap = readPcap(readFileSync(join(pcaps, f)));
      if (typeof cap === 'string') throw new Error(cap);
      expect(cap.linktype).toBe(1);
      expect(cap.records.length).toBeGreaterThan(10);
    }
  });

  it('compare --json prints one document with a row per configuration × hold-off × load, and writes CSV/JSON/SVG', () => {
    const out = mkdtempSync(join(tmpdir(), 'udf-cli-'));
    const stdout = execFileSync(
      'node',
      [
        cli,
        'compare',
        '--configs',
        'isolated,monolithic',
        '--holdoff',
        '0,100',
        '--loads',
        '50,900',
        '--duration',
        '5',
        '--warmup',
        '2',
        '--json',
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    const doc = JSON.parse(stdout);
    expect(doc.rows).toHaveLength(8);
    for (const row of doc.rows) {
      for (const field of [
        'config',
        'engine',
        'holdoffUs',
        'packetSize',
        'requestedMbps',
        'achievedMbps',
        'cpuPercent',
        'drops',
        'corrupt',
      ]) {
        expect(row).toHaveProperty(field);
      }
      expect(row.engine).toBe('sim');
      expect(row.packetSize).toBe(1024);
      expect(row.corrupt).toBe(0); // the shipped placements never corrupt a session
    }
    expect(doc.profiles).toHaveLength(8);
    expect(Object.keys(doc.profiles[0].percent)).toEqual(
      expect.arrayContaining(['IPC', 'Driver', 'IP', 'Idle']),
    );
    const mono0 = doc.rows.find(
      (r: { config: string; holdoffUs: number; requestedMbps: number }) =>
        r.config === 'monolithic' && r.holdoffUs === 0 && r.requestedMbps === 900,
    );
    expect(mono0.achievedMbps).toBeLessThan(450); // receive livelock
    const csv = readFileSync(join(out, 'isolated-100us.csv'), 'utf8').split('\n');
    expect(csv[0]).toMatch(/^requested,achieved,sent,size,min,avg,max,stddev,median,bad_packets,/);
    expect(csv.filter((l) => l.trim()).length).toBe(3);
    for (const svg of ['throughput-cpu.svg', 'profile.svg']) {
      const text = readFileSync(join(out, svg), 'utf8');
      expect(text.startsWith('<svg')).toBe(true);
      expect(text).toContain('</svg>');
    }
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).rows).toHaveLength(8);
  });

  it('compare --band prints the band across the four bus configurations and writes band.csv', () => {
    const out = mkdtempSync(join(tmpdir(), 'udf-band-'));
    const r = udf(
      'compare',
      '--configs',
      'isolated',
      '--holdoff',
      '100',
      '--loads',
      '900',
      '--duration',
      '3',
      '--warmup',
      '1',
      '--band',
      '--no-progress',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/offered\s+32\/33\s+64\/33\s+32\/66\s+64\/66/);
    const csv = readFileSync(join(out, 'band.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    const achieved = csv.slice(1).map((l) => Number(l.split(',')[7]));
    // The 32-bit/33 MHz bus cannot carry 900 Mb/s of echoes; the 64-bit/66 MHz bus can.
    expect(achieved[0]!).toBeLessThan(achieved[3]!);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(doc.rows.map((x: { bus: { clockMHz: number } }) => x.bus.clockMHz)).toEqual([
      33, 33, 66, 66,
    ]);
    expect(udf('compare', '--band', '--pcap', out).stderr).toMatch(/--band with --pcap/);
  });

  it('profile prints the Figure 1(a) breakdown with the framework and overhead shares', () => {
    const r = udf('profile', 'isolated', '--load', '450', '--duration', '10');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Idle/);
    expect(r.stdout).toMatch(
      /framework \(Buffer\+Interrupt\+Translation\+Notification\+IPC\): [\d.]+ % of non-idle/,
    );
  });

  it('profile --calibration prints the spread of the four paper predictions under ±1-point target moves', () => {
    const r = udf('profile', '--calibration', '--duration', '2', '--warmup', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.factors).toHaveProperty('overhead');
    expect(doc.rows.map((x: { point: { config: string } }) => x.point.config)).toEqual([
      'isolated',
      'isolated',
      'monolithic',
      'monolithic',
    ]);
    for (const row of doc.rows) {
      expect(Object.keys(row.moved)).toHaveLength(8);
      expect(row.min).toBeLessThanOrEqual(row.cpuPercent);
      expect(row.max).toBeGreaterThanOrEqual(row.cpuPercent);
    }
    const bad = udf('profile', 'isolated', '--calibration');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--calibration: takes no description/);
    expect(udf('profile').stderr).toMatch(/give a description .* or --calibration/);
  });

  it('a bad description exits 2 naming the field and what was expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udf-bad-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync(resolve(import.meta.dirname, '../../isolated/system.yaml'), 'utf8').replace(
        'priority: 200',
        'priority: 300',
      ),
    );
    const r = udf('validate', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/domains\[1\]\.priority: .*(<=|255)/);
    const run = udf('run', file, '--loads', '10');
    expect(run.status).toBe(2);
  });

  it('rejects bad options and unknown configurations with a message', () => {
    const r = udf('compare', '--holdoff', 'abc');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--holdoff/);
    const u = udf('run', 'no-such-config');
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/no description "no-such-config"/);
    expect(udf('run', 'isolate').stderr).toMatch(/did you mean "isolated"/);
    // commands built apart (chaos, hostile, ipbenchd) exit 2 on a bad option too, not commander's 1
    for (const args of [
      ['chaos', '--kinds', 'melt'],
      ['hostile', '--duration', '0'],
      ['ipbenchd', '--port', 'x'],
    ]) {
      const b = udf(...args);
      expect(b.status, args.join(' ')).toBe(2);
      expect(b.stderr).toMatch(new RegExp(args[1]!));
    }
  });

  it.each([
    'compare',
    'run',
    'profile',
    'validate',
    'list',
    'chaos',
    'hostile',
  ])('%s --help describes the command with an example', (cmd) => {
    const r = udf(cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: udf/);
    expect(r.stdout).toMatch(new RegExp(`Examples?:\\n  \\$ udf ${cmd}`));
  });

  it('--version prints the package version; list shows the shipped placements', () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8'));
    const v = udf('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const l = udf('list');
    expect(l.status).toBe(0);
    const lines = l.stdout.trim().split('\n');
    expect(lines.map((x) => x.split(/\s+/)[0])).toEqual([
      'isolated',
      'clustered',
      'embedded',
      'monolithic',
    ]);
    for (const line of lines) expect(line).toMatch(/^[a-z]+\s+\S.{10,}/);
  });
});
