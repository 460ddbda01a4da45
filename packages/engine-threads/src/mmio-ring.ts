/**
 * Register access across workers: one ring per device in a `SharedArrayBuffer`. The domain that
 * was granted the device posts writes into the ring and returns at once (PCI posted writes); a
 * read is posted too and then waits — spinning briefly, then `Atomics.wait` — until the device
 * worker has executed it, which it does after every entry ahead of it (PCI ordering: a read
 * flushes the writes before it). The device worker drains the ring in order.
 *
 * Single producer: only threads of the one domain holding the device post, and they run
 * cooperatively in one worker. The consumer is the device worker.
 *
 * Wake-ups cost only when someone sleeps: `Atomics.notify` takes a process-wide lock in V8 even
 * when no thread waits, so a notify per access would cost every register access a trip through
 * that lock (and a futex call when it is contended). The producer announces its sleep in a word
 * of the ring before it waits on TAIL, and the device notifies TAIL only when that word is set;
 * the device worker announces its sleep in bit 0 of its doorbell (`ringDeviceBell`), and a
 * producer notifies the doorbell only when that bit is set. Both are the "store my flag, then
 * load yours" pattern, race-free with sequentially consistent `Atomics`: of a sleeper that sets
 * its flag and then re-reads the word it waits on, and a waker that changes that word and then
 * reads the flag, at least one sees the other's write.
 *
 * Status words: a device may keep a clear-on-read status register (an interrupt status
 * register) in its *status page*, a small shared table of (offset, bits, kind) entries
 * ({@link statusPageWord}, `DeviceHost.statusWord`), and registers whose reads have no side
 * effect in mirror words there ({@link mirrorPageWord}, `DeviceHost.mirrorWord`). A read of
 * such a register whose posted writes have all been executed — nothing the read would have to
 * flush — needs no answer from the device: the producer takes the bits with one
 * `Atomics.exchange` (lowering the interrupt line the word names) or loads the mirror, and
 * posts a *status note* that does not wait; the device runs the read's other side effects when
 * it drains the note (`MmioDevice.statusRead`), in order with the accesses around it. A read
 * with writes still pending takes the ordinary path. So an interrupt handler's first read costs no round trip to
 * a device worker that may be busy, asleep or preempted (measured before this path: half of
 * the driver's ISR reads slept, answered after 16–256 µs).
 *
 * @module
 */
import type { MmioDevice, RegisterWindow, StatusWord } from '@udf/l4-kernel';

/** Entries in an MMIO ring. */
export const MMIO_RING_ENTRIES = 256;
const HEAD = 0; // entries posted (producer)
const TAIL = 1; // entries executed (consumer)
const VALUE = 2; // result of the last read
const DEAD = 3; // nonzero: the device worker is gone (reads return all ones, writes are dropped)
const FENCE = 4; // nonzero: the producer's domain was stopped (the device drops what it posted)
const WAITING = 5; // nonzero: the producer sleeps on TAIL (a read's result or room): notify it
const HEADER = 16;
const ENTRY = 3; // op, offset, value
const OP_WRITE = 1;
const OP_READ = 2;
const OP_STATUS = 3; // a status word was read by the producer: run the read's side effects
const SPINS = 2000;

/** Bit 0 of the device worker's doorbell: it sleeps (or is about to) and must be notified. */
export const DEVICE_BELL_SLEEPING = 1;
/** What a ring adds to the device worker's doorbell (bit 0 is {@link DEVICE_BELL_SLEEPING}). */
export const DEVICE_BELL_RING = 2;

/**
 * Ring the device worker's doorbell (word 0 of `bell`): change the word, and notify only if the
 * worker announced that it sleeps ({@link DEVICE_BELL_SLEEPING}).
 */
export function ringDeviceBell(bell: Int32Array): void {
  if ((Atomics.add(bell, 0, DEVICE_BELL_RING) & DEVICE_BELL_SLEEPING) !== 0) {
    Atomics.notify(bell, 0);
  }
}

/** Bytes of one MMIO ring. */
export const MMIO_RING_BYTES = (HEADER + MMIO_RING_ENTRIES * ENTRY) * 4;

/** Counters of a ring's producer side. */
export interface MmioWindowCounters {
  /** Register writes posted. */
  writes: number;
  /** Register reads (each waited for the device). */
  reads: number;
  /** Reads that slept in `Atomics.wait` (the device did not answer within the spin). */
  sleptReads: number;
  /** Accesses refused: offset not a word inside the window (dropped, reads return all ones). */
  badOffsets: number;
  /** Accesses to a device whose worker is gone (as a removed PCI device: reads return all ones). */
  deadAccesses: number;
  /** Reads of a status register served from its status word (no wait; also in `reads`). */
  statusReads: number;
}

/** A {@link MmioWindowCounters} with every count 0. */
export function emptyMmioCounters(): MmioWindowCounters {
  return { writes: 0, reads: 0, sleptReads: 0, badOffsets: 0, deadAccesses: 0, statusReads: 0 };
}

/** Most status words a device's status page holds. */
export const STATUS_WORDS = 7;
const STATUS_ENTRY = 3; // offset, bits, kind (line + 1 for a status word, 0: no line; MIRROR)
/** Bytes of a device's status page: a count, then (offset, bits, line) entries. */
export const STATUS_PAGE_BYTES = (1 + STATUS_ENTRY * STATUS_WORDS) * 4;

/** Third word of an entry of a mirror word (a register read without clearing, lowering nothing). */
const MIRROR = -1;

/**
 * The device side of a status page: take a word for the clear-on-read register at `offset`
 * (the same word if it has one already), whose reads lower interrupt line `line` (if given),
 * or null if the page is full.
 */
export function statusPageWord(
  page: SharedArrayBuffer,
  offset: number,
  line?: number,
): StatusWord | null {
  return pageWord(page, offset, line === undefined ? 0 : line + 1);
}

/**
 * The device side of a status page: take a word that mirrors the register at `offset` (its
 * reads take nothing and lower no line), or null if the page is full.
 */
export function mirrorPageWord(page: SharedArrayBuffer, offset: number): StatusWord | null {
  return pageWord(page, offset, MIRROR);
}

function pageWord(page: SharedArrayBuffer, offset: number, kind: number): StatusWord | null {
  const p = new Int32Array(page);
  const n = Atomics.load(p, 0);
  let i = 0;
  while (i < n && p[1 + STATUS_ENTRY * i] !== offset) i++;
  if (i === n) {
    if (n >= STATUS_WORDS) return null;
    p[1 + STATUS_ENTRY * n] = offset;
    Atomics.store(p, 2 + STATUS_ENTRY * n, 0);
    Atomics.store(p, 3 + STATUS_ENTRY * n, kind);
    Atomics.store(p, 0, n + 1);
  }
  const w = 2 + STATUS_ENTRY * i;
  return {
    load: () => Atomics.load(p, w) >>> 0,
    or: (bits) => {
      Atomics.or(p, w, bits | 0);
    },
    take: () => Atomics.exchange(p, w, 0) >>> 0,
    store: (v) => {
      Atomics.store(p, w, v | 0);
    },
  };
}

/**
 * Mark a ring's device as gone (the engine does this when the device worker exits): waiting
 * readers return all ones, later accesses do not wait.
 */
export function markMmioRingDead(ring: SharedArrayBuffer): void {
  const r = new Int32Array(ring);
  Atomics.store(r, DEAD, 1);
  Atomics.notify(r, TAIL);
}

/**
 * Fence a ring (`on`) or lift the fence: while fenced, the device worker drops every entry in
 * it — writes ignored, reads answered all ones — instead of executing it. The engine fences a
 * domain's rings when it stops the domain's worker (a driver it terminates cannot touch its
 * devices with accesses it posted and the device had not executed yet), and lifts the fence
 * before a fresh worker for the domain starts.
 */
export function fenceMmioRing(ring: SharedArrayBuffer, on: boolean): void {
  Atomics.store(new Int32Array(ring), FENCE, on ? 1 : 0);
}

/** The producer side: a {@link RegisterWindow} over a device's ring. */
export class MmioWindow implements RegisterWindow {
  /** Counters. */
  readonly counters: MmioWindowCounters = emptyMmioCounters();
  private readonly ring: Int32Array;
  private readonly bell: Int32Array;
  private readonly size: number;
  private readonly status: Int32Array | null;
  private readonly lower: ((line: number) => void) | null;
  /** Sequence number of the last write posted (a read must flush it). */
  private lastWrite = 0;

  /**
   * @param ring - the device's ring ({@link MMIO_RING_BYTES})
   * @param bell - the device worker's doorbell (one Int32 word)
   * @param size - bytes of the register window
   * @param status - the device's status page ({@link STATUS_PAGE_BYTES}; omitted: none)
   * @param lower - lowers an interrupt line (a status word's read lowers the line it names;
   *   omitted: such reads take the ordinary path)
   */
  constructor(
    ring: SharedArrayBuffer,
    bell: SharedArrayBuffer,
    size: number,
    status?: SharedArrayBuffer,
    lower?: (line: number) => void,
  ) {
    this.ring = new Int32Array(ring);
    this.bell = new Int32Array(bell);
    this.size = size;
    this.status = status === undefined ? null : new Int32Array(status);
    this.lower = lower ?? null;
  }

  /**
   * Index of the status page entry (its offset word; bits and kind follow) of the register at
   * `offset`, or -1: none, or a word that lowers a line this window cannot lower.
   */
  private statusIndex(offset: number): number {
    const p = this.status;
    if (p === null) return -1;
    const n = Atomics.load(p, 0);
    for (let i = 0; i < n; i++) {
      const e = 1 + STATUS_ENTRY * i;
      if (p[e] === offset) return p[e + 2]! <= 0 || this.lower !== null ? e : -1;
    }
    return -1;
  }

  /** Post an entry; its sequence number, or 0 if the device is gone. */
  private post(op: number, offset: number, value: number): number {
    const r = this.ring;
    const head = Atomics.load(r, HEAD);
    // full: wait for the device to execute entries (it is running: it was rung for them)
    if (head - Atomics.load(r, TAIL) >= MMIO_RING_ENTRIES) {
      Atomics.store(r, WAITING, 1);
      for (;;) {
        if (Atomics.load(r, DEAD) !== 0) break;
        const t = Atomics.load(r, TAIL);
        if (head - t < MMIO_RING_ENTRIES) break;
        Atomics.wait(r, TAIL, t, 1);
      }
      Atomics.store(r, WAITING, 0);
    }
    if (Atomics.load(r, DEAD) !== 0) return 0;
    const e = HEADER + (head % MMIO_RING_ENTRIES) * ENTRY;
    r[e] = op;
    r[e + 1] = offset;
    r[e + 2] = value;
    Atomics.store(r, HEAD, head + 1);
    ringDeviceBell(this.bell);
    return head + 1;
  }

  private valid(offset: number): boolean {
    return Number.isInteger(offset) && offset >= 0 && offset + 4 <= this.size && offset % 4 === 0;
  }

  /** Posted write: returns at once. */
  write32(offset: number, value: number): void {
    if (!this.valid(offset)) {
      this.counters.badOffsets++;
      return;
    }
    this.counters.writes++;
    const seq = this.post(OP_WRITE, offset, value | 0);
    if (seq === 0) this.counters.deadAccesses++;
    else this.lastWrite = seq;
  }

  /** Read: waits until the device has executed it (and every write posted before it). */
  read32(offset: number): number {
    if (!this.valid(offset)) {
      this.counters.badOffsets++;
      return 0xffff_ffff;
    }
    this.counters.reads++;
    const r = this.ring;
    if (this.status !== null) {
      const e = this.statusIndex(offset);
      // a status word, and no posted write the read would have to flush: no wait
      if (e >= 0 && Atomics.load(r, TAIL) >= this.lastWrite && Atomics.load(r, DEAD) === 0) {
        const p = this.status;
        const kind = p[e + 2]!;
        const v = kind === MIRROR ? Atomics.load(p, e + 1) : Atomics.exchange(p, e + 1, 0);
        if (kind > 0) this.lower!(kind - 1);
        if (this.post(OP_STATUS, offset, v) !== 0) {
          this.counters.statusReads++;
          return v >>> 0;
        }
        // the device went away meanwhile: as any read of a gone device
        this.counters.deadAccesses++;
        return 0xffff_ffff;
      }
    }
    const seq = this.post(OP_READ, offset, 0);
    if (seq !== 0) {
      for (let i = 0; i < SPINS; i++) {
        if (Atomics.load(r, TAIL) >= seq) return Atomics.load(r, VALUE) >>> 0;
      }
      this.counters.sleptReads++;
      // announce the sleep first, then look again (the device notifies only if it sees it)
      Atomics.store(r, WAITING, 1);
      for (;;) {
        const t = Atomics.load(r, TAIL);
        if (t >= seq) {
          Atomics.store(r, WAITING, 0);
          return Atomics.load(r, VALUE) >>> 0;
        }
        if (Atomics.load(r, DEAD) !== 0) break;
        Atomics.wait(r, TAIL, t);
      }
      Atomics.store(r, WAITING, 0);
    }
    this.counters.deadAccesses++;
    return 0xffff_ffff;
  }
}

/** Counters of a ring's consumer side. */
export interface MmioDrainCounters {
  /** Entries executed. */
  entries: number;
  /** Accesses the device model threw on (a model bug): counted, reads return all ones. */
  errors: number;
  /** Accesses dropped because their ring was fenced (a stopped domain's, see {@link fenceMmioRing}). */
  fenced?: number;
}

/**
 * The consumer side: execute every posted entry against `device`, in order. An access the
 * model throws on is counted and skipped (a read returns all ones), so one bad entry cannot
 * stall the ring.
 *
 * @returns entries executed
 */
export function drainMmioRing(
  ring: Int32Array,
  device: MmioDevice,
  counters?: MmioDrainCounters,
): number {
  const head = Atomics.load(ring, HEAD);
  let tail = Atomics.load(ring, TAIL);
  const n = head - tail;
  if (n > 0 && Atomics.load(ring, FENCE) !== 0) {
    // a stopped producer's accesses: dropped (a reader still waiting gets all ones)
    Atomics.store(ring, VALUE, -1);
    Atomics.store(ring, TAIL, head);
    Atomics.notify(ring, TAIL);
    if (counters) counters.fenced = (counters.fenced ?? 0) + n;
    return n;
  }
  while (tail < head) {
    const e = HEADER + (tail % MMIO_RING_ENTRIES) * ENTRY;
    const op = ring[e]!;
    const offset = ring[e + 1]!;
    if (op === OP_READ) {
      let v = -1;
      try {
        v = device.read32(offset) | 0;
      } catch {
        if (counters) counters.errors++;
      }
      Atomics.store(ring, VALUE, v);
      tail++;
      Atomics.store(ring, TAIL, tail);
      if (Atomics.load(ring, WAITING) !== 0) Atomics.notify(ring, TAIL);
    } else if (op === OP_STATUS) {
      try {
        device.statusRead?.(offset, ring[e + 2]! >>> 0);
      } catch {
        if (counters) counters.errors++;
      }
      tail++;
      Atomics.store(ring, TAIL, tail);
    } else {
      try {
        device.write32(offset, ring[e + 2]! >>> 0);
      } catch {
        if (counters) counters.errors++;
      }
      tail++;
      Atomics.store(ring, TAIL, tail);
    }
  }
  // a producer waiting for room
  if (n > 0 && Atomics.load(ring, WAITING) !== 0) Atomics.notify(ring, TAIL);
  if (counters) counters.entries += n;
  return n;
}
