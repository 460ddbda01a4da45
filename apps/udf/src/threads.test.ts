// `--engine threads` input handling: the wire option, and the monolithic baseline refused with
// the reason (the built CLI in a child process, as a user runs it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from './check.js';
import { parseWire, parseWireChoice } from './threads.js';

const cli = resolve(import.meta.dirname, '../dist/cli.js');
const udf = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8' });

describe('udf --engine threads: input', () => {
  it('parseWire takes udp:HOST:PORT and refuses anything else', () => {
    expect(parseWire('udp:127.0.0.1:5555')).toEqual({ address: '127.0.0.1', port: 5555 });
    expect(parseWire('udp:localhost:1')).toEqual({ address: 'localhost', port: 1 });
    for (const bad of ['tcp:1.2.3.4:5', 'udp:1.2.3.4', 'udp:1.2.3.4:0', 'udp:h:65536', 'udp::5'])
      expect(() => parseWire(bad), bad).toThrow(InputError);
    expect(parseWireChoice('in-process')).toEqual({ via: 'in-process' });
    expect(parseWireChoice('udp')).toEqual({ via: 'udp' });
    expect(parseWireChoice('udp:127.0.0.1:7777')).toEqual({
      serve: { address: '127.0.0.1', port: 7777 },
    });
    expect(() => parseWireChoice('tcp')).toThrow(InputError);
  });

  it('compare --engine threads --configs monolithic exits 2 and says why it is sim-only', () => {
    const r = udf('compare', '--engine', 'threads', '--configs', 'monolithic', '--no-progress');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/monolithic baseline runs on the sim engine only/);
    expect(r.stderr).toMatch(/interrupt-priority/);
  });

  it('run --wire without --engine threads, and sim-only options on threads, exit 2', () => {
    const a = udf('run', 'isolated', '--wire', 'udp:127.0.0.1:5555');
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--wire: only with --engine threads/);
    const b = udf('compare', '--engine', 'threads', '--band', '--pcap', '/tmp');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--band .* is sim-only/);
    expect(b.stderr).toMatch(/--pcap .* is sim-only/);
  });

  it('help says monolithic is sim-only', () => {
    const r = udf('compare', '--help');
    expect(r.stdout).toMatch(/--engine <engine>/);
    expect(r.stdout).toMatch(/monolithic baseline is\s+sim-only/);
  });

  it('compare --engine threads --json: rows marked engine threads with CPU per domain; CSV and chart written (built workers)', () => {
    const out = mkdtempSync(join(tmpdir(), 'udf-threads-'));
    const r = udf(
      'compare',
      '--engine',
      'threads',
      '--configs',
      'embedded',
      '--loads',
      '2',
      '--duration',
      '300',
      '--warmup',
      '100',
      '--packet-size',
      '256',
      '--json',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.engine).toBe('threads');
    expect(doc.rows).toHaveLength(1);
    const row = doc.rows[0];
    expect(row.engine).toBe('threads');
    expect(row.config).toBe('embedded');
    expect(row.achievedMbps).toBeGreaterThan(0);
    if (process.platform === 'linux')
      expect(Object.keys(row.cpuByDomain).sort()).toEqual(['app', 'devices', 'memory']);
    expect(existsSync(join(out, 'embedded-100us.csv'))).toBe(true);
    expect(existsSync(join(out, 'throughput-cpu.svg'))).toBe(true);
  }, 60_000);
});
