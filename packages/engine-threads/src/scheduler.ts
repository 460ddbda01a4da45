/**
 * A domain's scheduler: runs the domain's threads (generators) cooperatively inside its worker,
 * highest priority first (FIFO among equals), executes the kernel calls they yield over the IPC
 * fast path, and blocks the worker on the domain's doorbell with `Atomics.wait` until a partner
 * rings it or the earliest deadline passes.
 *
 * Why the doorbell cannot lose a wake-up: the scheduler reads the doorbell, *then* scans its
 * blocked threads' states; a waker changes a thread's state, *then* increments the doorbell. If
 * the scan missed the change, the increment came after the read, so `Atomics.wait(doorbell,
 * read value)` returns at once (it compares and sleeps atomically).
 *
 * @module
 */
import {
  ANY_THREAD,
  type Fpage,
  type IpcErrorCode,
  type IpcResult,
  type Message,
  NIL_THREAD,
  type ThreadBody,
  type ThreadId,
} from '@udf/l4-kernel';
import { type CycleClock, sharedNowMs } from './clock.js';
import { type ControlBlocks, ThreadState } from './control-blocks.js';
import { type CounterBoard, PUBLISH_STEPS } from './counter-board.js';
import { BLOCKED, type Blocked, type IpcPath, ipcError } from './ipc.js';
import type { SlowPath } from './kernel-link.js';
import { validFpage } from './mapping-db.js';
import { DomainDevices, type DomainMemory } from './memory.js';
import { emptyMmioCounters, type MmioWindowCounters } from './mmio-ring.js';
import { type CallRecord, createThreadSys } from './thread-sys.js';

/** Counters of a domain scheduler. */
export interface SchedulerCounters {
  /** Kernel calls executed. */
  calls: number;
  /** Times the worker slept in `Atomics.wait` on its doorbell (woken, or its deadline came). */
  sleeps: number;
  /** Times it went to sleep but the doorbell had changed since it looked (`not-equal`: no sleep). */
  racedSleeps: number;
  /** Messages refused because a map/grant item is malformed (bad kind, fpage or send base). */
  badItems: number;
  /** Unmap requests (each a call into the kernel's slow path). */
  unmaps: number;
  /** Interrupt attach requests refused because the system has no interrupt lines. */
  unsupportedIrq: number;
  /** Messages refused because a word is not a number. */
  badWords: number;
  /** Unknown kernel calls. */
  badCalls: number;
}

/** Options of a {@link DomainScheduler}. */
export interface SchedulerOptions {
  /** This domain's index. */
  readonly domain: number;
  /** The shared control blocks. */
  readonly blocks: ControlBlocks;
  /** The IPC fast path over them. */
  readonly ipc: IpcPath;
  /** Cycle ↔ wall-time conversion. */
  readonly clock: CycleClock;
  /** The regions granted to this domain. */
  readonly memory: DomainMemory;
  /** The device register windows mapped into this domain (default none). */
  readonly devices?: DomainDevices;
  /** Spin this many microseconds on the doorbell before sleeping (0: block at once). */
  readonly spinMicros?: number;
  /** The kernel slow path (map/grant transfers, unmap); default none. */
  readonly slow?: SlowPath;
  /** Called when a thread's body returns (`error` undefined) or throws. */
  readonly onExit: (id: ThreadId, error: unknown) => void;
  /**
   * Root-task schedulers only ({@link DomainScheduler.runAsync}): a promise to wait for before a
   * thread's next kernel call is executed, or null. The engine's recovery after it terminated a
   * worker (its locks released, its threads' partners failed) — so a supervisor that stopped a
   * driver makes its next IPC only once that is done.
   */
  readonly gate?: () => Promise<void> | null;
  /**
   * The counter board this domain publishes its counters to (its record `domain`), so they can
   * be read while it runs; default none.
   */
  readonly board?: CounterBoard;
}

interface LocalThread {
  readonly id: ThreadId;
  readonly priority: number;
  readonly req: CallRecord;
  gen: Generator<unknown, void, unknown> | null;
  resume: unknown;
  /** A kernel call yielded and not yet executed (held at the gate). */
  held: CallRecord | null;
}

/** Steps a root-task scheduler runs before it lets the main thread's event loop in. */
export const ROOT_STEPS_PER_TURN = 64;

/** Why {@link DomainScheduler.run} returned. */
export type SchedulerExit = 'done' | 'stopped';

/** The cooperative scheduler of one domain (see the module comment). */
export class DomainScheduler {
  /** Counters. */
  readonly counters: SchedulerCounters = {
    calls: 0,
    sleeps: 0,
    racedSleeps: 0,
    badItems: 0,
    unmaps: 0,
    unsupportedIrq: 0,
    badWords: 0,
    badCalls: 0,
  };
  private readonly o: SchedulerOptions;
  private readonly hw: { readonly memory: DomainMemory; readonly devices: DomainDevices };
  /** The register windows' counters, summed for the counter board (reused). */
  private readonly mmio: MmioWindowCounters = emptyMmioCounters();
  private readonly ready: LocalThread[] = [];
  private readonly blocked: LocalThread[] = [];
  private live = 0;
  private earliest = Number.POSITIVE_INFINITY;
  private gated: Promise<void> | null = null;
  private unpublished = 0;

  /** @param options - see {@link SchedulerOptions} */
  constructor(options: SchedulerOptions) {
    this.o = options;
    this.hw = { memory: options.memory, devices: options.devices ?? new DomainDevices([]) };
  }

  /** Add thread `id` running `body` (before {@link DomainScheduler.run}); `pager` takes its page faults. */
  add(id: ThreadId, priority: number, body: ThreadBody, pager: ThreadId = NIL_THREAD): void {
    const req: CallRecord = {
      op: '',
      args: [undefined, undefined, undefined, undefined],
      unstarted: 0,
    };
    const sys = createThreadSys(id, this.o.clock, this.o.blocks, req, this.hw, pager);
    const t: LocalThread = { id, priority, req, gen: null, resume: undefined, held: null };
    this.live++;
    try {
      t.gen = body(sys);
    } catch (e) {
      this.exit(t, e);
      return;
    }
    const b = this.o.blocks;
    b.lock(id);
    if (b.state(id) === ThreadState.Inactive) b.setState(id, ThreadState.Running);
    b.unlock(id);
    this.ready.push(t);
  }

  /** Run until every thread has exited or the engine asks the domain to stop. */
  run(): SchedulerExit {
    const { blocks, domain } = this.o;
    const words = blocks.words;
    const bell = blocks.doorbellIndex(domain);
    const spinMs = (this.o.spinMicros ?? 0) / 1000;
    const hang = blocks.hangIndex(domain);
    let seen = Atomics.load(words, bell) - 1;
    for (;;) {
      const v = Atomics.load(words, bell);
      if (blocks.stopRequested(domain)) return this.published('stopped');
      if (Atomics.load(words, hang) !== 0) {
        // injected hang: block for good, running nothing (only terminating the worker ends it)
        for (;;) Atomics.wait(words, hang, Atomics.load(words, hang));
      }
      if (v !== seen) {
        seen = v;
        this.collect();
      }
      if (this.earliest !== Number.POSITIVE_INFINITY && sharedNowMs() >= this.earliest) {
        this.expire();
      }
      if (this.ready.length > 0) {
        this.step();
        if (++this.unpublished === PUBLISH_STEPS) this.publish();
        continue;
      }
      if (this.live === 0) return this.published('done');
      if (spinMs > 0) {
        const until = sharedNowMs() + spinMs;
        while (Atomics.load(words, bell) === v && sharedNowMs() < until) {
          // spin: a wake-up within the spin window costs no sleep/notify round trip
        }
        if (Atomics.load(words, bell) !== v) continue;
      }
      const wait = this.earliest - sharedNowMs();
      if (wait <= 0) continue;
      this.publish();
      const how = Atomics.wait(
        words,
        bell,
        v,
        wait === Number.POSITIVE_INFINITY ? undefined : wait,
      );
      if (how === 'not-equal') this.counters.racedSleeps++;
      else this.counters.sleeps++;
    }
  }

  /** The IPC path's counters (messages, latched, missed sends). */
  get ipcCounters(): Readonly<Record<string, number>> {
    return { ...this.o.ipc.counters };
  }

  /**
   * {@link DomainScheduler.run} for the main thread (root-task domains): the same loop, but it
   * waits with `Atomics.waitAsync` and gives the event loop a turn every
   * {@link ROOT_STEPS_PER_TURN} steps, so the kernel's slow path (worker requests) keeps being
   * served while root threads run.
   */
  async runAsync(): Promise<SchedulerExit> {
    const { blocks, domain } = this.o;
    const words = blocks.words;
    const bell = blocks.doorbellIndex(domain);
    let seen = Atomics.load(words, bell) - 1;
    let steps = 0;
    for (;;) {
      const v = Atomics.load(words, bell);
      if (blocks.stopRequested(domain)) return this.published('stopped');
      if (v !== seen) {
        seen = v;
        this.collect();
      }
      if (this.earliest !== Number.POSITIVE_INFINITY && sharedNowMs() >= this.earliest) {
        this.expire();
      }
      if (this.ready.length > 0) {
        this.step();
        if (++this.unpublished === PUBLISH_STEPS) this.publish();
        const g = this.gated;
        if (g !== null) {
          this.gated = null;
          await g;
        }
        if (++steps % ROOT_STEPS_PER_TURN === 0) {
          await new Promise<void>((r) => setImmediate(r));
        }
        continue;
      }
      if (this.live === 0) return this.published('done');
      const wait = this.earliest - sharedNowMs();
      if (wait <= 0) continue;
      this.publish();
      const w = Atomics.waitAsync(
        words,
        bell,
        v,
        wait === Number.POSITIVE_INFINITY ? undefined : wait,
      );
      if (w.async) {
        await w.value;
        this.counters.sleeps++;
      } else this.counters.racedSleeps++;
    }
  }

  /**
   * Copy the counters to the counter board, if there is one (no allocation). The scheduler does
   * this before it sleeps, every {@link PUBLISH_STEPS} steps and when it returns.
   */
  publish(): void {
    this.unpublished = 0;
    const b = this.o.board;
    if (b !== undefined) {
      b.publish(
        this.o.domain,
        this.counters,
        this.o.ipc.counters,
        this.hw.devices.sumInto(this.mmio),
      );
    }
  }

  private published(how: SchedulerExit): SchedulerExit {
    this.publish();
    return how;
  }

  /** Move threads whose IPC a partner (or a timeout) completed to the ready queue. */
  private collect(): void {
    const { blocks, ipc } = this.o;
    let earliest = Number.POSITIVE_INFINITY;
    const blocked = this.blocked;
    for (let i = 0; i < blocked.length; ) {
      const t = blocked[i]!;
      if (blocks.state(t.id) === ThreadState.Done) {
        t.resume = ipc.takeResult(t.id);
        blocked[i] = blocked[blocked.length - 1]!;
        blocked.pop();
        this.ready.push(t);
        continue;
      }
      const d = blocks.deadline(t.id);
      if (d < earliest) earliest = d;
      i++;
    }
    this.earliest = earliest;
  }

  /** Time out blocked threads whose deadline has passed (each under its lock). */
  private expire(): void {
    const now = sharedNowMs();
    for (const t of this.blocked) {
      if (this.o.blocks.deadline(t.id) <= now) this.o.ipc.interrupt(t.id, 'timeout', now);
    }
    this.collect();
  }

  private pick(): LocalThread {
    const ready = this.ready;
    let best = 0;
    for (let i = 1; i < ready.length; i++) {
      if (ready[i]!.priority > ready[best]!.priority) best = i;
    }
    const t = ready[best]!;
    // remove in place, keeping FIFO order among equals (no allocation per step)
    for (let i = best + 1; i < ready.length; i++) ready[i - 1] = ready[i]!;
    ready.pop();
    return t;
  }

  private step(): void {
    const t = this.pick();
    let call = t.held;
    if (call !== null) t.held = null;
    else {
      let r: IteratorResult<unknown, void>;
      try {
        r = t.gen!.next(t.resume);
      } catch (e) {
        this.exit(t, e ?? new Error('thread threw a nullish value'));
        return;
      }
      t.resume = undefined;
      if (t.req.unstarted !== 0) {
        // A Sys operation was called without `yield*`: its kernel call would silently not
        // happen (the sim kernel fails the thread the same way).
        t.req.unstarted = 0;
        this.counters.badCalls++;
        this.exit(t, new Error(`thread ${t.id} called a kernel operation without yield*`));
        return;
      }
      if (r.done === true) {
        this.exit(t, undefined);
        return;
      }
      call = r.value as CallRecord;
      const g = this.o.gate?.() ?? null;
      if (g !== null) {
        // executed once the engine's recovery is done (runAsync waits for it)
        t.held = call;
        this.ready.unshift(t);
        this.gated = g;
        return;
      }
    }
    this.counters.calls++;
    const out = this.exec(t, call);
    if (out === BLOCKED) {
      this.blocked.push(t);
      const d = this.o.blocks.deadline(t.id);
      if (d < this.earliest) this.earliest = d;
    } else {
      t.resume = out;
      this.ready.push(t);
    }
  }

  private exit(t: LocalThread, error: unknown): void {
    const gen = t.gen;
    t.gen = null;
    this.live--;
    this.o.ipc.kill(t.id);
    if (gen !== null && error === undefined) {
      try {
        gen.return(undefined);
      } catch {
        // a finally block that throws while the thread is torn down changes nothing
      }
    }
    this.o.onExit(t.id, error);
  }

  /** Execute one kernel call of `t`: its resume value, or {@link BLOCKED}. */
  private exec(t: LocalThread, c: CallRecord): unknown {
    const { ipc, clock } = this.o;
    const a = c.args;
    const a0 = a[0];
    const a1 = a[1];
    const a2 = a[2];
    const a3 = a[3];
    a[0] = a[1] = a[2] = a[3] = undefined;
    const self = t.id;
    switch (c.op) {
      case 'send':
      case 'call':
      case 'reply': {
        const msg = a1 as Message;
        const bad = this.checkMessage(msg);
        if (bad !== null) return ipcError(bad, 'send', a0 as ThreadId);
        const call = c.op === 'call';
        if (call && !validWindow(a3)) return ipcError('malformed-item', 'receive', a0 as ThreadId);
        const timeout = c.op === 'reply' ? 0 : clock.timeoutMs(a2 as number | undefined);
        return ipc.send(
          self,
          a0 as ThreadId,
          msg.label,
          msg.words,
          timeout,
          call,
          timeout,
          msg.items,
          call ? (a3 as Fpage | undefined) : undefined,
        );
      }
      case 'receive':
        if (!validWindow(a2)) return ipcError('malformed-item', 'receive', a0 as ThreadId);
        return ipc.receive(
          self,
          a0 as ThreadId,
          clock.timeoutMs(a1 as number | undefined),
          true,
          a2 as Fpage | undefined,
        );
      case 'replyWait':
        return this.replyWait(self, a0 as ThreadId, a1 as Message, a2 as number | undefined, a3);
      case 'sleep': {
        const ms = clock.timeoutMs(a0 as number | undefined);
        return ms === 0 ? undefined : ipc.sleep(self, ms);
      }
      case 'yield':
        return undefined;
      case 'attach':
        if (ipc.irq === null) {
          this.counters.unsupportedIrq++;
          return { ok: false, error: 'invalid-line' };
        }
        return ipc.irq.attach(self, a0 as number);
      case 'detach':
        ipc.irq?.detach(self, a0 as number);
        return undefined;
      case 'unmap': {
        const slow = this.o.slow;
        if (slow === undefined || !validFpage(a0)) return 0;
        this.counters.unmaps++;
        return slow.unmap(self, a0, a1 === true);
      }
      default:
        this.counters.badCalls++;
        return undefined;
    }
  }

  private replyWait(
    self: ThreadId,
    to: ThreadId,
    msg: Message,
    timeout: number | undefined,
    window: unknown,
  ): IpcResult | Blocked {
    const { ipc, clock } = this.o;
    if (!validWindow(window)) return ipcError('malformed-item', 'receive', to);
    // L4 X.2: a nil reply target skips the send phase.
    if (to !== NIL_THREAD) {
      const bad = this.checkMessage(msg);
      if (bad !== null) return ipcError(bad, 'send', to);
      const r = ipc.send(self, to, msg.label, msg.words, 0, false, 0, msg.items);
      if (r !== BLOCKED && !r.ok) return r;
    }
    return ipc.receive(
      self,
      ANY_THREAD,
      clock.timeoutMs(timeout),
      true,
      window as Fpage | undefined,
    );
  }

  private checkMessage(msg: Message): IpcErrorCode | null {
    if (
      msg === null ||
      typeof msg !== 'object' ||
      !Array.isArray(msg.words) ||
      typeof msg.label !== 'number'
    ) {
      return 'malformed-item';
    }
    const items = msg.items;
    if (items !== undefined) {
      // as the sim's msgWords: every item well-formed, or the message is refused at the sender
      if (!Array.isArray(items)) {
        this.counters.badItems++;
        return 'malformed-item';
      }
      for (const it of items) {
        if (
          it === null ||
          typeof it !== 'object' ||
          (it.kind !== 'map' && it.kind !== 'grant') ||
          !validFpage(it.fpage) ||
          !Number.isInteger(it.sendBase) ||
          it.sendBase < 0
        ) {
          this.counters.badItems++;
          return 'malformed-item';
        }
      }
    }
    // More words than the registers hold is not refused here: X.2 reports the overflow at
    // transfer time to both partners (IpcPath.send).
    const words = msg.words;
    // message registers hold numbers; anything else could throw inside a locked section
    for (let i = 0; i < words.length; i++) {
      if (typeof words[i] !== 'number') {
        this.counters.badWords++;
        return 'malformed-item';
      }
    }
    return null;
  }
}

/** A receive window: none, or a well-formed fpage (as the sim's `validFpage`). */
function validWindow(w: unknown): boolean {
  return w === undefined || validFpage(w);
}
