import { describe, expect, it } from 'vitest';
import { DataspaceError } from './errors.js';
import { Session, ValidationStatus } from './session.js';

const PAGE = 4096;

function sessionWith(...dataspaces: Array<[number, number]>): Session {
  const s = new Session({ id: 7 });
  for (const [id, size] of dataspaces) s.add({ id, size });
  return s;
}

describe('Session.validate', () => {
  it('accepts a range inside a dataspace of the session, up to its last byte', () => {
    const s = sessionWith([1, 4 * PAGE]);
    expect(s.validate(1, 0, 1514)).toBe(ValidationStatus.OK);
    expect(s.validate(1, 4 * PAGE - 1, 1)).toBe(ValidationStatus.OK);
    expect(s.validate(1, 0, 4 * PAGE)).toBe(ValidationStatus.OK);
    expect(s.count(ValidationStatus.OK)).toBe(3);
  });

  it('rejects a dataspace the session does not hold (another client’s, closed, or invented)', () => {
    const s = sessionWith([1, PAGE]);
    expect(s.validate(2, 0, 64)).toBe(ValidationStatus.FOREIGN_DATASPACE);
    expect(s.validate(Number.NaN, 0, 64)).toBe(ValidationStatus.FOREIGN_DATASPACE);
    expect(s.validate(-1, 0, 64)).toBe(ValidationStatus.FOREIGN_DATASPACE);
    s.remove(1);
    expect(s.validate(1, 0, 64)).toBe(ValidationStatus.FOREIGN_DATASPACE);
    expect(s.count(ValidationStatus.FOREIGN_DATASPACE)).toBe(4);
  });

  it('rejects ranges that end past the dataspace', () => {
    const s = sessionWith([1, PAGE]);
    expect(s.validate(1, PAGE, 1)).toBe(ValidationStatus.OUT_OF_RANGE);
    expect(s.validate(1, PAGE - 10, 11)).toBe(ValidationStatus.OUT_OF_RANGE);
    expect(s.validate(1, 0, PAGE + 1)).toBe(ValidationStatus.OUT_OF_RANGE);
    expect(s.count(ValidationStatus.OUT_OF_RANGE)).toBe(3);
  });

  it('rejects zero, negative, NaN, fractional and over-long lengths', () => {
    const s = sessionWith([1, PAGE]);
    for (const length of [0, -1, -PAGE, Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 32]) {
      expect(s.validate(1, 0, length)).toBe(ValidationStatus.BAD_LENGTH);
    }
    expect(s.count(ValidationStatus.BAD_LENGTH)).toBe(7);
  });

  it('rejects offsets that are not 32-bit unsigned integers and ranges that wrap past 2^32', () => {
    // A 2^32-byte dataspace makes wrap-around the only thing that can fail.
    const s = sessionWith([1, 2 ** 32]);
    expect(s.validate(1, 2 ** 32 - 16, 32)).toBe(ValidationStatus.OVERFLOW);
    expect(s.validate(1, 0xffffffff, 2)).toBe(ValidationStatus.OVERFLOW);
    expect(s.validate(1, -1, 2)).toBe(ValidationStatus.OVERFLOW);
    expect(s.validate(1, Number.NaN, 2)).toBe(ValidationStatus.OVERFLOW);
    expect(s.validate(1, 0.5, 2)).toBe(ValidationStatus.OVERFLOW);
    expect(s.validate(1, 2 ** 32, 1)).toBe(ValidationStatus.OVERFLOW);
    expect(s.validate(1, 2 ** 32 - 16, 16)).toBe(ValidationStatus.OK);
    expect(s.count(ValidationStatus.OVERFLOW)).toBe(6);
    expect(s.dropped).toBe(6);
  });

  it('serves many client-level flows from one driver session', () => {
    const s = sessionWith([1, 8 * PAGE], [2, 2 * PAGE]);
    let ok = 0;
    for (let flow = 0; flow < 100; flow++) {
      if (s.validate(1 + (flow % 2), (flow % 2) * PAGE, 1024) === ValidationStatus.OK) ok++;
    }
    expect(ok).toBe(100);
  });
});

describe('Session setup', () => {
  it('rejects bad ids and sizes, duplicates and overflow of the session with typed errors', () => {
    const s = new Session({ maxDataspaces: 1 });
    expect(() => s.add({ id: 0, size: PAGE })).toThrow(DataspaceError);
    expect(() => s.add({ id: 1.5, size: PAGE })).toThrow(DataspaceError);
    expect(() => s.add({ id: 1, size: -1 })).toThrow(DataspaceError);
    expect(() => s.add({ id: 1, size: 2 ** 32 + 1 })).toThrow(DataspaceError);
    s.add({ id: 1, size: PAGE });
    expect(() => s.add({ id: 1, size: PAGE })).toThrow(
      expect.objectContaining({ code: 'DS_DUPLICATE' }),
    );
    expect(() => s.add({ id: 2, size: PAGE })).toThrow(
      expect.objectContaining({ code: 'DS_SESSION_FULL' }),
    );
    expect(s.dataspaceIds()).toEqual([1]);
    expect(s.sizeOf(1)).toBe(PAGE);
    expect(s.sizeOf(2)).toBe(-1);
  });
});
