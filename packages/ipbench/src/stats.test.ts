import { describe, expect, it } from 'vitest';
import { EMPTY_RTT_STATS, poolSamples, rttStats } from './stats.js';

describe('rttStats', () => {
  it('computes min/avg/max/population stddev/median of known samples', () => {
    const s = rttStats([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s).toEqual({ count: 8, min: 2, avg: 5, max: 9, stddev: 2, median: 5 });
  });

  it('takes element floor(n/2) of the sorted samples as the median, as ipbench', () => {
    expect(rttStats([40, 10, 30, 20]).median).toBe(30);
    expect(rttStats([3, 1, 2]).median).toBe(2);
  });

  it('uses only the first `count` samples and does not reorder the input', () => {
    const a = new Float64Array([9, 1, 5, 1000]);
    expect(rttStats(a, 3)).toMatchObject({ count: 3, min: 1, max: 9, median: 5 });
    expect(Array.from(a)).toEqual([9, 1, 5, 1000]);
  });

  it('returns zeros for no samples', () => {
    expect(rttStats([])).toEqual(EMPTY_RTT_STATS);
  });

  it('pools several clients’ samples', () => {
    expect(Array.from(poolSamples([[1, 2], new Float64Array([3])]))).toEqual([1, 2, 3]);
  });
});
