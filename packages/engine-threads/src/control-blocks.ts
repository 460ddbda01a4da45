/**
 * The shared kernel region: per-thread control blocks and per-domain doorbells in one
 * `SharedArrayBuffer` that every domain worker (and the main thread) maps.
 *
 * ```text
 * header   64 B   magic, thread slots, domains
 * domains  64 B each: doorbell word, stop word
 * blocks   CONTROL_BLOCK_BYTES each, slot = thread id (slot 0 is the nil thread, unused)
 *          int32 part : lock, state, partner, flags, result, from, sender-queue links, domain,
 *                       map/grant item count, receive window (log2 size, base page)
 *          float64 part: deadline, receive-phase timeout, label, word count, message words
 *                        (the untyped words, then two words per map/grant item, as X.2)
 * ```
 *
 * Every field of a block is written only while its lock word is held, except the flags word's
 * preemption-window bits (single atomic stores by the owner, see {@link ControlBlocks.openWindow})
 * and the sender-queue links of a queued sender, which belong to the lock of the thread whose
 * queue it is in. The lock is a three-state futex mutex (free, held, held with waiters), so a
 * holder that the OS deschedules does not make the others spin for its whole timeslice; the
 * word also names its holder (an owner tag), so the locks of a worker the engine terminated can
 * be released ({@link ControlBlocks.recoverLocks}).
 *
 * @module
 */
import {
  bitsRights,
  type Fpage,
  MAX_MESSAGE_WORDS,
  type MapGrantItem,
  rightsBits,
  type ThreadId,
} from '@udf/l4-kernel';
import { ThreadsEngineError } from './errors.js';

/** Thread states stored in a control block's state word. */
export const ThreadState = {
  /** Created; its domain has not started it yet (a send to it blocks or times out). */
  Inactive: 0,
  /** Running or ready in its domain: not blocked in IPC. */
  Running: 1,
  /** Waiting in its partner's sender queue. */
  SendBlocked: 2,
  /** Waiting to receive from its partner (a thread, any thread, or nil for a sleep). */
  ReceiveBlocked: 3,
  /** A partner (or a timeout) completed its IPC; the result waits in the block for its domain. */
  Done: 4,
  /** Exited or failed. */
  Dead: 5,
  /**
   * Its IPC is being completed by a partner that is transferring map/grant items through the
   * kernel (main thread): nobody else delivers to it, times it out or cancels it meanwhile.
   */
  Transferring: 6,
} as const;
/** A value of {@link ThreadState}. */
export type ThreadStateValue = (typeof ThreadState)[keyof typeof ThreadState];

/** Flag: the send-blocked thread is a call (enters the receive phase when taken). */
export const FLAG_CALL = 1;
/** Flag: a preemption-control window is open. */
export const FLAG_WINDOW = 2;
/** Flag: a wake-up sent to this thread inside its window failed (the MISSED latch). */
export const FLAG_MISSED = 4;
/** Flag: the receive-blocked thread is sleeping (receive from nil): it resumes with no result. */
export const FLAG_SLEEPING = 8;
/** Flag: the `Transferring` thread is the sender (a receiver is taking its items), not the receiver. */
export const FLAG_ITEM_SENDER = 16;
/**
 * Flag: the send-blocked thread's message has more words than the message registers hold
 * (X.2 message overflow): its words were not written, and the receiver that takes it reports
 * `message-overflow` to both. Set only while the thread is send-blocked; whoever ends that
 * (the receiver, a timeout, a cancel, the receiver's death) clears it.
 */
export const FLAG_OVERFLOW = 32;

/** Result codes in a block's result word (OR {@link RESULT_RECEIVE_PHASE} for the receive phase). */
export const ResultCode = {
  ok: 0,
  timeout: 1,
  'non-existing-partner': 2,
  canceled: 3,
  aborted: 4,
  'message-overflow': 5,
  'malformed-item': 6,
} as const;
/** Bit of the result word saying the error happened in the receive phase. */
export const RESULT_RECEIVE_PHASE = 16;

const MAGIC = 0x55444654; // "UDFT"

/**
 * Owner tag of locks taken by the main thread (the engine and root-task threads). A lock word
 * is `owner * 4 + s`, `s` 1 (held) or 2 (held, with waiters); a domain worker's tag is its
 * domain index + 1, the device worker's {@link LOCK_OWNER_DEVICES}.
 */
export const LOCK_OWNER_MAIN = 2 ** 29 - 1;
/** Owner tag of locks taken by the device worker (interrupt delivery). */
export const LOCK_OWNER_DEVICES = 2 ** 29 - 2;
const HEADER_BYTES = 64;
const DOMAIN_BYTES = 64;
const INT_FIELDS = 16;
/** Message words a control block holds (the kernel model's limit, so both engines agree). */
export const MESSAGE_WORDS = MAX_MESSAGE_WORDS;
const F64_FIELDS = 4 + MESSAGE_WORDS;
/** Bytes of one control block (a multiple of 64, so blocks do not share cache lines). */
export const CONTROL_BLOCK_BYTES = Math.ceil((INT_FIELDS * 4 + F64_FIELDS * 8) / 64) * 64;

// int32 fields of a block
const LOCK = 0;
const STATE = 1;
const PARTNER = 2;
const FLAGS = 3;
const RESULT = 4;
const FROM = 5;
const SQ_HEAD = 6;
const SQ_TAIL = 7;
const SQ_NEXT = 8;
const SQ_PREV = 9;
const DOMAIN = 10;
const ITEMS = 11;
const WIN_LOG2 = 12;
const WIN_PAGE = 13;
// float64 fields of a block
const DEADLINE = 0;
const RECV_TIMEOUT = 1;
const LABEL = 2;
const COUNT = 3;
const WORDS = 4;
// int32 fields of a domain record
const DOORBELL = 0;
const STOP = 1;
const HANG = 2;

/** Bytes of a kernel region for `threads` thread slots (ids 1..threads) and `domains` domains. */
export function kernelRegionBytes(threads: number, domains: number): number {
  return HEADER_BYTES + domains * DOMAIN_BYTES + (threads + 1) * CONTROL_BLOCK_BYTES;
}

/**
 * Typed views of the kernel region plus the primitive operations on it: locks, fields,
 * sender queues and doorbells. The IPC operations built on these are in `ipc.ts`.
 */
export class ControlBlocks {
  /** The shared region. */
  readonly buffer: SharedArrayBuffer;
  /** Highest valid thread id. */
  readonly threads: number;
  /** Number of domains. */
  readonly domains: number;
  /**
   * Give up (throw {@link ThreadsEngineError} `DEADLOCK`) after waiting this long for a block
   * lock. Infinite in domain workers; the main thread bounds it, so that cleaning up after a
   * worker that died holding a lock cannot hang the supervisor.
   */
  lockTimeoutMs = Number.POSITIVE_INFINITY;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly blockI32: number;
  private readonly blockF64: number;
  private readonly strideI32: number;
  private readonly strideF64: number;

  /**
   * Attach to a kernel region; with `init`, lay it out (the main thread does this once).
   *
   * @throws {@link ThreadsEngineError} `LAYOUT` if the region is too small or not initialised
   */
  constructor(
    buffer: SharedArrayBuffer,
    init?: { readonly threads: number; readonly domains: number; readonly domainOf: number[] },
  ) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    if (init !== undefined) {
      if (buffer.byteLength < kernelRegionBytes(init.threads, init.domains)) {
        throw new ThreadsEngineError('LAYOUT', 'kernel region too small');
      }
      this.i32[0] = MAGIC;
      this.i32[1] = init.threads;
      this.i32[2] = init.domains;
    } else if (this.i32[0] !== MAGIC) {
      throw new ThreadsEngineError('LAYOUT', 'not a kernel region');
    }
    this.threads = this.i32[1]!;
    this.domains = this.i32[2]!;
    const blocks = HEADER_BYTES + this.domains * DOMAIN_BYTES;
    this.blockI32 = blocks / 4;
    this.blockF64 = blocks / 8;
    this.strideI32 = CONTROL_BLOCK_BYTES / 4;
    this.strideF64 = CONTROL_BLOCK_BYTES / 8;
    if (init !== undefined) {
      for (let id = 1; id <= this.threads; id++) {
        const d = init.domainOf[id];
        if (d === undefined) throw new ThreadsEngineError('LAYOUT', `thread ${id} has no domain`);
        this.i32[this.at(id, DOMAIN)] = d;
        this.f64[this.atF(id, DEADLINE)] = Number.POSITIVE_INFINITY;
      }
    }
  }

  /** Whether `id` names a thread slot of this region. */
  isThread(id: number): boolean {
    return Number.isInteger(id) && id >= 1 && id <= this.threads;
  }

  private at(id: number, field: number): number {
    return this.blockI32 + id * this.strideI32 + field;
  }
  private atF(id: number, field: number): number {
    // the float64 part follows the int32 part of the block
    return this.blockF64 + id * this.strideF64 + INT_FIELDS / 2 + field;
  }

  // ------------------------------------------------------------------ locks

  /**
   * The owner tag this side writes into the lock words it takes (see {@link LOCK_OWNER_MAIN}):
   * a domain worker sets its domain index + 1, so that after the engine terminates the worker,
   * {@link ControlBlocks.recoverLocks} can release exactly the locks it died holding.
   */
  owner = LOCK_OWNER_MAIN;

  /** Acquire thread `id`'s block lock. */
  lock(id: ThreadId): void {
    const i32 = this.i32;
    const w = this.at(id, LOCK);
    const held = this.owner * 4;
    let c = Atomics.compareExchange(i32, w, 0, held | 1);
    if (c === 0) return;
    for (let spin = 0; spin < 64; spin++) {
      if (Atomics.load(i32, w) === 0) {
        c = Atomics.compareExchange(i32, w, 0, held | 1);
        if (c === 0) return;
      }
    }
    const limit = this.lockTimeoutMs;
    const until = limit === Number.POSITIVE_INFINITY ? limit : performance.now() + limit;
    for (;;) {
      c = Atomics.load(i32, w);
      if (c === 0) {
        // taken as "held with waiters": others may still sleep on it
        if (Atomics.compareExchange(i32, w, 0, held | 2) === 0) return;
        continue;
      }
      if ((c & 3) !== 2) {
        // mark the holder's word "with waiters", keeping its owner tag
        const n = (c & ~3) | 2;
        if (Atomics.compareExchange(i32, w, c, n) !== c) continue;
        c = n;
      }
      if (until === Number.POSITIVE_INFINITY) Atomics.wait(i32, w, c);
      else {
        const left = until - performance.now();
        if (left <= 0) {
          throw new ThreadsEngineError('DEADLOCK', `control block ${id} stayed locked ${limit} ms`);
        }
        Atomics.wait(i32, w, c, left);
      }
    }
  }

  /** Release thread `id`'s block lock. */
  unlock(id: ThreadId): void {
    const w = this.at(id, LOCK);
    if ((Atomics.exchange(this.i32, w, 0) & 3) === 2) Atomics.notify(this.i32, w, 1);
  }

  /** The owner tag in thread `id`'s lock word (0: free). */
  lockOwner(id: ThreadId): number {
    return Atomics.load(this.i32, this.at(id, LOCK)) >>> 2;
  }

  /**
   * Release every block lock held by `owner` — a domain worker the engine terminated (it must
   * have exited: nothing of it runs any more) — and repair what its half-done critical
   * sections may have left: each such block's sender queue is rebuilt from the invariant (a
   * thread is queued on `r` iff it is send-blocked with partner `r`) and its domain's doorbell
   * rung (a completion it made and did not ring for is then seen).
   *
   * @returns the blocks whose locks were released
   */
  recoverLocks(owner: number): ThreadId[] {
    const i32 = this.i32;
    const out: ThreadId[] = [];
    for (let id = 1; id <= this.threads; id++) {
      const w = this.at(id, LOCK);
      const v = Atomics.load(i32, w);
      if (v === 0 || v >>> 2 !== owner) continue;
      if (Atomics.compareExchange(i32, w, v, 0) !== v) continue;
      Atomics.notify(i32, w);
      out.push(id);
    }
    for (const id of out) {
      this.lock(id);
      this.rebuildQueue(id);
      this.unlock(id);
      this.ring(this.domainOf(id));
    }
    return out;
  }

  /** Rebuild `r`'s sender queue from the threads send-blocked on it, keeping valid order (lock of `r` held). */
  private rebuildQueue(r: ThreadId): void {
    const i32 = this.i32;
    const members = new Set<ThreadId>();
    for (let x = 1; x <= this.threads; x++) {
      if (x !== r && this.state(x) === ThreadState.SendBlocked && this.partner(x) === r) {
        members.add(x);
      }
    }
    const order: ThreadId[] = [];
    const seen = new Set<ThreadId>();
    for (let s = i32[this.at(r, SQ_HEAD)]!; s !== 0 && this.isThread(s) && !seen.has(s); ) {
      seen.add(s);
      if (members.has(s)) order.push(s);
      s = i32[this.at(s, SQ_NEXT)]!;
    }
    for (const x of members) if (!seen.has(x)) order.push(x);
    i32[this.at(r, SQ_HEAD)] = 0;
    i32[this.at(r, SQ_TAIL)] = 0;
    for (const x of order) this.enqueueSender(r, x);
  }

  /**
   * Make a dead thread startable again (the engine's restart): its block back to
   * {@link ThreadState.Inactive}, no partner, flags, window, queue or deadline. Only for a
   * thread that is {@link ThreadState.Dead} (its partners were failed when it died).
   *
   * @returns whether it was dead (and is now inactive)
   */
  revive(id: ThreadId): boolean {
    this.lock(id);
    const dead = this.state(id) === ThreadState.Dead;
    if (dead) {
      const i32 = this.i32;
      for (const f of [PARTNER, FLAGS, RESULT, FROM, SQ_HEAD, SQ_TAIL, SQ_NEXT, SQ_PREV, ITEMS]) {
        i32[this.at(id, f)] = 0;
      }
      i32[this.at(id, WIN_LOG2)] = 0;
      i32[this.at(id, WIN_PAGE)] = 0;
      this.f64[this.atF(id, DEADLINE)] = Number.POSITIVE_INFINITY;
      this.setState(id, ThreadState.Inactive);
    }
    this.unlock(id);
    return dead;
  }

  /** Acquire two blocks' locks in id order (the global lock order), or one if `a === b`. */
  lock2(a: ThreadId, b: ThreadId): void {
    if (a === b) this.lock(a);
    else if (a < b) {
      this.lock(a);
      this.lock(b);
    } else {
      this.lock(b);
      this.lock(a);
    }
  }

  /** Release what {@link ControlBlocks.lock2} acquired. */
  unlock2(a: ThreadId, b: ThreadId): void {
    this.unlock(a);
    if (a !== b) this.unlock(b);
  }

  // ------------------------------------------------------------------ fields

  /** State word (atomic load: may be read without the lock). */
  state(id: ThreadId): ThreadStateValue {
    return Atomics.load(this.i32, this.at(id, STATE)) as ThreadStateValue;
  }
  /** Set the state word (lock held). */
  setState(id: ThreadId, s: ThreadStateValue): void {
    Atomics.store(this.i32, this.at(id, STATE), s);
  }
  /** Partner (lock held, or a hint to verify under the lock). */
  partner(id: ThreadId): ThreadId {
    return Atomics.load(this.i32, this.at(id, PARTNER));
  }
  /** Set the partner (lock held). */
  setPartner(id: ThreadId, p: ThreadId): void {
    this.i32[this.at(id, PARTNER)] = p;
  }
  /** Flags word. */
  flags(id: ThreadId): number {
    return Atomics.load(this.i32, this.at(id, FLAGS));
  }
  /** Set bits in the flags word. */
  setFlags(id: ThreadId, bits: number): void {
    Atomics.or(this.i32, this.at(id, FLAGS), bits);
  }
  /** Clear bits in the flags word. */
  clearFlags(id: ThreadId, bits: number): void {
    Atomics.and(this.i32, this.at(id, FLAGS), ~bits);
  }
  /**
   * Open a preemption window: one store sets WINDOW and clears MISSED, so a concurrent latch is
   * either before `begin()` (erased, correctly: that wake-up preceded the window) or after it.
   * Keeps the other flags (only the owner changes its own window, never while blocked).
   */
  openWindow(id: ThreadId): void {
    const w = this.at(id, FLAGS);
    for (;;) {
      const f = Atomics.load(this.i32, w);
      const n = (f & ~FLAG_MISSED) | FLAG_WINDOW;
      if (Atomics.compareExchange(this.i32, w, f, n) === f) return;
    }
  }
  /** Result word (lock held). */
  result(id: ThreadId): number {
    return this.i32[this.at(id, RESULT)]!;
  }
  /** Sender of the result, or the partner an error refers to (lock held). */
  from(id: ThreadId): ThreadId {
    return this.i32[this.at(id, FROM)]!;
  }
  /** Complete thread `id`'s IPC with `result`/`from` and mark it {@link ThreadState.Done} (lock held). */
  complete(id: ThreadId, result: number, from: ThreadId): void {
    this.i32[this.at(id, RESULT)] = result;
    this.i32[this.at(id, FROM)] = from;
    this.f64[this.atF(id, DEADLINE)] = Number.POSITIVE_INFINITY;
    this.setState(id, ThreadState.Done);
  }
  /** Domain index of a thread. */
  domainOf(id: ThreadId): number {
    return this.i32[this.at(id, DOMAIN)]!;
  }
  /** Absolute deadline in shared-clock milliseconds (Infinity: none). */
  deadline(id: ThreadId): number {
    return this.f64[this.atF(id, DEADLINE)]!;
  }
  /** Set the deadline (lock held). */
  setDeadline(id: ThreadId, ms: number): void {
    this.f64[this.atF(id, DEADLINE)] = ms;
  }
  /** The receive-phase timeout of a send-blocked call, in milliseconds. */
  receiveTimeout(id: ThreadId): number {
    return this.f64[this.atF(id, RECV_TIMEOUT)]!;
  }
  /** Set the receive-phase timeout (lock held). */
  setReceiveTimeout(id: ThreadId, ms: number): void {
    this.f64[this.atF(id, RECV_TIMEOUT)] = ms;
  }

  // ------------------------------------------------------------------ message registers

  /**
   * Write a message into thread `id`'s message registers (lock held; `words.length + 2 *
   * items.length` checked by the caller). Items are encoded in two words each after the
   * untyped words: `sendBase * 2 + grant`, then `fpage.base + sizeLog2 * 16 + rwx` (the
   * base is page-aligned, so its low 12 bits are free, as in X.2's fpage encoding).
   */
  writeMessage(
    id: ThreadId,
    label: number,
    words: readonly number[],
    items?: readonly MapGrantItem[],
  ): void {
    const f = this.f64;
    const base = this.atF(id, 0);
    f[base + LABEL] = label;
    const n = words.length;
    f[base + COUNT] = n;
    for (let i = 0; i < n; i++) f[base + WORDS + i] = words[i]!;
    const t = items === undefined ? 0 : items.length;
    this.i32[this.at(id, ITEMS)] = t;
    for (let i = 0; i < t; i++) {
      const it = items![i]!;
      f[base + WORDS + n + 2 * i] = it.sendBase * 2 + (it.kind === 'grant' ? 1 : 0);
      f[base + WORDS + n + 2 * i + 1] =
        it.fpage.base + it.fpage.sizeLog2 * 16 + rightsBits(it.fpage.rights);
    }
  }
  /** Copy thread `src`'s message registers to thread `dst`'s (both locks held). */
  copyMessage(src: ThreadId, dst: ThreadId): void {
    const f = this.f64;
    const s = this.atF(src, 0);
    const d = this.atF(dst, 0);
    const n = f[s + COUNT]!;
    const t = this.i32[this.at(src, ITEMS)]!;
    f[d + LABEL] = f[s + LABEL]!;
    f[d + COUNT] = n;
    this.i32[this.at(dst, ITEMS)] = t;
    f.copyWithin(d + WORDS, s + WORDS, s + WORDS + n + 2 * t);
  }
  /** Number of map/grant items in thread `id`'s message registers (lock held). */
  itemCount(id: ThreadId): number {
    return this.i32[this.at(id, ITEMS)]!;
  }
  /** Decode the map/grant items in thread `id`'s message registers (lock held). */
  readItems(id: ThreadId): MapGrantItem[] {
    const f = this.f64;
    const base = this.atF(id, 0);
    const n = f[base + COUNT]!;
    const t = this.i32[this.at(id, ITEMS)]!;
    const out: MapGrantItem[] = [];
    for (let i = 0; i < t; i++) {
      const w0 = f[base + WORDS + n + 2 * i]!;
      const w1 = f[base + WORDS + n + 2 * i + 1]!;
      const low = w1 % 4096;
      out.push({
        kind: w0 % 2 === 1 ? 'grant' : 'map',
        sendBase: Math.floor(w0 / 2),
        fpage: { base: w1 - low, sizeLog2: low >> 4, rights: bitsRights(low & 7) },
      });
    }
    return out;
  }
  /** Set thread `id`'s receive window (lock held); `log2` 0: none (it accepts no items). */
  setWindow(id: ThreadId, window: Fpage | undefined): void {
    this.i32[this.at(id, WIN_LOG2)] = window === undefined ? 0 : window.sizeLog2;
    this.i32[this.at(id, WIN_PAGE)] = window === undefined ? 0 : window.base / 4096;
  }
  /** log2 of thread `id`'s receive window size, 0 if it accepts no items (lock held). */
  windowLog2(id: ThreadId): number {
    return this.i32[this.at(id, WIN_LOG2)]!;
  }
  /** Base address of thread `id`'s receive window (lock held). */
  windowBase(id: ThreadId): number {
    return this.i32[this.at(id, WIN_PAGE)]! * 4096;
  }
  /** Message label in thread `id`'s registers (lock held). */
  label(id: ThreadId): number {
    return this.f64[this.atF(id, LABEL)]!;
  }
  /** Read thread `id`'s message words into a new array (lock held). */
  readWords(id: ThreadId): number[] {
    const base = this.atF(id, 0);
    const n = this.f64[base + COUNT]!;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.f64[base + WORDS + i]!;
    return out;
  }

  // ------------------------------------------------------------------ sender queues

  /** Append sender `s` to receiver `r`'s queue (both locks held). */
  enqueueSender(r: ThreadId, s: ThreadId): void {
    const i32 = this.i32;
    const tail = i32[this.at(r, SQ_TAIL)]!;
    i32[this.at(s, SQ_NEXT)] = 0;
    i32[this.at(s, SQ_PREV)] = tail;
    if (tail === 0) i32[this.at(r, SQ_HEAD)] = s;
    else i32[this.at(tail, SQ_NEXT)] = s;
    i32[this.at(r, SQ_TAIL)] = s;
  }
  /** Remove sender `s` from receiver `r`'s queue (both locks held). */
  dequeueSender(r: ThreadId, s: ThreadId): void {
    const i32 = this.i32;
    const prev = i32[this.at(s, SQ_PREV)]!;
    const next = i32[this.at(s, SQ_NEXT)]!;
    if (prev === 0) i32[this.at(r, SQ_HEAD)] = next;
    else i32[this.at(prev, SQ_NEXT)] = next;
    if (next === 0) i32[this.at(r, SQ_TAIL)] = prev;
    else i32[this.at(next, SQ_PREV)] = prev;
    i32[this.at(s, SQ_NEXT)] = 0;
    i32[this.at(s, SQ_PREV)] = 0;
  }
  /** First sender in `r`'s queue (0: none; `r`'s lock held). */
  firstSender(r: ThreadId): ThreadId {
    return this.i32[this.at(r, SQ_HEAD)]!;
  }
  /** The sender after `s` in its receiver's queue (receiver's lock held). */
  nextSender(s: ThreadId): ThreadId {
    return this.i32[this.at(s, SQ_NEXT)]!;
  }

  // ------------------------------------------------------------------ doorbells

  /** The doorbell word's index, for `Atomics.wait` by the domain's scheduler. */
  doorbellIndex(domain: number): number {
    return (HEADER_BYTES + domain * DOMAIN_BYTES) / 4 + DOORBELL;
  }
  /** The whole region as Int32, for `Atomics.wait` on a doorbell. */
  get words(): Int32Array {
    return this.i32;
  }
  /** Ring a domain's doorbell: the last write of every wake-up, then notify its sleeper. */
  ring(domain: number): void {
    const w = this.doorbellIndex(domain);
    Atomics.add(this.i32, w, 1);
    Atomics.notify(this.i32, w, 1);
  }
  /** Ask a domain's scheduler to stop (it sees this on its next doorbell check). */
  requestStop(domain: number): void {
    Atomics.store(this.i32, (HEADER_BYTES + domain * DOMAIN_BYTES) / 4 + STOP, 1);
    this.ring(domain);
  }
  /**
   * Fault injection: make `domain`'s worker hang at its scheduler's next step — it blocks
   * forever without running any thread (a hung driver, as the sim kernel's `injectHang`), until
   * the engine terminates it. 0 clears the request (a restarted worker must not hang again).
   */
  setHang(domain: number, on: boolean): void {
    Atomics.store(this.i32, (HEADER_BYTES + domain * DOMAIN_BYTES) / 4 + HANG, on ? 1 : 0);
    this.ring(domain);
  }
  /** The index of `domain`'s hang word (the scheduler checks it and waits on it). */
  hangIndex(domain: number): number {
    return (HEADER_BYTES + domain * DOMAIN_BYTES) / 4 + HANG;
  }
  /** Whether a stop was requested for `domain`. */
  stopRequested(domain: number): boolean {
    return Atomics.load(this.i32, (HEADER_BYTES + domain * DOMAIN_BYTES) / 4 + STOP) !== 0;
  }
}
