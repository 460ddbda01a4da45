// The threads memory source's request handling, engine side faked: who is served, budgets,
// malformed requests and allocation failures are refused and counted, never thrown.
import { MEMORY_SOURCE_LABEL, MemorySourceStatus } from '@udf/dataspace';
import { describe, expect, it } from 'vitest';
import { ThreadsMemorySource } from './threads-root-task.js';

describe('ThreadsMemorySource', () => {
  it('serves budgeted threads with a fresh region mapped in their domain; refuses the rest', () => {
    const calls: [number, number, number][] = [];
    let next = 0x10_0000;
    let fail: 'no-memory' | 'refused' | null = null;
    const source = new ThreadsMemorySource(
      (domain, vaddr, bytes) => {
        if (fail) return fail;
        calls.push([domain, vaddr, bytes]);
        const paddr = next;
        next += bytes + 4096;
        return paddr;
      },
      (t) => (t === 5 ? 2 : t === 6 ? 3 : undefined),
    );
    source.budget(5, 3 * 4096);
    const ask = (from: number, words: number[], label = MEMORY_SOURCE_LABEL) =>
      source.serve(from, { label, words });
    expect(ask(5, [0x2000_0000, 8192])).toEqual({
      label: MemorySourceStatus.OK,
      words: [0x10_0000],
    });
    expect(calls).toEqual([[2, 0x2000_0000, 8192]]);
    // beyond its budget, not budgeted, unknown thread, malformed
    expect(ask(5, [0x2001_0000, 8192]).label).toBe(MemorySourceStatus.NO_MEMORY);
    expect(ask(6, [0x2000_0000, 4096]).label).toBe(MemorySourceStatus.REFUSED);
    expect(ask(7, [0x2000_0000, 4096]).label).toBe(MemorySourceStatus.REFUSED);
    for (const words of [[0x2000_0001, 4096], [0x2000_0000, 100], [0x2000_0000], [1, 2, 3]])
      expect(ask(5, words).label).toBe(MemorySourceStatus.REFUSED);
    expect(ask(5, [0x2000_0000, 4096], 1).label).toBe(MemorySourceStatus.REFUSED);
    // the engine's own failures
    fail = 'no-memory';
    expect(ask(5, [0x2002_0000, 4096]).label).toBe(MemorySourceStatus.NO_MEMORY);
    fail = 'refused';
    expect(ask(5, [0x2002_0000, 4096]).label).toBe(MemorySourceStatus.REFUSED);
    expect(source.stats).toEqual({ regions: 1, bytes: 8192, refused: 8, noMemory: 2 });
  });
});
