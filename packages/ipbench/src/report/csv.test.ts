import { describe, expect, it } from 'vitest';
import { summarise } from '../ramp.js';
import { IPBENCH_COLUMNS, toCsv } from './csv.js';
import { toJson } from './json.js';
import { formatTable } from './table.js';

const client = {
  requestedBps: 100e6,
  achievedBps: 99_999_999.6,
  sentBps: 100e6,
  size: 1024,
  durationUs: 1e6,
  sends: 12207,
  recvs: 4,
  late: 0,
  bad: 2,
  lost: 1,
  rttUs: new Float64Array([10.9, 20.2, 30.5, 40.7]),
};

describe('CSV', () => {
  it('has exactly ipbench’s latency-check columns', () => {
    expect(IPBENCH_COLUMNS.join(',')).toBe(
      'requested,achieved,sent,size,min,avg,max,stddev,median,bad_packets',
    );
    const csv = toCsv([summarise(100, [client])]);
    expect(csv.split('\n')[0]).toBe(
      'requested,achieved,sent,size,min,avg,max,stddev,median,bad_packets',
    );
  });

  it('writes integers like ipbench and stddev with two decimals', () => {
    const row = toCsv([summarise(100, [client])]).split('\n')[1];
    // avg 25.575 → 25; population stddev of the four samples = sqrt(124.32) = 11.15; median = element 2 = 30.5 → 30
    expect(row).toBe('100000000,100000000,100000000,1024,10,25,40,11.15,30,2');
  });

  it('appends cpu and idle percent columns when steps carry a CPU reading', () => {
    const csv = toCsv([summarise(100, [client], { utilisation: 0.3214 })]);
    const [head, row] = csv.split('\n');
    expect(head!.endsWith('bad_packets,cpu,idle')).toBe(true);
    expect(row!.endsWith(',2,32.1,67.9')).toBe(true);
  });

  it('sums clients: throughputs add, RTTs pool', () => {
    const s = summarise(200, [client, { ...client, rttUs: new Float64Array([50]) }]);
    expect(s.requestedBps).toBe(200e6);
    expect(s.rtt.count).toBe(5);
    expect(s.rtt.max).toBe(50);
    expect(s.bad).toBe(4);
  });
});

describe('table and JSON', () => {
  it('prints one row per step under a header, and JSON without raw samples', () => {
    const result = { label: 'x', clients: 1, packetSize: 1024, steps: [summarise(100, [client])] };
    const lines = formatTable(result).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/offered\s+achieved/);
    expect(lines[3]).toMatch(/^\s*100\s+100\.0/);
    const json = JSON.parse(toJson(result));
    expect(json.steps[0].clients[0].rttUs).toBeUndefined();
    expect(json.steps[0].rtt.count).toBe(4);
  });
});
