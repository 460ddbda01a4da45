import { describe, expect, it, vi } from 'vitest';
import { chaosCommand, formatChaos } from './chaos.js';

/** Run `udf chaos ARGS` in-process; returns what it printed. */
async function chaos(...args: string[]): Promise<string> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: string) => {
    out.push(s);
  });
  try {
    await chaosCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return out.join('\n');
}

describe('udf chaos', () => {
  it('--json prints a record per fault and totals; the same seed prints the same document', async () => {
    const args = [
      'isolated',
      '--seed',
      '3',
      '--faults',
      '2',
      '--kinds',
      'kill',
      '--duration',
      '40',
    ];
    const text = await chaos(...args, '--json');
    const doc = JSON.parse(text) as {
      faults: Record<string, unknown>[];
      totals: Record<string, number>;
    };
    expect(doc.faults).toHaveLength(2);
    for (const f of doc.faults) {
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining([
          'kind',
          'atSeconds',
          'outageSeconds',
          'lostPackets',
          'inFlightAtFault',
        ]),
      );
      expect(f.lostPackets).toBe(f.inFlightAtFault);
    }
    expect(doc.totals.faults).toBe(2);
    expect(await chaos(...args, '--json')).toBe(text);
  });

  it('prints a readable table by default', async () => {
    const text = await chaos('isolated', '--faults', '1', '--kinds', 'corrupt', '--duration', '20');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^udf chaos isolated: seed 1, 1 fault, 200 Mb\/s per NIC for 20 ms/);
    expect(lines[1]).toMatch(/kind .* outage ms .* in flight .* lost/);
    expect(lines[2]).toMatch(/^ {2}1 {2}corrupt/);
    expect(text).toMatch(/garbage descriptors: (\d+) written, \1 counted/);
    expect(formatChaos).toBeTypeOf('function');
  });

  it('rejects an unknown fault kind', async () => {
    await expect(chaos('isolated', '--kinds', 'kill,melt')).rejects.toThrow(/--kinds/);
  });
});
