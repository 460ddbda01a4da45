import { describe, expect, it } from 'vitest';
import {
  ENTRY_PIN,
  ENTRY_VALID,
  ENTRY_WRITABLE,
  PinPolicy,
  TABLE_STATE_DISABLED,
  TranslationTable,
} from './translation-table.js';

function table(entries = 8): TranslationTable {
  const t = new TranslationTable(
    new SharedArrayBuffer(TranslationTable.bytesFor(entries) + 64),
    64,
    entries,
  );
  t.format(PinPolicy.PIN_BIT);
  return t;
}

describe('TranslationTable layout', () => {
  it('sizes a table as a 32-byte header and 16-byte entries', () => {
    expect(TranslationTable.bytesFor(254)).toBe(4096);
    expect(TranslationTable.entriesFor(4096)).toBe(254);
    expect(TranslationTable.entriesFor(8)).toBe(0);
  });

  it('refuses tables that do not fit or are misaligned', () => {
    const buf = new SharedArrayBuffer(100);
    expect(() => new TranslationTable(buf, 0, 10)).toThrow(/does not fit/);
    expect(() => new TranslationTable(buf, 4, 1)).toThrow(/aligned/);
    expect(() => new TranslationTable(buf, 0, 0)).toThrow(/positive/);
  });

  it('publishes frame and lease with the valid bit', () => {
    const t = table();
    expect(t.formatted).toBe(true);
    t.install(3, 0x12345, 1e12, true);
    expect(t.flags(3)).toBe(ENTRY_VALID | ENTRY_WRITABLE);
    expect(t.frame(3)).toBe(0x12345);
    expect(t.lease(3)).toBe(1e12);
    expect(t.flags(2)).toBe(0);
  });

  it('pins only valid entries', () => {
    const t = table();
    expect(t.tryPin(0)).toBe(false);
    expect(t.flags(0)).toBe(0);
    t.install(0, 1, Number.POSITIVE_INFINITY, false);
    expect(t.tryPin(0)).toBe(true);
    expect(t.flags(0) & ENTRY_PIN).toBe(ENTRY_PIN);
    t.unpin(0);
    expect(t.flags(0)).toBe(ENTRY_VALID);
  });

  it('lets a revoking manager see a pin set before the revoke, and a pinning driver see a revoke before the pin', () => {
    const t = table();
    t.install(1, 9, 0, false);
    expect(t.tryPin(1)).toBe(true);
    expect(t.revoke(1) & ENTRY_PIN).toBe(ENTRY_PIN);

    t.install(2, 9, 0, false);
    expect(t.revoke(2) & ENTRY_PIN).toBe(0);
    expect(t.tryPin(2)).toBe(false);
  });

  it('carries a disabled state for drivers over quota', () => {
    const t = table();
    t.setState(TABLE_STATE_DISABLED);
    expect(t.state).toBe(TABLE_STATE_DISABLED);
    expect(t.clear(5)).toBe(0);
  });
});
