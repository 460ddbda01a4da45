// `udf run CONFIG --chaos` as a user runs it (the built CLI in a child process), and its checks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaosConflicts, type RunChaosDocument } from './run-chaos.js';

const cli = resolve(import.meta.dirname, '../dist/cli.js');
const udf = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8' });

describe('udf run --chaos', () => {
  it('injects the same seeded faults as udf chaos into each step and prints the records with what the step echoed', () => {
    const out = mkdtempSync(join(tmpdir(), 'udf-run-chaos-'));
    const args = ['--seed', '3', '--faults', '2', '--duration', '40'];
    const r = udf(
      'run',
      'isolated',
      '--chaos',
      'kill,hang',
      ...args,
      '--loads',
      '100,300',
      '--json',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RunChaosDocument;
    expect(doc.chaos).toEqual({ seed: 3, kinds: ['kill', 'hang'], faultsPerStep: 2 });
    expect(doc.steps.map((s) => s.loadMbps)).toEqual([100, 300]);
    for (const s of doc.steps) {
      expect(s.chaos.faults).toHaveLength(2);
      for (const f of s.chaos.faults) {
        expect(['kill', 'hang']).toContain(f.kind);
        expect(f.restarted).toBe(true);
        expect(f.lostPackets).toBe(f.inFlightAtFault);
      }
      expect(s.chaos.totals.unsupervisedFailures).toBe(0);
      // what was echoed, short of the offered load by what the faults cost at most
      const lostMbps =
        ((s.chaos.totals.arrived - s.chaos.totals.echoed) * s.packetSize * 8) / 0.04 / 1e6;
      expect(s.echoedMbps).toBeGreaterThan(0);
      expect(s.echoedMbps).toBeLessThanOrEqual(s.loadMbps * 1.01);
      expect(s.echoedMbps + lostMbps).toBeGreaterThan(s.loadMbps * 0.9);
    }
    // the step's faults are udf chaos's at the same seed, load and window
    const alone = udf(
      'chaos',
      'isolated',
      '--kinds',
      'kill,hang',
      ...args,
      '--load',
      '300',
      '--json',
    );
    expect(alone.status, alone.stderr).toBe(0);
    expect(doc.steps[1]!.chaos).toEqual(JSON.parse(alone.stdout));
    // reproducible, and written as chaos.json
    expect(readFileSync(join(out, 'chaos.json'), 'utf8')).toBe(r.stdout);
    const again = udf(
      'run',
      'isolated',
      '--chaos',
      'kill,hang',
      ...args,
      '--loads',
      '100,300',
      '--json',
      '--out',
      out,
    );
    expect(again.stdout).toBe(r.stdout);
  });

  it("prints a row per step, then each step's faults", () => {
    const out = mkdtempSync(join(tmpdir(), 'udf-run-chaos-'));
    const r = udf(
      'run',
      'clustered',
      '--chaos',
      '--faults',
      '1',
      '--loads',
      '200',
      '--duration',
      '20',
      '--no-progress',
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^udf run clustered --chaos kill,hang,corrupt,iommu: seed 1, 1 fault per step, 20 ms per step/,
    );
    expect(lines[1]).toMatch(
      /hold-off µs +offered Mb\/s +echoed Mb\/s +faults +restarts +in flight +lost/,
    );
    expect(lines[2]).toMatch(/^ +100 +200 +\d+\.\d +1 /);
    expect(r.stdout).toMatch(/hold-off 100 µs, 200 Mb\/s:\n {2}# {2}kind/);
  });

  it('refuses bad combinations with exit code 2, naming them', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--chaos', '--engine', 'threads'],
        /--chaos with --engine threads: fault injection is sim-only/,
      ],
      [['--chaos', '--pcap', 'x'], /--chaos with --pcap/],
      [['--chaos', '--warmup', '2'], /--chaos with --warmup/],
      [['--chaos', '--jobs', '1'], /--chaos with --jobs/],
      [['--seed', '2'], /--seed: only with --chaos/],
      [['--faults', '2'], /--faults: only with --chaos/],
      [
        ['--chaos', 'melt'],
        /--chaos: expected a comma-separated list of kill, hang, corrupt, iommu/,
      ],
      [
        ['--chaos', '--faults', '5', '--duration', '20'],
        /at least 10 ms per fault.*raise --duration or lower --faults/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = udf('run', 'isolated', '--loads', '100', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const mono = udf(
      'run',
      'monolithic',
      '--chaos',
      '--loads',
      '100',
      '--out',
      mkdtempSync(join(tmpdir(), 'udf-')),
    );
    expect(mono.status).toBe(2);
    expect(mono.stderr).toMatch(/monolithic: no user-level driver/);
  });

  it('chaosConflicts: nothing to say without --chaos, --seed or --faults', () => {
    expect(chaosConflicts({ engine: 'sim' })).toEqual([]);
    expect(chaosConflicts({ engine: 'sim', chaos: true, seed: 1, faults: 2 })).toEqual([]);
    expect(chaosConflicts({ engine: 'threads', chaos: ['kill'], jobs: 2 })).toHaveLength(2);
  });
});
