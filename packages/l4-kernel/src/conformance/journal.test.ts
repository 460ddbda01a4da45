import { describe, expect, it } from 'vitest';
import { JOURNAL_CELLS, Journal, JournalError } from './journal.js';

describe('Journal', () => {
  it('returns the records of each stream in order, through another view of the same buffer', () => {
    const j = Journal.create();
    j.append('a', { ok: true, words: [1, 2] });
    j.append('b', 'x');
    j.append('a', 3);
    const other = new Journal(structuredClone(j.buffer)); // a worker sees the same memory
    expect(other.read('a')).toEqual([{ ok: true, words: [1, 2] }, 3]);
    expect(other.read('b')).toEqual(['x']);
    expect(other.count('c')).toBe(0);
    other.append('b', 'y');
    expect(j.read('b')).toEqual(['x', 'y']);
  });

  it('shares cells, and refuses cells out of range', () => {
    const j = Journal.create();
    new Journal(j.buffer).set(JOURNAL_CELLS - 1, 7);
    expect(j.get(JOURNAL_CELLS - 1)).toBe(7);
    expect(j.get(0)).toBe(0);
    expect(() => j.get(JOURNAL_CELLS)).toThrow(JournalError);
    expect(() => j.set(-1, 1)).toThrow(JournalError);
  });

  it('stops reading at a record that is still being written', () => {
    const j = Journal.create();
    j.append('a', 1);
    j.append('a', 2);
    // the second record's length word is published last; take it back
    const i32 = new Int32Array(j.buffer);
    const first = 4 * (1 + JOURNAL_CELLS);
    const second = first + 4 + Math.ceil(i32[first / 4]! / 4) * 4;
    i32[second / 4] = 0;
    expect(j.read('a')).toEqual([1]);
  });

  it('throws when full, and keeps what fits', () => {
    const j = Journal.create(256);
    expect(() => {
      for (let i = 0; i < 100; i++) j.append('a', i);
    }).toThrow(JournalError);
    expect(j.count('a')).toBeGreaterThan(0);
    expect(() => new Journal(new SharedArrayBuffer(8))).toThrow(JournalError);
  });
});
