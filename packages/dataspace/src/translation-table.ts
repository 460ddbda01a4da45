/**
 * The memory layout of a translation cache (paper section 4.4): a table in memory shared by a
 * dataspace manager (writer of translations) and a driver (reader, and writer of pin bits).
 *
 * ```
 * byte 0   header, 8 x int32: magic 'UDTC', entry capacity, state, pin policy, 4 reserved
 * byte 32  entry 0:  int32 flags | uint32 frame number | float64 lease end (cycles)
 * byte 48  entry 1 ...
 * ```
 *
 * Flags are read and written with `Atomics` only; frame and lease are plain stores published
 * by the `Atomics.store` of the flags word. The protocol between the two writers:
 * - the manager installs a translation by writing frame and lease, then setting `VALID` (a pin
 *   already held survives, every other stray bit is cleared);
 * - the manager revokes with `Atomics.and(flags, ~VALID)` and looks at the *old* value: if
 *   `PIN` was set, the frame is still in use and its release is deferred;
 * - the driver pins with `Atomics.or(flags, PIN)` and looks at the old value: without `VALID`
 *   the pin failed (it clears the bit again and refills).
 * Both orders of a racing revoke and pin are therefore safe: either the manager sees the pin or
 * the driver sees the entry invalid. The manager never trusts anything else in this memory:
 * it keeps its own authoritative copy of every translation it installed.
 *
 * @module
 */
import { DataspaceError } from './errors.js';

/** Magic number in word 0 of a formatted table ('UDTC'). */
export const TRANSLATION_TABLE_MAGIC = 0x55445443;
/** Bytes of the table header. */
export const TRANSLATION_HEADER_BYTES = 32;
/** Bytes per translation entry. */
export const TRANSLATION_ENTRY_BYTES = 16;

/** Entry flag: the translation is current. */
export const ENTRY_VALID = 1;
/** Entry flag: the driver asks that the page stay put (advisory; see section 4.4). */
export const ENTRY_PIN = 2;
/** Entry flag: the frame may be written by DMA (device receives into it). */
export const ENTRY_WRITABLE = 4;

/** How translations stay valid for the duration of a DMA (paper section 4.4). */
export const PinPolicy = {
  /** The driver sets an advisory pin bit; the manager enforces quotas on pinned pages and pin time. */
  PIN_BIT: 0,
  /** Each refilled entry carries a lease end; the manager keeps the frame until it passes. */
  TIME: 1,
} as const;

/** One of the {@link PinPolicy} values. */
export type PinPolicy = (typeof PinPolicy)[keyof typeof PinPolicy];

/** Table state word: the manager has disabled the driver; every lookup misses, every refill fails. */
export const TABLE_STATE_ACTIVE = 0;
/** Table state word: the driver was disabled for exceeding its pin quota. */
export const TABLE_STATE_DISABLED = 1;

const W_MAGIC = 0;
const W_CAPACITY = 1;
const W_STATE = 2;
const W_POLICY = 3;

/** A typed view of a translation table at `byteOffset` in a `SharedArrayBuffer`. */
export class TranslationTable {
  /** Number of entries. */
  readonly entries: number;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;

  /** Bytes needed for a table of `entries` entries. */
  static bytesFor(entries: number): number {
    return TRANSLATION_HEADER_BYTES + entries * TRANSLATION_ENTRY_BYTES;
  }

  /** Entries that fit in `bytes` bytes. */
  static entriesFor(bytes: number): number {
    return Math.max(0, Math.floor((bytes - TRANSLATION_HEADER_BYTES) / TRANSLATION_ENTRY_BYTES));
  }

  /**
   * View `entries` entries at `byteOffset` (8-byte aligned) of `buffer`. Throws
   * {@link DataspaceError} if the table does not fit.
   */
  constructor(buffer: SharedArrayBuffer | ArrayBuffer, byteOffset: number, entries: number) {
    if (!Number.isInteger(entries) || entries <= 0) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `a translation table needs a positive entry count, got ${entries}`,
      );
    }
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `translation table offset ${byteOffset} must be 8-byte aligned`,
      );
    }
    const bytes = TranslationTable.bytesFor(entries);
    if (byteOffset + bytes > buffer.byteLength) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `translation table of ${entries} entries does not fit the buffer`,
      );
    }
    this.entries = entries;
    this.i32 = new Int32Array(buffer, byteOffset, bytes / 4);
    this.u32 = new Uint32Array(buffer, byteOffset, bytes / 4);
    this.f64 = new Float64Array(buffer, byteOffset, bytes / 8);
  }

  /** Manager: write the header and clear every entry. */
  format(policy: PinPolicy): void {
    this.i32.fill(0);
    this.i32[W_CAPACITY] = this.entries;
    this.i32[W_POLICY] = policy;
    Atomics.store(this.i32, W_STATE, TABLE_STATE_ACTIVE);
    Atomics.store(this.i32, W_MAGIC, TRANSLATION_TABLE_MAGIC);
  }

  /** True if the header carries the magic number (the manager formatted it). */
  get formatted(): boolean {
    return Atomics.load(this.i32, W_MAGIC) === TRANSLATION_TABLE_MAGIC;
  }

  /** The table's state word ({@link TABLE_STATE_ACTIVE} or {@link TABLE_STATE_DISABLED}). */
  get state(): number {
    return Atomics.load(this.i32, W_STATE);
  }

  /** Manager: set the state word. */
  setState(state: number): void {
    Atomics.store(this.i32, W_STATE, state);
  }

  /** The pin policy in the header (as the manager wrote it; readers must not index with it). */
  get policy(): number {
    return this.i32[W_POLICY]!;
  }

  /** Flags of entry `i` (atomic load). */
  flags(i: number): number {
    return Atomics.load(this.i32, (TRANSLATION_HEADER_BYTES >> 2) + (i << 2));
  }

  /** Frame number of entry `i` (meaningful only while `VALID`). */
  frame(i: number): number {
    return this.u32[(TRANSLATION_HEADER_BYTES >> 2) + (i << 2) + 1]!;
  }

  /** Lease end of entry `i` in cycles ({@link PinPolicy.TIME}); +Infinity under the pin-bit policy. */
  lease(i: number): number {
    return this.f64[(TRANSLATION_HEADER_BYTES >> 3) + (i << 1) + 1]!;
  }

  /** Manager: install a translation: frame and lease first, then the flags word publishes them. */
  install(i: number, frame: number, lease: number, writable: boolean): void {
    const w = (TRANSLATION_HEADER_BYTES >> 2) + (i << 2);
    this.u32[w + 1] = frame;
    this.f64[(TRANSLATION_HEADER_BYTES >> 3) + (i << 1) + 1] = lease;
    // Keep a pin the driver holds across a revoke-and-refill; drop every other bit a peer wrote.
    Atomics.and(this.i32, w, ENTRY_PIN);
    Atomics.or(this.i32, w, ENTRY_VALID | (writable ? ENTRY_WRITABLE : 0));
  }

  /** Manager: clear `VALID`; returns the old flags (so the caller sees a racing pin). */
  revoke(i: number): number {
    return Atomics.and(this.i32, (TRANSLATION_HEADER_BYTES >> 2) + (i << 2), ~ENTRY_VALID);
  }

  /** Manager: clear every flag of entry `i` (pin recovery); returns the old flags. */
  clear(i: number): number {
    return Atomics.exchange(this.i32, (TRANSLATION_HEADER_BYTES >> 2) + (i << 2), 0);
  }

  /** Driver: set the pin bit if the entry is valid. Returns false (and leaves no pin) if it was not. */
  tryPin(i: number): boolean {
    const w = (TRANSLATION_HEADER_BYTES >> 2) + (i << 2);
    const old = Atomics.or(this.i32, w, ENTRY_PIN);
    if ((old & ENTRY_VALID) !== 0) return true;
    if ((old & ENTRY_PIN) === 0) Atomics.and(this.i32, w, ~ENTRY_PIN);
    return false;
  }

  /** Driver: clear the pin bit. */
  unpin(i: number): void {
    Atomics.and(this.i32, (TRANSLATION_HEADER_BYTES >> 2) + (i << 2), ~ENTRY_PIN);
  }

  /** Raw 32-bit words of the table (tests use it to play a hostile peer). */
  get words(): Int32Array {
    return this.i32;
  }
}
