import { ArgumentError, LayoutError } from './errors.js';

/** Value of a {@link NotificationBit} word while its consumer is running (or about to run). */
export const CONSUMER_AWAKE = 0;
/** Value of a {@link NotificationBit} word while its consumer asks to be woken. */
export const CONSUMER_ASLEEP = 1;

/** Counters kept privately by each side of a notification bit. */
export interface NotificationStats {
  /** Times this side read a word that was neither awake nor asleep (a peer wrote garbage). */
  corruptions: number;
}

/**
 * The paper's notification bit (section 4.5): one `Int32` word of shared memory in which a
 * consumer advertises whether it is asleep, so that a producer only pays for a wake-up when one
 * is needed.
 *
 * Protocol (the consumer "requests a signal, re-checks, then blocks"):
 * ```text
 * consumer (sleeper)                         producer (waker)
 *  1. prepareSleep(): word := ASLEEP          a. publish work (Atomics.store of ring tail)
 *  2. re-check for work (Atomics.load tail)   b. takeWakeRequest(): CAS word ASLEEP → AWAKE
 *     work?  cancelSleep(), run               c. if it succeeded: Atomics.notify(word)
 *  3. Atomics.wait(word, ASLEEP)
 *  4. after any return: re-read everything with Atomics.load; go to 2 / 1
 * ```
 * Why no wake-up is lost: all `Atomics` operations are sequentially consistent, so of the two
 * pairs "1 then 2" and "a then b", at least one side sees the other's write (Dekker's
 * argument). If the consumer's re-check (2) missed the work, its ASLEEP store (1) precedes the
 * producer's read (b), so the producer takes the request. `Atomics.notify` is *not* latched —
 * a notify before the sleeper reaches `Atomics.wait` is lost — but the sleeper waits on the very
 * word the waker changed (b) before notifying (c): `Atomics.wait` compares and blocks
 * atomically, so either it sees AWAKE and returns at once, or it is already blocked when the
 * notify arrives. Spurious or early returns are harmless because the consumer always re-checks.
 * The paper resolves the same race with preemption control and rollback; this protocol is
 * checked mechanically by the Promela model in `spin/notify.pml`.
 *
 * A hostile peer can only make the consumer wake too often or the producer skip a notify (the
 * consumer it harms is then its own); garbage values are counted in {@link NotificationBit.stats}.
 */
export class NotificationBit {
  /** Bytes a notification bit needs (give it its own 64-byte cache line if you can). */
  static readonly BYTE_LENGTH = 4;

  /** The shared word (index 0), for `Atomics.wait`/`Atomics.notify`. */
  readonly word: Int32Array;
  /** This side's private counters. */
  readonly stats: NotificationStats = { corruptions: 0 };

  /**
   * Attach to the notification word at `byteOffset`. Does not modify memory: a zeroed word
   * means "awake".
   *
   * @param buffer - the shared memory
   * @param byteOffset - byte offset of the word, a multiple of 4
   * @throws {@link LayoutError} if the offset is misaligned or outside the buffer
   */
  constructor(buffer: SharedArrayBuffer | ArrayBuffer, byteOffset: number) {
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) {
      throw new LayoutError(`notification word offset must be a multiple of 4, got ${byteOffset}`);
    }
    if (byteOffset + 4 > buffer.byteLength) {
      throw new LayoutError(`notification word at ${byteOffset} is outside the buffer`);
    }
    this.word = new Int32Array(buffer, byteOffset, 1);
  }

  // ---- consumer side ------------------------------------------------------------------------

  /** Consumer: request a wake-up signal. Re-check for work afterwards, before blocking. */
  prepareSleep(): void {
    Atomics.store(this.word, 0, CONSUMER_ASLEEP);
  }

  /** Consumer: withdraw the request (work was found, or the consumer stopped waiting). */
  cancelSleep(): void {
    Atomics.store(this.word, 0, CONSUMER_AWAKE);
  }

  /** Whether the word currently says the consumer asks to be woken. */
  isAsleep(): boolean {
    return Atomics.load(this.word, 0) === CONSUMER_ASLEEP;
  }

  // ---- producer side ------------------------------------------------------------------------

  /**
   * Producer, after publishing work: atomically test-and-clear the consumer's wake request.
   *
   * @returns `true` if the consumer was asleep; the caller must then send exactly one wake-up
   *   (e.g. {@link wake}). `false` means the consumer is running and will see the work.
   */
  takeWakeRequest(): boolean {
    const seen = Atomics.load(this.word, 0);
    if (seen !== CONSUMER_ASLEEP) {
      if (seen !== CONSUMER_AWAKE) this.stats.corruptions++;
      return false;
    }
    return (
      Atomics.compareExchange(this.word, 0, CONSUMER_ASLEEP, CONSUMER_AWAKE) === CONSUMER_ASLEEP
    );
  }
}

/**
 * When a producer sends a wake-up:
 * - `always`: after every enqueue, whether or not the consumer sleeps (no suppression; a producer
 *   that enqueues a batch and then asks once wakes once per batch);
 * - `per-item`: one wake-up per item enqueued, whether or not the consumer sleeps (the baseline
 *   the paper's lock-free queues avoid: a kernel interaction per item);
 * - `when-asleep`: after an enqueue that finds the consumer asleep (the paper's suppression);
 * - `deferred`: only once `batch` items are pending or the producer runs dry, and then only if
 *   the consumer is asleep (the paper's delayed notification, for batching).
 */
export type NotifyPolicy =
  | { kind: 'always' }
  | { kind: 'per-item' }
  | { kind: 'when-asleep' }
  | { kind: 'deferred'; batch: number };

/** Counters of a {@link Notifier}. */
export interface NotifierStats {
  /** Wake-ups asked for (with `per-item`, one per enqueued item). */
  notifications: number;
  /** Decisions not to send one (consumer awake, or items deferred). */
  suppressed: number;
}

/**
 * The producer's notification decision, per {@link NotifyPolicy}. It only decides; the caller
 * sends the wake-up (with {@link wake} on real threads, or an IPC in a simulated kernel).
 *
 * Contract for `deferred`: the producer must call {@link Notifier.onDry} whenever it stops
 * producing for a while — its input is empty or the ring is full — otherwise items could wait
 * for a wake-up that never comes.
 *
 * @example
 * ```ts
 * const notifier = new Notifier(bit, { kind: 'deferred', batch: 32 });
 * if (ring.push(desc) && notifier.afterEnqueue(1)) wake(bit);
 * // ... when there is nothing more to send right now:
 * if (notifier.onDry()) wake(bit);
 * ```
 */
export class Notifier {
  /** Decision counters. */
  readonly stats: NotifierStats = { notifications: 0, suppressed: 0 };
  /** The policy this notifier applies. */
  readonly policy: NotifyPolicy;

  private readonly bit: NotificationBit;
  private readonly batch: number;
  private pending = 0;

  /**
   * @param bit - the consumer's notification bit
   * @param policy - when to wake the consumer
   * @throws {@link ArgumentError} for a `deferred` batch that is not a positive integer
   */
  constructor(bit: NotificationBit, policy: NotifyPolicy) {
    if (policy.kind === 'deferred' && !(Number.isInteger(policy.batch) && policy.batch >= 1)) {
      throw new ArgumentError(`deferred batch must be a positive integer, got ${policy.batch}`);
    }
    this.bit = bit;
    this.policy = policy;
    this.batch = policy.kind === 'deferred' ? policy.batch : 1;
  }

  /**
   * Call after publishing `n` items (with the ring's index store).
   *
   * With `per-item`, the policy asks for one wake-up per item; a caller that sends one wake-up
   * for the whole batch when this returns `true` sends fewer than {@link NotifierStats.notifications}
   * counts. Use {@link Notifier.wakeupsAfterEnqueue} to send one per item.
   *
   * @returns whether to send a wake-up now
   */
  afterEnqueue(n: number): boolean {
    return this.wakeupsAfterEnqueue(n) > 0;
  }

  /**
   * Call after publishing `n` items (with the ring's index store): how many wake-ups the policy
   * asks for now. `per-item` asks for `n`, one per item (the baseline the paper's lock-free
   * queues avoid: a kernel interaction per enqueued item); `always`, `when-asleep` and `deferred`
   * ask for at most one.
   *
   * @returns the number of wake-ups to send (0 for `n <= 0`)
   */
  wakeupsAfterEnqueue(n: number): number {
    if (n <= 0) return 0;
    switch (this.policy.kind) {
      case 'always':
        this.bit.takeWakeRequest();
        this.stats.notifications++;
        return 1;
      case 'per-item':
        this.bit.takeWakeRequest();
        this.stats.notifications += n;
        return n;
      case 'when-asleep':
        return this.decide(this.bit.takeWakeRequest()) ? 1 : 0;
      case 'deferred':
        this.pending += n;
        if (this.pending < this.batch) {
          this.stats.suppressed++;
          return 0;
        }
        this.pending = 0;
        return this.decide(this.bit.takeWakeRequest()) ? 1 : 0;
    }
  }

  /**
   * Call when the producer runs dry (nothing more to send now, or the ring is full). Flushes
   * deferred items.
   *
   * @returns whether to send a wake-up now
   */
  onDry(): boolean {
    if (this.pending === 0) return false;
    this.pending = 0;
    return this.decide(this.bit.takeWakeRequest());
  }

  private decide(wakeNeeded: boolean): boolean {
    if (wakeNeeded) this.stats.notifications++;
    else this.stats.suppressed++;
    return wakeNeeded;
  }
}

/**
 * Send a wake-up to a consumer blocked in {@link sleepUntil} on `bit` (`Atomics.notify`). Call
 * it only after {@link NotificationBit.takeWakeRequest} (or a {@link Notifier}) said so: the
 * word must already have been changed, since a notify is not latched.
 *
 * @returns the number of threads woken (0 or 1)
 */
export function wake(bit: NotificationBit): number {
  return Atomics.notify(bit.word, 0, 1);
}

/**
 * Consumer: block the calling thread until `hasWork()` is true, using the race-free sleep
 * protocol of {@link NotificationBit} with `Atomics.wait` as the blocking primitive.
 *
 * `hasWork` must read shared state with `Atomics.load` (e.g. `() => ring.count() > 0`). On
 * return the bit says "awake". Not usable on a browser's main thread (`Atomics.wait` throws
 * there); fine in workers and in Node's main thread.
 *
 * @param bit - this consumer's notification bit
 * @param hasWork - re-check for work; called before sleeping and after every wake-up
 * @param timeoutMs - give up after this long (default: never)
 * @param spins - poll `hasWork` this many times before requesting a signal (spin-then-sleep)
 * @returns `true` if there is work, `false` on timeout
 */
export function sleepUntil(
  bit: NotificationBit,
  hasWork: () => boolean,
  timeoutMs = Number.POSITIVE_INFINITY,
  spins = 0,
): boolean {
  for (let i = 0; i < spins; i++) if (hasWork()) return true;
  const deadline =
    timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs;
  let found = false;
  for (;;) {
    bit.prepareSleep();
    if (hasWork()) {
      found = true;
      break;
    }
    const remaining =
      deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now();
    if (remaining <= 0) break;
    // Blocks only while the word still says ASLEEP: a waker that already cleared it makes this
    // return at once, so a notify sent before we got here cannot be lost.
    Atomics.wait(bit.word, 0, CONSUMER_ASLEEP, remaining);
  }
  bit.cancelSleep();
  return found || hasWork();
}

/**
 * Consumer, without blocking the thread: resolve once `hasWork()` is true, using the same
 * race-free protocol as {@link sleepUntil} with `Atomics.waitAsync` as the waiting primitive.
 * For a browser's main thread (where `Atomics.wait` throws) and for event-loop code in Node.
 *
 * The waker does not change: {@link wake} (`Atomics.notify`) wakes async waiters too.
 * `Atomics.waitAsync` compares and registers the waiter atomically, so a wake-up sent before
 * the waiter is registered is not lost (the word already says AWAKE and the wait ends at
 * once). Where `Atomics.waitAsync` is missing, it re-checks every 4 ms instead.
 *
 * While waiting it holds one timer: in Node, a pending `Atomics.waitAsync` alone does not keep
 * the event loop (or a worker) alive, so without it the process could exit with the consumer
 * still waiting. One timer per call, none per item: keep this off per-item paths.
 *
 * @param bit - this consumer's notification bit
 * @param hasWork - re-check for work; called before sleeping and after every wake-up
 * @param timeoutMs - give up after this long (default: never)
 * @returns `true` if there is work, `false` on timeout
 *
 * @example
 * ```ts
 * while (received < expected) {
 *   const n = ring.popBatch(out, 32);
 *   received += n;
 *   if (n === 0 && !(await sleepUntilAsync(bit, () => ring.count() > 0, 5_000))) {
 *     throw new Error('producer stalled');
 *   }
 * }
 * ```
 */
export async function sleepUntilAsync(
  bit: NotificationBit,
  hasWork: () => boolean,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<boolean> {
  if (hasWork()) return true;
  const deadline =
    timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs;
  const keepAlive = setInterval(() => {}, 1 << 30);
  let found = false;
  try {
    for (;;) {
      bit.prepareSleep();
      if (hasWork()) {
        found = true;
        break;
      }
      const remaining =
        deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now();
      if (remaining <= 0) break;
      if (typeof Atomics.waitAsync === 'function') {
        const r = Atomics.waitAsync(bit.word, 0, CONSUMER_ASLEEP, remaining);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.min(remaining, 4)));
      }
    }
  } finally {
    clearInterval(keepAlive);
    bit.cancelSleep();
  }
  return found || hasWork();
}
