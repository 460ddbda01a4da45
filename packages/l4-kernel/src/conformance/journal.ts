/**
 * The conformance journal: where thread bodies put what they observe, engine-agnostically. A
 * {@link Journal} is a view over one `SharedArrayBuffer` that goes into every body's config as
 * plain data; bodies append JSON records and set shared cells, and the case reads them back in
 * the main thread after the run. The same code works in one thread (the sim) and across
 * workers (the threads engine): every write that publishes something is an `Atomics` operation.
 *
 * ```text
 * int32[0]          bytes of the record area reserved so far
 * int32[1..CELLS]   cells: small shared integers bodies use to hand over (phase, ready, ...)
 * from HEADER_BYTES records, each: int32 length (0 while it is being written) + UTF-8 JSON
 *                   { s: stream, v: value }, padded to 4 bytes
 * ```
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';

/** Number of shared integer cells of a journal. */
export const JOURNAL_CELLS = 15;
const HEADER_BYTES = 4 * (1 + JOURNAL_CELLS);
const DEFAULT_BYTES = 64 * 1024;

/** A journal was used wrongly (full, unknown cell, bad buffer). Code `JOURNAL`. */
export class JournalError extends UdfError {
  /** @param message - what went wrong */
  constructor(message: string) {
    super('JOURNAL', message);
  }
}

/**
 * Records and cells in shared memory (see the module comment). Records of one stream come back
 * in the order they were appended; records that several threads append concurrently come back
 * in the order their space was reserved.
 */
export class Journal {
  /** The shared buffer (put it into a component's config). */
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;

  /**
   * Attach to a journal's buffer (zeroed memory is an empty journal).
   *
   * @throws {@link JournalError} if the buffer is not a `SharedArrayBuffer` of a usable size
   */
  constructor(buffer: SharedArrayBuffer) {
    if (
      !(buffer instanceof SharedArrayBuffer) ||
      buffer.byteLength <= HEADER_BYTES ||
      buffer.byteLength % 4 !== 0
    ) {
      throw new JournalError('a journal needs a SharedArrayBuffer larger than its header');
    }
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  /** A fresh, empty journal of `bytes` bytes (default 64 KiB). */
  static create(bytes = DEFAULT_BYTES): Journal {
    return new Journal(new SharedArrayBuffer(bytes));
  }

  /**
   * Append `value` (plain JSON data) to `stream`.
   *
   * @throws {@link JournalError} if the journal is full
   */
  append(stream: string, value: unknown): void {
    const json = new TextEncoder().encode(JSON.stringify({ s: stream, v: value }));
    const size = 4 + Math.ceil(json.length / 4) * 4;
    const at = HEADER_BYTES + Atomics.add(this.i32, 0, size);
    if (at + size > this.u8.length) {
      throw new JournalError(`journal full appending to ${stream}`);
    }
    this.u8.set(json, at + 4);
    Atomics.store(this.i32, at / 4, json.length); // publish: the length word is written last
  }

  /**
   * Every record appended so far, in reservation order; stops at the first record that is
   * still being written.
   */
  entries(): { readonly stream: string; readonly value: unknown }[] {
    const out: { stream: string; value: unknown }[] = [];
    const end = HEADER_BYTES + Math.min(Atomics.load(this.i32, 0), this.u8.length - HEADER_BYTES);
    const decoder = new TextDecoder();
    for (let at = HEADER_BYTES; at + 4 <= end; ) {
      const length = Atomics.load(this.i32, at / 4);
      if (length === 0) break;
      // copy out of shared memory: TextDecoder refuses shared views
      const r = JSON.parse(decoder.decode(this.u8.slice(at + 4, at + 4 + length))) as {
        s: string;
        v: unknown;
      };
      out.push({ stream: r.s, value: r.v });
      at += 4 + Math.ceil(length / 4) * 4;
    }
    return out;
  }

  /** The values appended to `stream`, in order. */
  read(stream: string): unknown[] {
    return this.entries()
      .filter((e) => e.stream === stream)
      .map((e) => e.value);
  }

  /** How many records `stream` has. */
  count(stream: string): number {
    return this.read(stream).length;
  }

  /** Cell `cell`'s value. @throws {@link JournalError} for a cell out of range */
  get(cell: number): number {
    return Atomics.load(this.i32, this.cellIndex(cell));
  }

  /** Set cell `cell`. @throws {@link JournalError} for a cell out of range */
  set(cell: number, value: number): void {
    Atomics.store(this.i32, this.cellIndex(cell), value);
  }

  private cellIndex(cell: number): number {
    if (!Number.isInteger(cell) || cell < 0 || cell >= JOURNAL_CELLS) {
      throw new JournalError(`no journal cell ${cell} (0-${JOURNAL_CELLS - 1})`);
    }
    return 1 + cell;
  }
}
