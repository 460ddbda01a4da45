/**
 * The counter board: every domain's scheduler and IPC counters in shared memory, so the main
 * thread can read them while the workers run ({@link ThreadsEngine.counters}).
 *
 * A domain's scheduler keeps its counters in plain fields (an increment on the hot path costs
 * what it did) and copies them to its record on the board whenever it goes to sleep on its
 * doorbell, every {@link PUBLISH_STEPS} steps while it is busy, and when it returns. The copy is
 * a seqlock: the writer (the domain's one scheduler) makes the record's sequence word odd,
 * stores the values, makes it even again; a reader retries until it saw the same even word
 * before and after reading, so a snapshot is consistent across the record's fields and a
 * 64-bit value is never read half-written. Nothing is allocated to publish.
 *
 * ```text
 * record (one per domain, 128 B: two cache lines of its own)
 *   int32  sequence (odd while the writer is storing)
 *   f64    one slot per name of DOMAIN_COUNTER_NAMES, from byte 8 (all 15 that fit)
 * ```
 *
 * @module
 */
import type { IpcCounters } from './ipc.js';
import type { MmioWindowCounters } from './mmio-ring.js';
import type { SchedulerCounters } from './scheduler.js';

/** The counters of a domain on the board, in record order. */
export const DOMAIN_COUNTER_NAMES = [
  'calls',
  'sleeps',
  'racedSleeps',
  'badItems',
  'unmaps',
  'unsupportedIrq',
  'badWords',
  'badCalls',
  'messages',
  'latched',
  'missedSends',
  'mmioReads',
  'mmioSleptReads',
  'mmioWrites',
  'mmioStatusReads',
] as const;

/** One domain's counters as the board holds them (see {@link DOMAIN_COUNTER_NAMES}). */
export type DomainCounters = Record<(typeof DOMAIN_COUNTER_NAMES)[number], number>;

/** A busy scheduler publishes its counters at least once per this many steps. */
export const PUBLISH_STEPS = 64;

const RECORD_BYTES = 128;
const VALUES = 1; // first f64 slot of a record (byte 8)
/** Reads that found the writer mid-copy before {@link CounterBoard.read} settles for the last one. */
const READ_RETRIES = 10_000;

/** Bytes of a counter board for `domains` domains. */
export function counterBoardBytes(domains: number): number {
  return domains * RECORD_BYTES;
}

/** A view of the counter board (see the module comment); each side makes its own. */
export class CounterBoard {
  /** The shared memory of the board. */
  readonly buffer: SharedArrayBuffer;
  /** Domains it has a record for. */
  readonly domains: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  /** @param buffer - {@link counterBoardBytes} bytes (zero: every counter 0) */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.domains = Math.floor(buffer.byteLength / RECORD_BYTES);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /**
   * Copy one domain's counters to its record (the domain's scheduler only: one writer per
   * record). Allocates nothing.
   */
  publish(
    domain: number,
    s: Readonly<SchedulerCounters>,
    ipc: Readonly<IpcCounters>,
    mmio?: Readonly<MmioWindowCounters>,
  ): void {
    const i32 = this.i32;
    const seq = (domain * RECORD_BYTES) / 4;
    const at = (domain * RECORD_BYTES) / 8 + VALUES;
    const f = this.f64;
    // odd while storing (a record left odd by a terminated writer stays odd until the copy ends)
    const odd = Atomics.load(i32, seq) | 1;
    Atomics.store(i32, seq, odd);
    f[at] = s.calls;
    f[at + 1] = s.sleeps;
    f[at + 2] = s.racedSleeps;
    f[at + 3] = s.badItems;
    f[at + 4] = s.unmaps;
    f[at + 5] = s.unsupportedIrq;
    f[at + 6] = s.badWords;
    f[at + 7] = s.badCalls;
    f[at + 8] = ipc.messages;
    f[at + 9] = ipc.latched;
    f[at + 10] = ipc.missedSends;
    f[at + 11] = mmio?.reads ?? 0;
    f[at + 12] = mmio?.sleptReads ?? 0;
    f[at + 13] = mmio?.writes ?? 0;
    f[at + 14] = mmio?.statusReads ?? 0;
    Atomics.store(i32, seq, (odd + 1) & 0x7fff_ffff);
  }

  /**
   * A consistent snapshot of one domain's counters as last published. If the record stays
   * mid-copy (its writer was terminated while storing), the values as they are.
   */
  read(domain: number): DomainCounters {
    const i32 = this.i32;
    const seq = (domain * RECORD_BYTES) / 4;
    const at = (domain * RECORD_BYTES) / 8 + VALUES;
    const out = {} as DomainCounters;
    for (let tries = 0; ; tries++) {
      const before = Atomics.load(i32, seq);
      for (let i = 0; i < DOMAIN_COUNTER_NAMES.length; i++) {
        out[DOMAIN_COUNTER_NAMES[i]!] = this.f64[at + i]!;
      }
      if ((before & 1) === 0 && Atomics.load(i32, seq) === before) return out;
      if (tries >= READ_RETRIES) return out;
    }
  }

  /** Zero one domain's record (no writer may be running: before a fresh worker starts). */
  reset(domain: number): void {
    const at = (domain * RECORD_BYTES) / 8;
    this.f64.fill(0, at, at + RECORD_BYTES / 8);
  }
}
