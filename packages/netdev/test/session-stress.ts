// The network driver session under stress on real threads (issue 16, "Tests"): the two ends of a
// `@udf/netdev` session in two protection domains of the threads engine, each running the loop
// its real user runs —
//
// client (as lwip-lite's stack thread): take returned receive buffers, check the frame, re-post
//   the buffer; reap transmit completions; submit new frames; every enqueue asks the session's
//   notifier (`shouldNotify(1)`), and at the end of the pass one zero-timeout IPC wakes the driver
//   if a decision said so (`SessionNetDevice.takeNotify`). Nothing moved: open the preemption
//   window, announce sleep in the session's bit, re-check (`hasWork`), block in a receive inside
//   the window, close it, cancel the announcement.
// driver (as the DP83820 driver's loop, with a loopback "device"): beat the heartbeat; take posted
//   receive buffers and submitted frames; the device copies each frame into the next receive
//   buffer and completes both (`deliverRx` + `completeTx`, counted in `pendingNotify`); at the end
//   of the pass one notifier decision for the session (`shouldNotify(pendingNotify)`) and a
//   zero-timeout IPC. Nothing moved: open the window, announce sleep, re-check with a whole pass,
//   block in a receive inside the window.
//
// Both receives carry a watchdog timeout instead of the real components' NEVER. A receive that
// times out while its side has work pending, after a peer took the wake request (the bit was
// cleared) and finished its send, is a lost wake-up: the peer decided to wake us, the IPC went
// nowhere, and we slept on. A wake request not taken yet, or a send still in flight, is counted
// as a stall instead: harmless if the peer was merely descheduled for the whole watchdog period,
// a lost wake-up of another kind if the sleep protocol is mis-ordered (see Count.stalled).
//
// Frames carry their sequence number (word 0) and its complement (word 1); the length is a
// function of the sequence number. The client checks every frame arrives once, in order, intact.
import { ANY_THREAD, type IpcResult, type Message, type Sys, ZERO } from '@udf/l4-kernel';
import {
  DESC_DATASPACE,
  DESC_LENGTH,
  DESC_OFFSET,
  DESC_STATUS,
  DESC_WORDS,
  DescStatus,
  NetSessionClient,
  NetSessionDriver,
  netSessionLayout,
} from '../src/index.js';

/** Int32 slots of the flags block (written with `Atomics`). */
export const Flag = {
  /** The client has every frame back: the driver may exit. */
  done: 0,
  /** A side stopped at a lost wake-up (negative control): the other exits too. */
  stop: 1,
  /** Wake-up sends each side has decided on (bumped before the send). */
  clientWakeDecided: 2,
  driverWakeDecided: 3,
  /** Wake-up sends each side has finished (bumped after the send returned). */
  clientWakeFinished: 4,
  driverWakeFinished: 5,
} as const;

/** Float64 slots of one side's counters (plain stores by their one writer, read after join). */
export const Count = {
  /** Client: frames received in order and intact. Driver: frames looped back. */
  packets: 0,
  /** Client: frames submitted. Driver: receive buffers taken. */
  taken: 1,
  /** Frames out of order, duplicated or missing (client). */
  disorder: 2,
  /** Frames whose payload or length was not what was sent (client). */
  damaged: 3,
  /** Descriptors that named no buffer of ours (either side). */
  corrupt: 4,
  /** Wake-up IPCs sent and accepted by the peer. */
  wakeSent: 5,
  /** Wake-up IPCs that found the peer not receiving (latched, or lost without the latch). */
  wakeFailed: 6,
  /** Notifier decisions not to wake (the peer was awake): the suppressed wake-ups. */
  suppressed: 7,
  /** Receives that returned a wake-up. */
  wakeReceived: 8,
  /** Times the thread blocked in its receive. */
  sleeps: 9,
  /** Sleeps given up at the re-check (work found, or the latch already set). */
  rollbacks: 10,
  /** Receives aborted by the preemption latch. */
  aborts: 11,
  /** Watchdog timeouts with work pending after a peer's finished wake-up: lost wake-ups. */
  lost: 12,
  /**
   * Watchdog timeouts with work pending while the peer had not taken the wake request, or had
   * not finished its send: a peer descheduled for the whole watchdog period between publishing
   * and waking, or (far likelier at seconds) a protocol-ordering bug — a sleeper announcing
   * after its re-check, a waker testing the bit before publishing. The test fails on these too.
   */
  stalled: 13,
  /** Watchdog timeouts with nothing pending (idle). */
  idleTimeouts: 14,
  /** Corruptions the session end itself counted (ring indices, notification bits). */
  sessionCorruptions: 15,
  /** Passes of the loop. */
  passes: 16,
  /** Wake-up decisions (the notifier's count; sent + failed when every decision is sent). */
  notifications: 17,
  /** Returns the driver could not make because a return ring was full (never, by sizing). */
  returnFull: 18,
  /** 1 once the side has exited its loop. */
  exited: 19,
  /** Wake-ups after which the next pass found nothing to do. */
  idleWakeups: 20,
  /**
   * Client: decisions to wake merged into one already due in the same pass (the driver announced
   * sleep, was found busy by its re-check, and announced again before the pass ended).
   */
  coalesced: 21,
  /** Client: 1 if its last wake-up, telling the driver to exit, was accepted. */
  exitWake: 22,
} as const;

const COUNT_SLOTS = 32;
const LINE = 64;

/** Where everything lives in the one shared control region, for a ring capacity. */
export function stressLayout(capacity: number) {
  const session = netSessionLayout(capacity);
  const flags = Math.ceil(session.byteLength / LINE) * LINE;
  const client = flags + LINE;
  const driver = client + COUNT_SLOTS * 8;
  return { session: 0, flags, client, driver, byteLength: driver + COUNT_SLOTS * 8 };
}

/** Configuration of both components (plain data). */
export interface SessionStressConfig {
  /** Frames to push through. */
  readonly packets: number;
  /** Descriptors per session ring (power of two). */
  readonly capacity: number;
  /** Receive buffers of the client (≤ capacity, so the driver's returns always fit). */
  readonly rxBuffers: number;
  /** Transmit buffers of the client (≤ capacity). */
  readonly txBuffers: number;
  /** Bytes per buffer (≥ 128: frames are 60–123 bytes). */
  readonly bufferSize: number;
  /** Id the descriptors name for the buffer dataspace. */
  readonly dataspaceId: number;
  /** Virtual address of the control region (session, flags, counters) in both domains. */
  readonly control: number;
  /** Virtual address of the buffer dataspace in both domains. */
  readonly buffers: number;
  /** Thread id of the peer. */
  readonly peer: number;
  /** Watchdog of each sleep, in cycles of the engine's clock. */
  readonly watchdogCycles: number;
  /** Stop at the first lost wake-up (the negative control). */
  readonly stopOnLost: boolean;
  /** Largest burst of frames one pass submits (client) or loops back (driver); random 1..burst. */
  readonly burst: number;
  /** Seed of the burst sizes. */
  readonly seed: number;
}

const WAKE: Message = Object.freeze({
  label: 0x4e53,
  words: Object.freeze([]) as readonly number[],
});

/** Length of frame `seq`: 60–123 bytes, so every copy length occurs. */
export const frameLength = (seq: number): number => 60 + (seq & 63);

function* attach(sys: Sys, config: SessionStressConfig) {
  const layout = stressLayout(config.capacity);
  const region = yield* sys.mem.access(config.control, layout.byteLength, 'write');
  if (!('buffer' in region)) throw new Error(`control region: ${region.error}`);
  const bytes = (config.rxBuffers + config.txBuffers) * config.bufferSize;
  const mem = yield* sys.mem.access(config.buffers, bytes, 'write');
  if (!('buffer' in mem)) throw new Error(`buffers: ${mem.error}`);
  const at = (o: number) => region.byteOffset + o;
  return {
    session: { buffer: region.buffer, byteOffset: at(layout.session), capacity: config.capacity },
    flags: new Int32Array(region.buffer, at(layout.flags), LINE / 4),
    client: new Float64Array(region.buffer, at(layout.client), COUNT_SLOTS),
    driver: new Float64Array(region.buffer, at(layout.driver), COUNT_SLOTS),
    bytes: new Uint8Array(mem.buffer, mem.byteOffset, bytes),
    words: new Uint32Array(mem.buffer, mem.byteOffset, bytes >> 2),
  };
}

/** A small seeded generator (xorshift32) for burst sizes: no allocation, reproducible. */
function bursts(seed: number, max: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return 1 + (s % max);
  };
}

/**
 * What a watchdog timeout means, read before this side withdraws its announcement: `lost` if
 * work is pending, the wake request was taken and every wake-up the peer decided on has been
 * sent; `stalled` if work is pending but the peer has not taken the request or not finished
 * waking us; `idle` otherwise.
 */
function classifyTimeout(
  hasWork: boolean,
  stillAsleep: boolean,
  flags: Int32Array,
  decided: number,
  finished: number,
): 'lost' | 'stalled' | 'idle' {
  if (!hasWork) return 'idle';
  if (stillAsleep) return 'stalled';
  return Atomics.load(flags, decided) === Atomics.load(flags, finished) ? 'lost' : 'stalled';
}

/** The client end: the stack thread's loop with a sequence-checking traffic source and sink. */
export function client(config: SessionStressConfig) {
  return function* (sys: Sys) {
    const m = yield* attach(sys, config);
    const net = new NetSessionClient(m.session);
    const c = m.client;
    const { flags, words } = m;
    const size = config.bufferSize;
    const rxCount = config.rxBuffers;
    const txBase = rxCount * size;
    const rxPosted = new Uint8Array(rxCount);
    const txFree = new Int32Array(config.txBuffers);
    let txFreeCount = 0;
    for (let i = config.txBuffers - 1; i >= 0; i--) txFree[txFreeCount++] = i;
    const d = new Uint32Array(DESC_WORDS);
    const burst = bursts(config.seed, config.burst);
    let notifyDue = false;
    /** As the stack's device: the decisions of one pass make one wake-up at its end. */
    const decide = () => {
      if (notifyDue) c[Count.coalesced]++;
      notifyDue = true;
    };
    let sent = 0;
    let expected = 0;
    let txOut = 0;
    let woken = false;

    const post = (slot: number): boolean => {
      const off = slot * size;
      words[off >> 2] = 0xffff_ffff; // a buffer delivered without a copy shows a stale frame
      words[(off >> 2) + 1] = 0xffff_ffff;
      if (!net.postRx(config.dataspaceId, off, size)) return false;
      rxPosted[slot] = 1;
      if (net.shouldNotify(1)) decide();
      return true;
    };
    for (let i = 0; i < rxCount; i++) post(i);

    const receive = (): number => {
      let n = 0;
      while (net.pollRx(d)) {
        const off = d[DESC_OFFSET]!;
        const slot = off / size;
        if (
          d[DESC_DATASPACE] !== config.dataspaceId ||
          !Number.isInteger(slot) ||
          slot >= rxCount ||
          rxPosted[slot] !== 1
        ) {
          c[Count.corrupt]++;
          continue;
        }
        rxPosted[slot] = 0;
        n++;
        const seq = words[off >> 2]!;
        if (
          d[DESC_STATUS] !== DescStatus.Ok ||
          words[(off >> 2) + 1] !== ~seq >>> 0 ||
          d[DESC_LENGTH] !== frameLength(seq)
        ) {
          c[Count.damaged]++;
          expected++;
        } else if (seq !== expected >>> 0) {
          // Resynchronise on what arrived, so one loss shows as one disorder, not all that follow.
          c[Count.disorder]++;
          expected = seq + 1;
        } else {
          c[Count.packets]++;
          expected++;
        }
        post(slot);
      }
      return n;
    };

    const reap = (): number => {
      let n = 0;
      while (net.pollTxDone(d)) {
        const slot = (d[DESC_OFFSET]! - txBase) / size;
        if (
          d[DESC_DATASPACE] !== config.dataspaceId ||
          !Number.isInteger(slot) ||
          slot < 0 ||
          slot >= config.txBuffers
        ) {
          c[Count.corrupt]++;
          continue;
        }
        if (d[DESC_STATUS] !== DescStatus.Ok) c[Count.damaged]++;
        txFree[txFreeCount++] = slot;
        txOut--;
        n++;
      }
      return n;
    };

    const submit = (): number => {
      let n = 0;
      const k = burst();
      while (n < k && sent < config.packets && txFreeCount > 0 && net.txSpace() > 0) {
        const slot = txFree[--txFreeCount]!;
        const off = txBase + slot * size;
        words[off >> 2] = sent;
        words[(off >> 2) + 1] = ~sent >>> 0;
        if (!net.submitTx(config.dataspaceId, off, frameLength(sent))) {
          txFree[txFreeCount++] = slot;
          break;
        }
        if (net.shouldNotify(1)) decide();
        sent++;
        txOut++;
        n++;
      }
      c[Count.taken] = sent;
      return n;
    };

    const finished = () => expected >= config.packets && txOut === 0;

    while (!finished() && Atomics.load(flags, Flag.stop) === 0) {
      c[Count.passes]++;
      const progress = receive() + reap() + submit();
      if (notifyDue || net.shouldNotifyOnDry()) {
        notifyDue = false;
        Atomics.add(flags, Flag.clientWakeDecided, 1);
        const r = yield* sys.ipc.send(config.peer, WAKE, ZERO);
        Atomics.add(flags, Flag.clientWakeFinished, 1);
        if (r.ok) c[Count.wakeSent]++;
        else c[Count.wakeFailed]++;
      }
      if (woken && progress === 0) c[Count.idleWakeups]++;
      woken = false;
      if (progress > 0 || finished()) continue;
      sys.preemption.begin();
      net.prepareSleep();
      if (net.hasWork() || sys.preemption.preempted()) {
        net.cancelSleep();
        sys.preemption.end();
        c[Count.rollbacks]++;
        continue;
      }
      c[Count.sleeps]++;
      const r: IpcResult = yield* sys.ipc.receive(ANY_THREAD, config.watchdogCycles);
      const stillAsleep = net.isAsleep();
      sys.preemption.end();
      net.cancelSleep();
      if (r.ok) {
        c[Count.wakeReceived]++;
        woken = true;
      } else if (r.error === 'aborted') c[Count.aborts]++;
      else if (r.error === 'timeout') {
        const what = classifyTimeout(
          net.hasWork(),
          stillAsleep,
          flags,
          Flag.driverWakeDecided,
          Flag.driverWakeFinished,
        );
        if (what === 'lost') {
          c[Count.lost]++;
          if (config.stopOnLost) Atomics.store(flags, Flag.stop, 1);
        } else if (what === 'stalled') c[Count.stalled]++;
        else c[Count.idleTimeouts]++;
      } else throw new Error(`client receive failed: ${r.error}`);
    }
    const s = net.stats();
    c[Count.suppressed] = s.suppressed;
    c[Count.notifications] = s.notifications;
    c[Count.sessionCorruptions] = s.corruptions + s.bitCorruptions;
    c[Count.exited] = 1;
    // Let the driver go: it sees `done` at its next pass or re-check, or when this wakes it.
    Atomics.store(flags, Flag.done, 1);
    const last = yield* sys.ipc.send(config.peer, WAKE, ZERO);
    if (last.ok) c[Count.exitWake] = 1;
  };
}

/** The driver end: the DP83820 driver's loop over a loopback device. */
export function driver(config: SessionStressConfig) {
  return function* (sys: Sys) {
    const m = yield* attach(sys, config);
    const net = new NetSessionDriver(m.session);
    const c = m.driver;
    const { flags, bytes } = m;
    const size = config.bufferSize;
    const txBase = config.rxBuffers * size;
    const txEnd = txBase + config.txBuffers * size;
    // The device's rings: receive buffers taken from the session, frames waiting to go out.
    const cap = config.capacity;
    const rxRing = new Uint32Array(cap);
    const txRing = new Uint32Array(cap * 2);
    let rxHead = 0;
    let rxTail = 0;
    let txHead = 0;
    let txTail = 0;
    const d = new Uint32Array(DESC_WORDS);
    const burst = bursts(config.seed ^ 0x5bd1_e995, config.burst);
    let pendingNotify = 0;
    let woken = false;

    /** Take posted receive buffers (validated) into the device's receive ring. */
    const takeRx = (): number => {
      let n = 0;
      while (rxTail - rxHead < cap && net.takeRxBuffer(d)) {
        const off = d[DESC_OFFSET]!;
        if (
          d[DESC_DATASPACE] !== config.dataspaceId ||
          off % size !== 0 ||
          off >= txBase ||
          d[DESC_LENGTH]! < size
        ) {
          c[Count.corrupt]++;
          if (!net.deliverRx(d[0]!, off, 0, DescStatus.OutOfRange)) c[Count.returnFull]++;
          else pendingNotify++;
          continue;
        }
        rxRing[rxTail++ & (cap - 1)] = off;
        c[Count.taken]++;
        n++;
      }
      return n;
    };

    /** Take submitted frames (validated) into the device's transmit ring. */
    const takeTx = (): number => {
      let n = 0;
      while (txTail - txHead < cap && net.takeTx(d)) {
        const off = d[DESC_OFFSET]!;
        const len = d[DESC_LENGTH]!;
        if (
          d[DESC_DATASPACE] !== config.dataspaceId ||
          off < txBase ||
          off >= txEnd ||
          (off - txBase) % size !== 0 ||
          len === 0 ||
          len > size
        ) {
          c[Count.corrupt]++;
          if (!net.completeTx(d[0]!, off, len, DescStatus.OutOfRange)) c[Count.returnFull]++;
          else pendingNotify++;
          continue;
        }
        const i = (txTail++ & (cap - 1)) * 2;
        txRing[i] = off;
        txRing[i + 1] = len;
        n++;
      }
      return n;
    };

    /** The loopback device: each frame into the next receive buffer; both completed. */
    const loop = (): number => {
      let n = 0;
      const k = burst();
      while (n < k && rxHead !== rxTail && txHead !== txTail) {
        if (net.rxReturnSpace() === 0 || net.txReturnSpace() === 0) {
          c[Count.returnFull]++;
          break;
        }
        const rx = rxRing[rxHead++ & (cap - 1)]!;
        const i = (txHead++ & (cap - 1)) * 2;
        const tx = txRing[i]!;
        const len = txRing[i + 1]!;
        bytes.copyWithin(rx, tx, tx + len);
        net.deliverRx(config.dataspaceId, rx, len, DescStatus.Ok);
        net.completeTx(config.dataspaceId, tx, len, DescStatus.Ok);
        pendingNotify += 2;
        n++;
      }
      c[Count.packets] += n;
      return n;
    };

    /** One pass of the driver's loop (heartbeat, take, device, notify); true if anything moved. */
    const work = function* (): Generator<unknown, boolean, unknown> {
      c[Count.passes]++;
      net.control.beat();
      const moved = takeRx() + takeTx() + loop();
      if (pendingNotify > 0) {
        const n = pendingNotify;
        pendingNotify = 0;
        if (net.shouldNotify(n)) {
          Atomics.add(flags, Flag.driverWakeDecided, 1);
          const r = yield* sys.ipc.send(config.peer, WAKE, ZERO);
          Atomics.add(flags, Flag.driverWakeFinished, 1);
          if (r.ok) c[Count.wakeSent]++;
          else c[Count.wakeFailed]++;
        }
      }
      return moved > 0;
    };

    const over = () => Atomics.load(flags, Flag.done) !== 0 || Atomics.load(flags, Flag.stop) !== 0;

    while (!over()) {
      const moved = yield* work();
      if (woken && !moved) c[Count.idleWakeups]++;
      woken = false;
      if (moved) continue;
      sys.preemption.begin();
      net.prepareSleep();
      if ((yield* work()) || sys.preemption.preempted() || over()) {
        sys.preemption.end();
        net.cancelSleep();
        c[Count.rollbacks]++;
        continue;
      }
      c[Count.sleeps]++;
      const r: IpcResult = yield* sys.ipc.receive(ANY_THREAD, config.watchdogCycles);
      const stillAsleep = net.isAsleep();
      sys.preemption.end();
      net.cancelSleep();
      if (r.ok) {
        c[Count.wakeReceived]++;
        woken = true;
      } else if (r.error === 'aborted') c[Count.aborts]++;
      else if (r.error === 'timeout') {
        // Work for the driver: a frame it can loop back now, or buffers it has not taken.
        const what = classifyTimeout(
          net.hasWork() && !over(),
          stillAsleep,
          flags,
          Flag.clientWakeDecided,
          Flag.clientWakeFinished,
        );
        if (what === 'lost') {
          c[Count.lost]++;
          if (config.stopOnLost) Atomics.store(flags, Flag.stop, 1);
        } else if (what === 'stalled') c[Count.stalled]++;
        else c[Count.idleTimeouts]++;
      } else throw new Error(`driver receive failed: ${r.error}`);
    }
    const s = net.stats();
    c[Count.suppressed] = s.suppressed;
    c[Count.notifications] = s.notifications;
    c[Count.sessionCorruptions] = s.corruptions + s.bitCorruptions;
    c[Count.exited] = 1;
    if (Atomics.load(flags, Flag.stop) !== 0) yield* sys.ipc.send(config.peer, WAKE, ZERO);
  };
}
