/**
 * The thread bodies of the conformance cases, as components: each export is a factory
 * `(config) => ThreadBody` configured with plain data only (partner thread ids, addresses, a
 * {@link Journal}'s buffer), so that an engine can build it wherever the thread runs — in the
 * same thread (sim) or inside a worker from the reference
 * `{ module: '@udf/l4-kernel/conformance', export, config }` (threads engine). Bodies report
 * what they observe in the journal and hand over to each other through its cells, never through
 * closures. Bodies import nothing but `Sys`.
 *
 * @module
 */
import {
  type Access,
  ANY_THREAD,
  type Fpage,
  type IpcResult,
  type KernelCall,
  type MapGrantItem,
  type Message,
  NEVER,
  NIL_THREAD,
  PAGE_FAULT_LABEL,
  PAGE_FAULT_REFUSED_LABEL,
  type Rights,
  type Sys,
  type ThreadBody,
  type ThreadId,
  type Timeout,
  ZERO,
} from '../sys.js';
import { Journal } from './journal.js';

/** Every body's config: the journal it writes to. */
export interface JournalConfig {
  /** The {@link Journal}'s buffer. */
  readonly journal: SharedArrayBuffer;
}

/** How often a thread polls a journal cell, in seconds (a short sleep between looks). */
const POLL_SECONDS = 0.0001;

/** Sleep-poll until `ok(cell value)` holds. */
function* awaitCell(
  sys: Sys,
  j: Journal,
  cell: number,
  ok: (v: number) => boolean,
): Generator<KernelCall, void, unknown> {
  while (!ok(j.get(cell))) yield* sys.sleep(sys.hz * POLL_SECONDS);
}

/** Read the word at `vaddr`, or the access error's name. */
function* peek(sys: Sys, vaddr: number): Generator<KernelCall, number | string, unknown> {
  const v = yield* sys.mem.access(vaddr, 4, 'read');
  return 'error' in v ? v.error : v.words[0]!;
}

/** Write a word at `vaddr`; returns 'ok' or the access error's name. */
function* poke(
  sys: Sys,
  vaddr: number,
  value: number,
  kind: Access = 'write',
): Generator<KernelCall, string, unknown> {
  const v = yield* sys.mem.access(vaddr, 4, kind);
  if ('error' in v) return v.error;
  v.words[0] = value;
  return 'ok';
}

/** A map or grant item of one fpage. */
export function mapItem(
  kind: 'map' | 'grant',
  base: number,
  sizeLog2: number,
  rights: Rights,
  sendBase: number,
): MapGrantItem {
  return { kind, fpage: { base, sizeLog2, rights }, sendBase };
}

const RW: Rights = { read: true, write: true, execute: false };
const WO: Rights = { read: false, write: true, execute: false };
const msg = (label: number, ...words: number[]): Message => ({ label, words });

// ---------------------------------------------------------------------------------------------
// Generic bodies

/** Config of {@link receiver}. */
export interface ReceiverConfig extends JournalConfig {
  /** Stream its results go to. */
  readonly stream: string;
  /** Partner to receive from; default `ANY_THREAD`. */
  readonly from?: ThreadId;
  /** Receives to do; default 1. */
  readonly count?: number;
  /** Timeout of each receive; default never. */
  readonly timeout?: Timeout;
  /** Receive window; default none. */
  readonly window?: Fpage;
}

/** Receives `count` times and appends each result. */
export const receiver = (c: ReceiverConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (let i = 0; i < (c.count ?? 1); i++) {
      j.append(c.stream, yield* sys.ipc.receive(c.from ?? ANY_THREAD, c.timeout, c.window));
    }
  };

/** Config of {@link sender}. */
export interface SenderConfig extends JournalConfig {
  /** Stream its results go to. */
  readonly stream: string;
  /** Destination. */
  readonly to: ThreadId;
  /** Messages to send, in order. */
  readonly messages: readonly Message[];
}

/** Sends each message (timeout never) and appends each result. */
export const sender = (c: SenderConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (const m of c.messages) j.append(c.stream, yield* sys.ipc.send(c.to, m));
  };

/** Sleeps forever. */
export const sleepForever = (): ThreadBody =>
  function* (sys) {
    yield* sys.sleep(NEVER);
  };

/** Sleeps `seconds`, then exits. */
export const sleepThenExit = (c: { readonly seconds: number }): ThreadBody =>
  function* (sys) {
    yield* sys.sleep(sys.hz * c.seconds);
  };

// ---------------------------------------------------------------------------------------------
// IPC

/** Serves calls forever, answering each word w with 2w (receive, then replyWait). */
export const doubler = (): ThreadBody =>
  function* (sys) {
    let r = yield* sys.ipc.receive(ANY_THREAD);
    for (;;) {
      if (!r.ok) {
        r = yield* sys.ipc.receive(ANY_THREAD);
        continue;
      }
      r = yield* sys.ipc.replyWait(r.from, msg(0, r.msg.words[0]! * 2));
    }
  };

/** Calls `server` with 1, 2, 3; appends the first word of each successful reply to `replies`. */
export const callThrice = (c: JournalConfig & { readonly server: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (let i = 1; i <= 3; i++) {
      const r = yield* sys.ipc.call(c.server, msg(1, i));
      if (r.ok) j.append('replies', r.msg.words[0]!);
    }
  };

/** Zero-timeout send, zero-timeout receive and a reply to `idle`, which never receives; results to `rs`. */
export const zeroTimeouts = (c: JournalConfig & { readonly idle: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    j.append('rs', yield* sys.ipc.send(c.idle, msg(0), ZERO));
    j.append('rs', yield* sys.ipc.receive(ANY_THREAD, ZERO));
    j.append('rs', yield* sys.ipc.reply(c.idle, msg(0)));
  };

/** Sends to a thread that does not exist, receives from itself, sends to `shortLived` (which exits); `error/phase` strings to `rs`. */
export const invalidPartners = (c: JournalConfig & { readonly shortLived: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (const r of [
      yield* sys.ipc.send(123_456, msg(0), ZERO),
      yield* sys.ipc.receive(sys.self, ZERO),
      yield* sys.ipc.send(c.shortLived, msg(0)), // blocks until `shortLived` exits
    ]) {
      j.append('rs', r.ok ? 'ok' : `${r.error}/${r.phase}`);
    }
  };

/**
 * `replyWait(nil)` with a 1 ms timeout, then sets cell `done`, then `replyWait(nil)` without
 * timeout; results to `rs`.
 */
export const replyWaitNil = (c: JournalConfig & { readonly done: number }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    j.append('rs', yield* sys.ipc.replyWait(NIL_THREAD, msg(0), sys.hz * 0.001));
    j.set(c.done, 1);
    j.append('rs', yield* sys.ipc.replyWait(NIL_THREAD, msg(0)));
  };

/** Waits until cell `cell` is set, then sends `message` to `to`. */
export const sendWhenCell = (
  c: JournalConfig & { readonly cell: number; readonly to: ThreadId; readonly message: Message },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* awaitCell(sys, j, c.cell, (v) => v !== 0);
    yield* sys.ipc.send(c.to, c.message);
  };

// ---------------------------------------------------------------------------------------------
// Memory

/**
 * Receives into `window`, appends 'ok' or the error to `rx`, then the word at
 * `window.base + offset` (or the access error).
 */
export const receiveThenPeek = (
  c: JournalConfig & { readonly window: Fpage; readonly offsets: readonly number[] },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const r = yield* sys.ipc.receive(ANY_THREAD, undefined, c.window);
    j.append('rx', r.ok ? 'ok' : r.error);
    for (const o of c.offsets) j.append('rx', yield* peek(sys, c.window.base + o));
  };

/**
 * Writes `values[i]` at `pokes[i]`, sends `to` the items, then appends the word at each of
 * `peeks` (or the access error) to `tx`.
 */
export const pokeSendPeek = (
  c: JournalConfig & {
    readonly to: ThreadId;
    readonly pokes: readonly (readonly [number, number])[];
    readonly items: readonly MapGrantItem[];
    readonly peeks: readonly number[];
  },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (const [vaddr, value] of c.pokes) yield* poke(sys, vaddr, value);
    yield* sys.ipc.send(c.to, { label: 0, words: [], items: c.items });
    for (const vaddr of c.peeks) j.append('tx', yield* peek(sys, vaddr));
  };

/** Access across two mappings, then within one; 'view' or the error to `out`. */
export const accessSpan = (c: JournalConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const both = yield* sys.mem.access(0x10ff0, 0x20, 'read');
    j.append('out', 'error' in both ? both.error : 'view');
    const one = yield* sys.mem.access(0x11000, 0x1000, 'write');
    j.append('out', 'error' in one ? one.error : 'view');
  };

/** Receives into `window`, then writes its first word; 'ok' or the error to `rx`. */
export const receiveThenPoke = (c: JournalConfig & { readonly window: Fpage }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* sys.ipc.receive(ANY_THREAD, undefined, c.window);
    j.append('rx', yield* poke(sys, c.window.base, 5));
  };

/** Cells of the unmap-rights case. */
const UNMAP_STEP = 0;

/**
 * Unmap-rights case, receiver: takes the mapping, tells the sender with a call, then (after the
 * sender revoked write) reads and writes through it; to `out`; sets the step cell.
 */
export const unmapRightsReceiver = (c: JournalConfig & { readonly window: Fpage }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const r = yield* sys.ipc.receive(ANY_THREAD, undefined, c.window);
    if (!r.ok) return;
    // Tell the sender we have it; its reply comes after it has revoked write.
    yield* sys.ipc.call(r.from, { label: 1, words: [] });
    j.append('out', yield* peek(sys, c.window.base));
    j.append('out', yield* poke(sys, c.window.base, 1));
    j.set(UNMAP_STEP, 1);
  };

/**
 * Unmap-rights case, sender: maps its page to `to`, revokes write from the derived mapping
 * only, then with the flush flag from its own too; to `out`.
 */
export const unmapRightsSender = (c: JournalConfig & { readonly to: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* poke(sys, 0x10000, 42);
    yield* sys.ipc.send(c.to, { label: 0, words: [], items: [mapItem('map', 0x10000, 12, RW, 0)] });
    const r = yield* sys.ipc.receive(c.to);
    const fp = { base: 0x10000, sizeLog2: 12, rights: WO };
    yield* sys.mem.unmap(fp, false);
    if (r.ok) yield* sys.ipc.reply(c.to, { label: 0, words: [] });
    yield* awaitCell(sys, j, UNMAP_STEP, (v) => v !== 0);
    j.append('out', yield* poke(sys, 0x10000, 43)); // own mapping untouched without flush
    yield* sys.mem.unmap(fp, true);
    j.append('out', yield* peek(sys, 0x10000));
    j.append('out', yield* poke(sys, 0x10000, 44));
  };

/** Cell of the three-space memory cases (remap, recursive unmap): how far they are. */
const PHASE = 0;

/**
 * Remap case, `c`: receives b's read-only mapping, sets phase 1, waits for phase 2 (b has its
 * upgrade), then reads through its mapping; to `out`.
 */
export const remapLeaf = (c: JournalConfig & { readonly window: Fpage }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* sys.ipc.receive(ANY_THREAD, undefined, c.window);
    j.set(PHASE, 1);
    yield* awaitCell(sys, j, PHASE, (v) => v !== 1);
    j.append('out', yield* peek(sys, c.window.base));
  };

/**
 * Remap case, `b`: receives a's page read-only, maps it on to `leaf`, receives the same page
 * again read-write and writes it; to `out`; sets phase 2.
 */
export const remapMiddle = (
  c: JournalConfig & { readonly window: Fpage; readonly leaf: ThreadId },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const ro: Rights = { read: true, write: false, execute: false };
    yield* sys.ipc.receive(ANY_THREAD, undefined, c.window); // read-only from a
    yield* sys.ipc.send(c.leaf, {
      label: 0,
      words: [],
      items: [mapItem('map', c.window.base, 12, ro, 0)],
    });
    yield* sys.ipc.receive(ANY_THREAD, undefined, c.window); // the same page again, read-write
    j.append('out', yield* poke(sys, c.window.base, 9));
    j.set(PHASE, 2);
  };

/** Remap case, `a`: maps its page read-only to `middle`, waits for phase 1, maps it again read-write. */
export const remapRoot = (c: JournalConfig & { readonly middle: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const ro: Rights = { read: true, write: false, execute: false };
    yield* sys.ipc.send(c.middle, {
      label: 0,
      words: [],
      items: [mapItem('map', 0x10000, 12, ro, 0)],
    });
    yield* awaitCell(sys, j, PHASE, (v) => v !== 0);
    yield* sys.ipc.send(c.middle, {
      label: 0,
      words: [],
      items: [mapItem('map', 0x10000, 12, RW, 0)],
    });
  };

/**
 * A pager that answers the first fault without a mapping and later ones with its page at
 * 0x10000 (holding 31); fault addresses to `faults`.
 */
export const stubbornPager = (c: JournalConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* poke(sys, 0x10000, 31);
    let faults = 0;
    for (;;) {
      const r: IpcResult = yield* sys.ipc.receive(ANY_THREAD);
      if (!r.ok || r.msg.label !== PAGE_FAULT_LABEL) continue;
      faults++;
      j.append('faults', r.msg.words[0]!);
      const items = faults === 1 ? [] : [mapItem('map', 0x10000, 12, RW, r.msg.words[0]!)];
      yield* sys.ipc.reply(r.from, { label: 0, words: [], items });
    }
  };

/** A pager that refuses every fault (`PAGE_FAULT_REFUSED_LABEL`); one record per fault to `faults`. */
export const refusingPager = (c: JournalConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD);
      if (!r.ok) continue;
      j.append('faults', 1);
      yield* sys.ipc.reply(r.from, { label: PAGE_FAULT_REFUSED_LABEL, words: [] });
    }
  };

/** Reads the word at `vaddr` (or the access error) to `out`. */
export const peekOnce = (c: JournalConfig & { readonly vaddr: number }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    j.append('out', yield* peek(sys, c.vaddr));
  };

/** Recursive-unmap case, `c`: receives b's mapping, sets phase 1, waits for phase 2, reads; to `out`. */
export const unmapTreeLeaf = remapLeaf;

/** Recursive-unmap case, `b`: receives a's mapping, maps it on to `leaf`, waits for phase 2, reads; to `out`. */
export const unmapTreeMiddle = (
  c: JournalConfig & { readonly window: Fpage; readonly leaf: ThreadId },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* sys.ipc.receive(ANY_THREAD, undefined, c.window);
    yield* sys.ipc.send(c.leaf, {
      label: 0,
      words: [],
      items: [mapItem('map', c.window.base, 12, RW, 0)],
    });
    yield* awaitCell(sys, j, PHASE, (v) => v === 2);
    j.append('out', yield* peek(sys, c.window.base));
  };

/**
 * Recursive-unmap case, `a`: maps its page to `middle`, waits for phase 1, unmaps it (count to
 * `out`), sets phase 2, writes its own page (to `out`).
 */
export const unmapTreeRoot = (c: JournalConfig & { readonly middle: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* sys.ipc.send(c.middle, {
      label: 0,
      words: [],
      items: [mapItem('map', 0x10000, 12, RW, 0)],
    });
    yield* awaitCell(sys, j, PHASE, (v) => v !== 0);
    j.append('out', yield* sys.mem.unmap({ base: 0x10000, sizeLog2: 12, rights: RW }, false));
    j.set(PHASE, 2);
    j.append('out', yield* poke(sys, 0x10000, 1));
  };

// ---------------------------------------------------------------------------------------------
// Interrupts

/** Cells of the interrupt cases. */
const IRQ_THREAD = 0;
const IRQ_ACKS = 1;

/**
 * Attaches `line` and handles its interrupts forever: appends each message to `irq`, then waits
 * until the main thread (the device) has lowered the line — it counts that in cell 1 — and
 * acknowledges with `replyWait`.
 */
export const interruptHandler = (c: JournalConfig & { readonly line: number }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const a = yield* sys.irq.attach(c.line);
    if (!a.ok) return;
    j.set(IRQ_THREAD, a.irqThread);
    let r = yield* sys.ipc.receive(a.irqThread);
    for (let n = 1; ; n++) {
      j.append('irq', r);
      yield* awaitCell(sys, j, IRQ_ACKS, (v) => v >= n);
      r = yield* sys.ipc.replyWait(a.irqThread, { label: 0, words: [] });
    }
  };

/** Cell the device side increments after lowering the line (see {@link interruptHandler}). */
export const INTERRUPT_ACK_CELL = IRQ_ACKS;
/** Cell where interrupt bodies publish the interrupt thread's id. */
export const INTERRUPT_THREAD_CELL = IRQ_THREAD;

/** Cell the stranger sets once it has replied. */
const STRANGER_DONE = 2;

/**
 * Attaches `line`, replies to its interrupt thread with nothing outstanding (result to `rs`),
 * publishes the interrupt thread, and stays attached until the stranger has replied too.
 */
export const idleHandler = (c: JournalConfig & { readonly line: number }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    const a = yield* sys.irq.attach(c.line);
    if (!a.ok) return;
    j.append('rs', yield* sys.ipc.reply(a.irqThread, { label: 0, words: [] }));
    j.set(IRQ_THREAD, a.irqThread);
    yield* awaitCell(sys, j, STRANGER_DONE, (v) => v !== 0);
  };

/** Waits until an interrupt thread is published, then replies to it (result to `rs`). */
export const strangerReply = (c: JournalConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* awaitCell(sys, j, IRQ_THREAD, (v) => v !== 0);
    j.append('rs', yield* sys.ipc.reply(j.get(IRQ_THREAD), { label: 0, words: [] }));
    j.set(STRANGER_DONE, 1);
  };

// ---------------------------------------------------------------------------------------------
// Preemption control

/** Cells of the latch cases: how far the sleeper and the waker are. */
const READY = 0;
const SENT = 1;

/**
 * Latch sleeper: opens a window (if `window`), says it is ready, and is busy (sleep-polling
 * stands for "between announcing sleep and blocking") until the waker has tried; then appends
 * `preempted()` and the result of a receive with a 2 ms timeout to `seen`.
 */
export const latchSleeper = (c: JournalConfig & { readonly window: boolean }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    if (c.window) sys.preemption.begin();
    j.set(READY, 1);
    yield* awaitCell(sys, j, SENT, (v) => v !== 0);
    j.append('seen', sys.preemption.preempted());
    j.append('seen', yield* sys.ipc.receive(ANY_THREAD, sys.hz * 0.002));
    if (c.window) sys.preemption.end();
  };

/**
 * Latch waker: once the sleeper is ready, sends it a message with `timeout` (or replies to
 * it); result to `sent`. It marks the attempt in the sent cell right after a zero-timeout
 * operation, and right before a send that may block (that one can only finish when the sleeper
 * receives; the store and the kernel call happen in one step of this thread).
 */
export const latchWaker = (
  c: JournalConfig & { readonly to: ThreadId; readonly timeout: Timeout; readonly reply: boolean },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    yield* awaitCell(sys, j, READY, (v) => v !== 0);
    const m = { label: 1, words: [] };
    const mayBlock = !c.reply && c.timeout !== ZERO;
    if (mayBlock) j.set(SENT, 1);
    j.append(
      'sent',
      c.reply ? yield* sys.ipc.reply(c.to, m) : yield* sys.ipc.send(c.to, m, c.timeout),
    );
    j.set(SENT, 1);
  };

/** Answers one call with word 7. */
export const answerOnce = (): ThreadBody =>
  function* (sys) {
    const r = yield* sys.ipc.receive(ANY_THREAD);
    if (r.ok) yield* sys.ipc.reply(r.from, { label: 0, words: [7] });
  };

/**
 * Opens a window, says it is ready, waits until the waker's zero-timeout send has failed, then
 * appends `preempted()` and the result of a call to `server` to `got`.
 */
export const latchedCaller = (c: JournalConfig & { readonly server: ThreadId }): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    sys.preemption.begin();
    j.set(READY, 1);
    yield* awaitCell(sys, j, SENT, (v) => v !== 0);
    j.append('got', sys.preemption.preempted());
    j.append('got', yield* sys.ipc.call(c.server, { label: 1, words: [] }));
    sys.preemption.end();
  };

/**
 * Each time the ready cell reaches 1, 2, ... `times`, sends `to` a zero-timeout message and
 * sets the sent cell to the same number.
 */
export const zeroTimeoutWaker = (
  c: JournalConfig & { readonly to: ThreadId; readonly times: number },
): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    for (let n = 1; n <= c.times; n++) {
      yield* awaitCell(sys, j, READY, (v) => v >= n);
      yield* sys.ipc.send(c.to, { label: 1, words: [] }, ZERO);
      j.set(SENT, n);
    }
  };

/**
 * Window bookkeeping: a miss inside a window latches, `begin()` clears it, a miss with the
 * window closed does not latch; `preempted()` after each step to `seen`.
 */
export const windowBookkeeping = (c: JournalConfig): ThreadBody =>
  function* (sys) {
    const j = new Journal(c.journal);
    sys.preemption.begin();
    j.set(READY, 1);
    yield* awaitCell(sys, j, SENT, (v) => v >= 1); // the first zero-timeout send fails here: latched
    j.append('seen', sys.preemption.preempted());
    sys.preemption.begin();
    j.append('seen', sys.preemption.preempted());
    sys.preemption.end();
    j.set(READY, 2);
    yield* awaitCell(sys, j, SENT, (v) => v >= 2); // the second one fails here: window closed
    sys.preemption.begin();
    j.append('seen', sys.preemption.preempted());
    sys.preemption.end();
  };

// ---------------------------------------------------------------------------------------------
// Failures

/** Sleeps briefly, then throws. */
export const throwAfterSleep = (): ThreadBody =>
  function* (sys) {
    yield* sys.sleep(sys.hz * 0.0001);
    throw new Error('bug');
  };

/** Calls `sys.ipc.send` without `yield*` (a bug: the send never happens), then sleeps. */
export const forgetsYield = (c: { readonly to: ThreadId }): ThreadBody =>
  function* (sys) {
    sys.ipc.send(c.to, { label: 0, words: [] });
    yield* sys.sleep(sys.hz * 0.0001);
  };

/**
 * Every conformance body by export name: what an engine that builds bodies in the main thread
 * (the sim) looks a `ConformanceComponent` up in. A worker imports the same names from the
 * module instead.
 */
export const CONFORMANCE_BODIES = {
  receiver,
  sender,
  sleepForever,
  sleepThenExit,
  doubler,
  callThrice,
  zeroTimeouts,
  invalidPartners,
  replyWaitNil,
  sendWhenCell,
  receiveThenPeek,
  pokeSendPeek,
  accessSpan,
  receiveThenPoke,
  unmapRightsReceiver,
  unmapRightsSender,
  remapLeaf,
  remapMiddle,
  remapRoot,
  stubbornPager,
  refusingPager,
  peekOnce,
  unmapTreeLeaf,
  unmapTreeMiddle,
  unmapTreeRoot,
  interruptHandler,
  idleHandler,
  strangerReply,
  latchSleeper,
  latchWaker,
  answerOnce,
  latchedCaller,
  zeroTimeoutWaker,
  windowBookkeeping,
  throwAfterSleep,
  forgetsYield,
} as const;
