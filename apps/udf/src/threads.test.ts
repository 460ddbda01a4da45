// `--engine threads` input handling: the wire option, and the monolithic baseline refused with
// the reason (the built CLI in a child process, as a user runs it).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from './check.js';
import { parseWire } from './threads.js';

const cli = resolve(import.meta.dirname, '../dist/cli.js');
const udf = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8' });

describe('udf --engine threads: input', () => {
  it('parseWire takes udp:HOST:PORT and refuses anything else', () => {
    expect(parseWire('udp:127.0.0.1:5555')).toEqual({ address: '127.0.0.1', port: 5555 });
    expect(parseWire('udp:localhost:1')).toEqual({ address: 'localhost', port: 1 });
    for (const bad of ['tcp:1.2.3.4:5', 'udp:1.2.3.4', 'udp:1.2.3.4:0', 'udp:h:65536', 'udp::5'])
      expect(() => parseWire(bad), bad).toThrow(InputError);
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
});
