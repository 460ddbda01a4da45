/**
 * The socket layer of the monolithic baseline: a user process's `recvfrom`/`sendto` are IPC
 * calls into the kernel domain, served by the process's *kernel half* — a kernel-domain thread
 * at the process's own priority (Linux runs a system call in the calling process's context, not
 * in the softirq/stack context). The kernel half shares the stack's socket objects with the
 * stack thread (threads of one domain share its heap): the stack thread builds this layer and
 * publishes it (see {@link publishSocketLayer}); the kernel half finds it by a plain key. The
 * datagram payload moves through a small *user buffer* region mapped into both the caller's
 * space and the kernel domain's (a monolithic kernel reads and writes user memory directly).
 *
 * - `recvfrom` (in the kernel half): with a datagram queued, copy it into the user buffer and
 *   reply; otherwise block (a closed receive from the stack thread) until the stack queues one:
 *   the stack thread then wakes the kernel half, which copies and replies. The caller waits for
 *   the reply from the thread it called.
 * - `sendto` (in the kernel half): read the payload from the user buffer, run UDP/IP output
 *   down to the driver's transmit queue, reply. The driver is kicked (receive buffers re-posted,
 *   the driver woken if asleep) once, when the kernel half next blocks in `recvfrom`, not per
 *   `sendto`: frames a process sends in one run go out with one kick, as the pre-IPC bridge
 *   did (it kicked after draining the queue). The driver is a thread here, where Linux's
 *   transmit path writes the device register from the caller's context; a wake of the
 *   higher-priority driver thread per `sendto` cost a driver pass and a transmit interrupt per
 *   frame (measured in `docs/reproduction.md`). The stack thread's own passes kick as before.
 *
 * Costs: a system call is not an L4 IPC, and the kernel domain is a global space (entering it
 * switches no address space). The kernel model charges each IPC send phase (`ipcCycles`); this
 * layer charges the rest, so that
 * - a call answered at once (`sendto`; `recvfrom` with a datagram queued) costs
 *   max(`syscallCycles`, 2 × `ipcCycles`): the system call, or the two IPCs if they cost more
 *   (on the Pentium 4 table 2 × 266 = 532 > 432 cycles: 100 cycles over, documented in
 *   `docs/reproduction.md`);
 * - a `recvfrom` that waits costs `syscallCycles` for the call (its IPC plus the rest) and
 *   max(`wakeupCycles`, 2 × `ipcCycles`) for the wake-up and the reply together: the stack's
 *   wake-up IPC to the kernel half and the kernel half's reply to the caller are both charged by
 *   the kernel model, the stack tops them up to the scheduler's wake-up (on the Pentium 4 table
 *   600 − 2 × 266 = 68 cycles), so the wake-up costs what the reply-as-wake-up cost before;
 * - the copy to user space costs `copyPerByte` per byte;
 * - the baseline has no notification suppression: the kernel wakes the process for every
 *   datagram it queues, so a datagram queued while the process is not blocked in `recvfrom`
 *   still costs `wakeupCycles` (counted in `wakeupsMissed`).
 * Work the kernel half does on the stack's objects (UDP/IP output, dequeuing) is charged to the
 * kernel half (see {@link SocketLayerHooks.bill}).
 *
 * Bad requests (an unknown socket, a length outside the user buffer) are answered with an error
 * reply and counted, never thrown.
 *
 * @module
 */
import {
  ANY_THREAD,
  type KernelCall,
  type Message,
  NEVER,
  type Sys,
  type ThreadBody,
  type ThreadId,
  ZERO,
} from '@udf/l4-kernel';
import { LwipError } from '../error.js';
import type { Stack } from '../iface/stack.js';
import { UdpDatagram, type UdpSocket } from './udp.js';

/** IPC label of a `recvfrom` call: words `[]`. */
export const SOCKET_RECVFROM_LABEL = 0x5352;
/** IPC label of a `sendto` call: words `[socket, length, dstIp, dstPort]`. */
export const SOCKET_SENDTO_LABEL = 0x5353;
/** Label of a successful reply; a `recvfrom` reply carries `[socket, length, srcIp, srcPort]`. */
export const SOCKET_OK_LABEL = 0x534f;
/** Label of a refused request (bad socket, bad length, datagram dropped at once). */
export const SOCKET_ERROR_LABEL = 0x5345;
/** Label of the stack thread's wake-up of a kernel half blocked in `recvfrom`. */
export const SOCKET_WAKE_LABEL = 0x5357;
/** Label of the kernel half's start-up call to the stack thread (answered once the layer exists). */
export const SOCKET_ATTACH_LABEL = 0x5341;

/** Plain configuration of the socket layer in a stack thread. */
export interface StackSocketConfig {
  /** UDP port every stack binds for the user process. */
  readonly port: number;
  /** Datagrams each socket's receive queue holds (a socket receive buffer). */
  readonly queueDatagrams: number;
  /** The user buffer as the kernel domain sees it. */
  readonly userBuffer: { readonly vaddr: number; readonly bytes: number };
  /** Cycles per byte of the copy to user space (`recvfrom`). */
  readonly copyPerByte: number;
  /** Cycles of a system call's entry and exit. */
  readonly syscallCycles: number;
  /** Cycles of waking a process blocked in `recvfrom` (the scheduler's wake-up). */
  readonly wakeupCycles: number;
  /** Cycles the kernel model charges per IPC send phase (what the costs above already include). */
  readonly ipcCycles: number;
  /** Key under which the stack thread publishes the layer for its kernel half (unique per domain). */
  readonly key: string;
}

/** Counters of the socket layer (on the stack's counters page). */
export interface SocketLayerStats {
  /** `recvfrom` calls answered. */
  recvfrom: number;
  /** `sendto` calls answered with success. */
  sendto: number;
  /** Of the `recvfrom` calls, how many waited for a datagram (woken by the stack). */
  wakeups: number;
  /** Wake-ups for datagrams queued while the process was not waiting (paid all the same). */
  wakeupsMissed: number;
  /** Bytes copied to user space. */
  copiedBytes: number;
  /** Requests refused (bad socket, bad length, unknown label). */
  refused: number;
  /** Replies that found the caller gone, or wake-ups that found the kernel half not waiting. */
  replyFailures: number;
}

/** What the stack thread lends the layer so its kernel half can work on the stack's objects. */
export interface SocketLayerHooks {
  /** The stack thread (the kernel half's wake-ups come from it). */
  readonly stackThread: ThreadId;
  /**
   * Charge the stacks' own cycle charges to `sys` (the kernel half running on them) until called
   * with null (back to the stack thread). Only ever set around code that makes no kernel call.
   */
  bill(sys: Sys | null): void;
  /** Re-post receive buffers and wake the driver if needed, from `sys`'s context (after sendto). */
  kick(sys: Sys): Generator<KernelCall, void, unknown>;
}

/** The kernel side of the socket interface: the stack thread's part and the kernel half's. */
export class SocketLayer {
  /** Counters. */
  readonly stats: SocketLayerStats = {
    recvfrom: 0,
    sendto: 0,
    wakeups: 0,
    wakeupsMissed: 0,
    copiedBytes: 0,
    refused: 0,
    replyFailures: 0,
  };
  private readonly sockets: UdpSocket[];
  private readonly datagram = new UdpDatagram();
  private readonly words = [0, 0, 0, 0];
  private readonly reply: { label: number; words: number[] } = {
    label: SOCKET_OK_LABEL,
    words: this.words,
  };
  private readonly refusal: Message = Object.freeze({
    label: SOCKET_ERROR_LABEL,
    words: Object.freeze([]) as readonly number[],
  });
  private readonly wake: Message = Object.freeze({
    label: SOCKET_WAKE_LABEL,
    words: Object.freeze([]) as readonly number[],
  });
  /** The kernel half blocked in `recvfrom` for its caller (0: none). */
  private waiting: ThreadId = 0;
  private next = 0;
  /** A sendto queued frames the driver has not been kicked for. */
  private unkicked = false;
  /** Datagrams queued and already woken for. */
  private seen = 0;

  /**
   * @param stacks - the stacks to bind the port on
   * @param user - the user buffer's bytes as the kernel domain maps them
   * @param config - the plain configuration
   * @param hooks - the stack thread's identity, billing and driver kick
   */
  constructor(
    stacks: readonly Stack[],
    private readonly user: Uint8Array,
    private readonly config: StackSocketConfig,
    private readonly hooks: SocketLayerHooks,
  ) {
    this.sockets = stacks.map((s) =>
      s.udpBind(config.port, { queueLength: config.queueDatagrams }),
    );
  }

  /** True for the labels a kernel half serves. */
  static serves(label: number): boolean {
    return label === SOCKET_RECVFROM_LABEL || label === SOCKET_SENDTO_LABEL;
  }

  /**
   * In the stack thread, after a stack pass: wake the kernel half blocked in `recvfrom` if a
   * datagram is queued; charge a wake-up for every other datagram queued since. True if it woke.
   */
  *poll(sys: Sys): Generator<KernelCall, boolean, unknown> {
    const c = this.config;
    let fresh = this.queued() - this.seen;
    let woke = false;
    this.seen += fresh;
    if (fresh > 0 && this.waiting !== 0) {
      fresh--;
      const half = this.waiting;
      this.waiting = 0;
      this.stats.wakeups++;
      // The wake-up IPC and the kernel half's reply are charged by the kernel model.
      sys.charge('Kernel', Math.max(0, c.wakeupCycles - 2 * c.ipcCycles));
      const r = yield* sys.ipc.send(half, this.wake, ZERO);
      if (!r.ok) this.stats.replyFailures++;
      woke = true;
    }
    for (; fresh > 0; fresh--) {
      sys.charge('Kernel', c.wakeupCycles);
      this.stats.wakeupsMissed++;
    }
    return woke;
  }

  private queued(): number {
    let n = 0;
    for (const s of this.sockets) n += s.queued;
    return n;
  }

  /**
   * In the kernel half: serve one request received from `from`, blocking a `recvfrom` until a
   * datagram is queued. Returns once the caller has its reply.
   */
  *serve(sys: Sys, from: ThreadId, msg: Message): Generator<KernelCall, void, unknown> {
    const c = this.config;
    if (msg.label === SOCKET_RECVFROM_LABEL) {
      if (this.take(sys)) {
        sys.charge('Socket', Math.max(0, c.syscallCycles - 2 * c.ipcCycles));
        yield* this.answer(sys, from, this.reply);
        return;
      }
      // The call itself is the system call; the wake-up and the reply are charged by poll.
      sys.charge('Socket', Math.max(0, c.syscallCycles - c.ipcCycles));
      if (this.unkicked) {
        this.unkicked = false;
        yield* this.hooks.kick(sys);
      }
      // Re-check before blocking: the stack may have queued a datagram during the kick (its
      // wake-up then counted as missed). The receive sits in a preemption-control window: the
      // thread still consumes its charged cycles on the way in, so the stack may run and send
      // the wake-up before it blocks; that failed zero-timeout send (or the preemption) aborts
      // the receive, and the thread re-checks. No wake-up is lost.
      for (;;) {
        if (this.take(sys)) break;
        sys.preemption.begin();
        this.waiting = sys.self;
        const w = yield* sys.ipc.receive(this.hooks.stackThread, NEVER);
        sys.preemption.end();
        if (!w.ok) this.waiting = 0;
      }
      yield* this.answer(sys, from, this.reply);
      return;
    }
    sys.charge('Socket', Math.max(0, c.syscallCycles - 2 * c.ipcCycles));
    if (msg.label === SOCKET_SENDTO_LABEL) {
      const [index = -1, length = -1, ip = 0, port = 0] = msg.words;
      const sock = this.sockets[index];
      if (sock === undefined || !(length >= 0 && length <= this.user.length)) {
        this.stats.refused++;
        yield* this.answer(sys, from, this.refusal);
        return;
      }
      // UDP/IP output down to the driver's transmit queue, in the kernel half's context.
      this.hooks.bill(sys);
      const sent = sock.sendTo(this.user, ip >>> 0, port, 0, length);
      this.hooks.bill(null);
      if (!sent) {
        yield* this.answer(sys, from, this.refusal);
        return;
      }
      this.unkicked = true;
      this.stats.sendto++;
      this.words[0] = index;
      this.words[1] = length;
      this.words[2] = 0;
      this.words[3] = 0;
      yield* this.answer(sys, from, this.reply);
      return;
    }
    this.stats.refused++;
    yield* this.answer(sys, from, this.refusal);
  }

  /** Dequeue one datagram (round robin over the sockets) into the user buffer and the reply. */
  private take(sys: Sys): boolean {
    const d = this.datagram;
    const n = this.sockets.length;
    this.hooks.bill(sys);
    try {
      for (let k = 0; k < n; k++) {
        const i = (this.next + k) % n;
        const sock = this.sockets[i]!;
        if (!sock.recv(d)) continue;
        this.next = (i + 1) % n;
        const len = Math.min(d.payloadLength, this.user.length);
        sys.charge('Socket', this.config.copyPerByte * len);
        this.user.set(d.pbuf!.bytes.subarray(d.payloadOffset, d.payloadOffset + len));
        this.words[0] = i;
        this.words[1] = len;
        this.words[2] = d.srcIp;
        this.words[3] = d.srcPort;
        sock.release(d);
        if (this.seen > 0) this.seen--;
        this.stats.recvfrom++;
        this.stats.copiedBytes += len;
        return true;
      }
      return false;
    } finally {
      this.hooks.bill(null);
    }
  }

  private *answer(sys: Sys, to: ThreadId, msg: Message): Generator<KernelCall, void, unknown> {
    const r = yield* sys.ipc.send(to, msg, ZERO);
    if (!r.ok) this.stats.replyFailures++;
  }
}

/**
 * Socket layers by key, as their stack threads publish them. Module state: on the sim engine all
 * domains share one heap (keys are unique across domains); on the threads engine a domain is one
 * worker, so this map is the domain's own.
 */
const PUBLISHED = new Map<string, SocketLayer>();

/** Publish a stack thread's socket layer for its kernel half (see {@link socketKernelHalf}). */
export function publishSocketLayer(key: string, layer: SocketLayer): void {
  PUBLISHED.set(key, layer);
}

/** Plain configuration of {@link socketKernelHalf}. */
export interface SocketKernelHalfConfig {
  /** The key the stack thread published its layer under ({@link StackSocketConfig.key}). */
  readonly key: string;
  /** The stack thread of the same domain. */
  readonly stack: ThreadId;
}

const ATTACH: Message = Object.freeze({
  label: SOCKET_ATTACH_LABEL,
  words: Object.freeze([]) as readonly number[],
});

/**
 * The kernel half of the user echo process, as a component factory built from plain data: a
 * kernel-domain thread at the process's priority serving its `recvfrom`/`sendto` calls on the
 * stack thread's socket layer. At start it calls the stack thread once; the stack answers from
 * its main loop, after it has published the layer.
 * @throws LwipError (`CONFIG`) if the stack answers but published no layer under the key
 */
export function socketKernelHalf(config: SocketKernelHalfConfig): ThreadBody {
  return function* (sys: Sys): Generator<KernelCall, void, unknown> {
    const a = yield* sys.ipc.call(config.stack, ATTACH, NEVER);
    const layer = PUBLISHED.get(config.key);
    if (!a.ok || layer === undefined)
      throw new LwipError('CONFIG', `no socket layer published under "${config.key}"`);
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
      if (!r.ok) continue;
      yield* layer.serve(sys, r.from, r.msg);
    }
  };
}
