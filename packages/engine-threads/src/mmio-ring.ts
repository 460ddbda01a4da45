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
 * @module
 */
import type { MmioDevice, RegisterWindow } from '@udf/l4-kernel';

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
  readonly counters: MmioWindowCounters = {
    writes: 0,
    reads: 0,
    sleptReads: 0,
    badOffsets: 0,
    deadAccesses: 0,
  };
  private readonly ring: Int32Array;
  private readonly bell: Int32Array;
  private readonly size: number;

  /**
   * @param ring - the device's ring ({@link MMIO_RING_BYTES})
   * @param bell - the device worker's doorbell (one Int32 word)
   * @param size - bytes of the register window
   */
  constructor(ring: SharedArrayBuffer, bell: SharedArrayBuffer, size: number) {
    this.ring = new Int32Array(ring);
    this.bell = new Int32Array(bell);
    this.size = size;
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
    if (this.post(OP_WRITE, offset, value | 0) === 0) this.counters.deadAccesses++;
  }

  /** Read: waits until the device has executed it (and every write posted before it). */
  read32(offset: number): number {
    if (!this.valid(offset)) {
      this.counters.badOffsets++;
      return 0xffff_ffff;
    }
    this.counters.reads++;
    const r = this.ring;
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
