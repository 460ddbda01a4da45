// `udf hostile` as a user runs it: the built CLI in a child process.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostileDocument } from './hostile.js';

const cli = resolve(import.meta.dirname, '../dist/cli.js');
const udf = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8' });

describe('udf hostile', () => {
  it('--json prints a record per case; the same options print the same document; the honest side loses nothing', () => {
    const first = udf('hostile', '--json');
    expect(first.status, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout) as HostileDocument;
    expect(doc).toMatchObject({
      engine: 'sim',
      mbpsPerClient: 100,
      clientsPerNic: 4,
      durationMs: 30,
    });
    expect(doc.cases.map((c) => [c.hostile, c.behaviour])).toEqual([
      ['none', '-'],
      ['client', 'garbage descriptors'],
      ['client', 'corrupt ring indices'],
      ['client', 'wake-up flood'],
      ['driver', 'garbage descriptors'],
      ['driver', 'wake-up flood'],
    ]);
    for (const c of doc.cases) {
      expect(c.honestSent).toBeGreaterThan(0);
      expect(c.honestLost).toBe(0);
      expect(c.restarts).toBe(0);
      expect(c.honestNics).toEqual(c.hostile === 'client' ? ['nic1'] : ['nic0', 'nic1']);
      if (c.hostile !== 'none') expect(c.hostileActs).toBeGreaterThan(0);
    }
    // every garbage descriptor a hostile end wrote is counted by the other side
    const garbage = (h: string) =>
      doc.cases.find((c) => c.hostile === h && c.behaviour === 'garbage descriptors')!;
    const client = garbage('client');
    expect(Object.values(client.counted).reduce((x, y) => x + y, 0)).toBe(client.hostileActs);
    const driver = garbage('driver');
    expect(Object.values(driver.counted).reduce((x, y) => x + y, 0)).toBe(driver.hostileActs);
    expect(udf('hostile', '--json').stdout).toBe(first.stdout);
  });

  it('prints a table: behaviour, who is hostile, what the honest side lost, what was counted, restarts', () => {
    const r = udf('hostile', '--duration', '15');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^udf hostile: clustered-two-clients/);
    expect(lines[1]).toMatch(/^100 Mb\/s per ipbench client, 4 clients per NIC, 15 ms per case$/);
    expect(lines[2]).toMatch(
      /behaviour +hostile +honest side lost +hostile end did +counted by the other side +restarts/,
    );
    expect(lines).toHaveLength(3 + 6);
    expect(lines[3]).toMatch(/^ {2}none \(baseline\) +- +0 of \d+ \(nic0\+nic1\)/);
    expect(lines[4]).toMatch(
      /garbage descriptors +client stack-a \(nic0\) +0 of \d+ \(nic1\) +\d+ garbage descriptors +driver: /,
    );
    for (const l of lines.slice(3)) expect(l).toMatch(/ 0$/);
  });

  it('rejects a bad load with exit code 2', () => {
    const r = udf('hostile', '--load', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--load: expected a number in \(0, 1000\]/);
  });
});
