/**
 * A per-domain **counters page**: shared memory a domain's components keep their counters in, so
 * the engine (or any reader holding the region) snapshots them without touching the components'
 * objects. The assembler's heap is no channel between domains (issue 11 item 4).
 *
 * Layout (little-endian): word 0 magic, word 1 ready components, word 2 counters, word 3 bytes of
 * the name table, word 4 the name table's sequence number (odd while a bind rewrites it: a reader
 * on another thread retries rather than parse a half-written table); the name table (UTF-8 JSON
 * array of dotted names) from byte 32; the values as `Float64` from
 * {@link COUNTERS_VALUES_OFFSET}.
 *
 * A component binds its plain counters object once ({@link CountersPage.bind}): every numeric
 * property becomes an accessor onto its slot in the page, so `stats.rxFrames++` writes the page
 * directly (no publishing step, nothing allocated per update) and the page always holds the
 * current values. The object is rebuilt in place so that V8 keeps it in fast mode: an increment
 * costs about what it costs on a plain object (`bench/counters.ts`).
 *
 * @module
 */
import type { Sys } from '@udf/l4-kernel';
import type { DataspaceCall } from './call.js';
import { DataspaceError } from './errors.js';

/** Bytes of a counters page region (2 pages: about 250 counters with their names). */
export const COUNTERS_PAGE_BYTES = 8192;
/** Byte offset of the first counter value. */
export const COUNTERS_VALUES_OFFSET = 6144;
/** Magic word of an initialised counters page ('CNTR'). */
export const COUNTERS_PAGE_MAGIC = 0x434e5452;

const HEADER = 32;
/** Word index of the name table's sequence number. */
const SEQ = 4;
/** Reads of a table being rewritten before a reader gives up on names for this snapshot. */
const READ_ATTEMPTS = 10_000;
const MAX_COUNTERS = (COUNTERS_PAGE_BYTES - COUNTERS_VALUES_OFFSET) / 8;
/** Description prefix of the symbol that marks a bound object (see `bindInto`). */
const BINDING_MARK = 'udf.counters-page binding ';

/** The writer's side of a counters page, inside the domain that owns it. */
export class CountersPage {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly values: Float64Array;
  private names: string[] = [];

  /** A page over `buffer` at `byteOffset` (which must be 8-byte aligned); formats it. */
  constructor(buffer: SharedArrayBuffer, byteOffset: number) {
    if (byteOffset % 8 !== 0 || byteOffset + COUNTERS_PAGE_BYTES > buffer.byteLength)
      throw new DataspaceError('DS_BAD_ARGUMENT', 'counters page outside its buffer or unaligned');
    this.words = new Int32Array(buffer, byteOffset, HEADER / 4);
    this.bytes = new Uint8Array(buffer, byteOffset, COUNTERS_VALUES_OFFSET);
    this.values = new Float64Array(buffer, byteOffset + COUNTERS_VALUES_OFFSET, MAX_COUNTERS);
    if (Atomics.load(this.words, 0) !== COUNTERS_PAGE_MAGIC) {
      this.words.fill(0);
      Atomics.store(this.words, 0, COUNTERS_PAGE_MAGIC);
    }
  }

  /**
   * Reach the counters page mapped at `vaddr` in the caller's space.
   * @throws DataspaceError `DS_BAD_ARGUMENT` if it is not mapped writable
   */
  static *open(sys: Sys, vaddr: number): DataspaceCall<CountersPage> {
    const view = yield* sys.mem.access(vaddr, COUNTERS_PAGE_BYTES, 'write');
    if (!('buffer' in view))
      throw new DataspaceError('DS_BAD_ARGUMENT', `no counters page at ${vaddr}: ${view.error}`);
    return new CountersPage(view.buffer, view.byteOffset);
  }

  /**
   * Keep `counters` in the page under `prefix`: each numeric property (nested plain objects too,
   * as `prefix.key.sub`) becomes an accessor onto a slot of the page, starting at its current
   * value. A name already in the page (a restarted component binding again) keeps its slot and
   * its value: the counters survive the component. Returns `counters`.
   * @throws DataspaceError `DS_BAD_ARGUMENT` when the page is full
   */
  bind<T extends object>(prefix: string, counters: T): T {
    // Other components of the domain may have bound since: continue the page's own table.
    this.names = readNames(this.words, this.bytes);
    this.bindInto(prefix, counters as Record<string, unknown>);
    const text = new TextEncoder().encode(JSON.stringify(this.names));
    if (HEADER + text.length > COUNTERS_VALUES_OFFSET)
      throw new DataspaceError('DS_BAD_ARGUMENT', 'counters page: name table full');
    Atomics.add(this.words, SEQ, 1); // odd: being rewritten
    this.bytes.set(text, HEADER);
    Atomics.store(this.words, 3, text.length);
    Atomics.store(this.words, 2, this.names.length);
    Atomics.add(this.words, SEQ, 1); // even: consistent
    return counters;
  }

  /** Announce that one more component of the domain is ready (serves traffic). */
  ready(): void {
    Atomics.add(this.words, 1, 1);
  }

  /**
   * Bind the numeric fields of `obj` (and, recursively, of its nested objects) to page slots.
   *
   * Turning data properties into accessors one `defineProperty` at a time sends V8 objects to
   * dictionary mode, where every `counters.x++` takes the runtime's slow path (about 100× a plain
   * field). So an object whose own properties are all configurable, and that is extensible, is
   * rebuilt in place: every own property is deleted last-first (which keeps the object in fast
   * mode), a marker property with a symbol unique to this binding is added first (so that the
   * object's new hidden classes are its own: reusing another bound object's transitions, whose
   * accessors are different closures, would send it to dictionary mode after all), then the
   * properties again in their original order, the counters as accessors and the rest with their
   * original descriptors. The object keeps its identity and its key order; the marker is
   * non-enumerable. Any other object has its counters redefined in place, as before. Slots are
   * taken before the object changes, so a full page leaves it untouched.
   */
  private bindInto(prefix: string, obj: Record<string, unknown>): void {
    const enumerable = Object.keys(obj);
    const accessors = new Map<string, PropertyDescriptor>();
    for (const key of enumerable) {
      const v = obj[key];
      if (typeof v === 'number') accessors.set(key, this.slotAccessor(`${prefix}.${key}`, v));
      else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v))
        this.bindInto(`${prefix}.${key}`, v as Record<string, unknown>);
    }
    if (accessors.size === 0) return;
    const keys = Reflect.ownKeys(obj);
    const descriptors = keys.map((k) => Object.getOwnPropertyDescriptor(obj, k)!);
    if (!Object.isExtensible(obj) || descriptors.some((d) => d.configurable !== true)) {
      for (const [key, accessor] of accessors) Object.defineProperty(obj, key, accessor);
      return;
    }
    for (let i = keys.length - 1; i >= 0; i--) delete obj[keys[i] as string];
    Object.defineProperty(obj, Symbol(`${BINDING_MARK}${prefix}`), {
      value: prefix,
      enumerable: false,
      writable: false,
      configurable: true,
    });
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (typeof key === 'symbol' && key.description?.startsWith(BINDING_MARK) === true) continue;
      const accessor = typeof key === 'string' ? accessors.get(key) : undefined;
      Object.defineProperty(obj, key, accessor ?? descriptors[i]!);
    }
  }

  /** The accessor of the counter `name` (its slot, taken if new, starts at `value`). */
  private slotAccessor(name: string, value: number): PropertyDescriptor {
    const values = this.values;
    let slot = this.names.indexOf(name);
    if (slot < 0) {
      slot = this.names.length;
      if (slot >= MAX_COUNTERS)
        throw new DataspaceError('DS_BAD_ARGUMENT', 'counters page: too many counters');
      this.names.push(name);
      values[slot] = value;
    }
    const at = slot;
    return {
      get: () => values[at]!,
      set: (x: number) => {
        values[at] = x;
      },
      enumerable: true,
      configurable: true,
    };
  }
}

/** What a reader sees of a counters page. */
export interface CountersSnapshot {
  /** Components of the domain that announced they are ready. */
  readonly ready: number;
  /** Every counter by dotted name. */
  readonly counters: Record<string, number>;
}

/**
 * Snapshot a counters page from its bytes (the reader's side: the engine or a monitor holding
 * the region). A page never formatted reads as empty, not ready.
 */
export function readCountersPage(buffer: SharedArrayBuffer, byteOffset: number): CountersSnapshot {
  const words = new Int32Array(buffer, byteOffset, HEADER / 4);
  if (Atomics.load(words, 0) !== COUNTERS_PAGE_MAGIC) return { ready: 0, counters: {} };
  const bytes = new Uint8Array(buffer, byteOffset, COUNTERS_VALUES_OFFSET);
  // A consistent (names, count) pair: retry while a bind on another thread rewrites the table.
  let names: string[] = [];
  let n = 0;
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const seq = Atomics.load(words, SEQ);
    if ((seq & 1) !== 0) continue;
    n = Atomics.load(words, 2);
    const table = copyNames(words, bytes);
    if (Atomics.load(words, SEQ) !== seq) continue;
    names = parseNames(table);
    break;
  }
  const values = new Float64Array(buffer, byteOffset + COUNTERS_VALUES_OFFSET, n);
  const counters: Record<string, number> = {};
  for (let i = 0; i < n && i < names.length; i++) counters[names[i]!] = values[i]!;
  return { ready: Atomics.load(words, 1), counters };
}

/** The writer's own read of its table (no other thread writes it). */
function readNames(words: Int32Array, bytes: Uint8Array): string[] {
  const table = copyNames(words, bytes);
  return table === null ? [] : (JSON.parse(table) as string[]);
}

/** A consistent table's names; a table its domain scribbled over reads as no names (no throw). */
function parseNames(table: string | null): string[] {
  if (table === null) return [];
  try {
    const names: unknown = JSON.parse(table);
    return Array.isArray(names) ? names.map(String) : [];
  } catch {
    return [];
  }
}

/** The name table's text, copied out of shared memory (TextDecoder does not read it). */
function copyNames(words: Int32Array, bytes: Uint8Array): string | null {
  const length = Atomics.load(words, 3);
  if (length <= 0 || HEADER + length > bytes.length) return null;
  return new TextDecoder().decode(bytes.slice(HEADER, HEADER + length));
}
