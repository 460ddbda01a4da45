/**
 * The socket layer of the monolithic baseline, served by the in-kernel stack thread: a user
 * process's `recvfrom`/`sendto` are IPC calls into the kernel domain, and the datagram payload
 * moves through a small *user buffer* region mapped into both the caller's space and the kernel
 * domain's (a monolithic kernel reads and writes user memory directly).
 *
 * - `recvfrom` is a call whose reply is deferred until a datagram is queued: the stack replies
 *   when it queues one, which replaces a separate wake-up. The kernel copies the payload into the
 *   user buffer before replying (one copy per echo, charged per byte).
 * - `sendto` is a call: the stack reads the payload from the user buffer and runs UDP/IP output
 *   down to the driver's transmit queue in the kernel (its copy into a transmit buffer is the
 *   stack's own), then replies.
 *
 * Costs: a system call is not an L4 IPC, and the kernel domain is a global space (entering it
 * switches no address space). The kernel model charges each IPC send phase (`ipcCycles`: the
 * call and the reply); this layer charges the rest, so that
 * - a call answered at once (`sendto`; `recvfrom` with a datagram queued) costs
 *   max(`syscallCycles`, 2 × `ipcCycles`): the system call, or the two IPCs if they cost more
 *   (on the Pentium 4 table 2 × 266 = 532 > 432 cycles: 100 cycles over, documented in
 *   `docs/reproduction.md`);
 * - a `recvfrom` that waits costs `syscallCycles` for the call and `wakeupCycles` for the reply
 *   that wakes the caller (the scheduler's wake-up in place of a separate wake-up IPC);
 * - the copy to user space costs `copyPerByte` per byte;
 * - the baseline has no notification suppression: the kernel wakes the process for every
 *   datagram it queues, so a datagram queued while the process is not blocked in `recvfrom`
 *   still costs `wakeupCycles` (counted in `wakeupsMissed`).
 *
 * Bad requests (an unknown socket, a length outside the user buffer) are answered with an error
 * reply and counted, never thrown.
 *
 * @module
 */
import type { KernelCall, Message, Sys, ThreadId } from '@udf/l4-kernel';
import { ZERO } from '@udf/l4-kernel';
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
}

/** Counters of the socket layer (on the stack's counters page). */
export interface SocketLayerStats {
  /** `recvfrom` calls answered. */
  recvfrom: number;
  /** `sendto` calls answered with success. */
  sendto: number;
  /** Of the `recvfrom` calls, how many waited for a datagram (their reply was the wake-up). */
  wakeups: number;
  /** Wake-ups for datagrams queued while the process was not waiting (paid all the same). */
  wakeupsMissed: number;
  /** Bytes copied to user space. */
  copiedBytes: number;
  /** Requests refused (bad socket, bad length, unknown label). */
  refused: number;
  /** Replies that found the caller gone. */
  replyFailures: number;
}

/** The kernel side of the socket interface, inside a stack thread. */
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
  /** The caller blocked in `recvfrom` (0: none). */
  private waiting: ThreadId = 0;
  private next = 0;
  /** Datagrams queued and already woken for. */
  private seen = 0;

  /**
   * @param stacks - the stacks to bind the port on
   * @param user - the user buffer's bytes as the kernel domain maps them
   * @param config - the plain configuration
   */
  constructor(
    stacks: readonly Stack[],
    private readonly user: Uint8Array,
    private readonly config: StackSocketConfig,
  ) {
    this.sockets = stacks.map((s) =>
      s.udpBind(config.port, { queueLength: config.queueDatagrams }),
    );
  }

  /** True for the labels this layer serves. */
  static serves(label: number): boolean {
    return label === SOCKET_RECVFROM_LABEL || label === SOCKET_SENDTO_LABEL;
  }

  /** After a stack pass: answer a waiting `recvfrom` if a datagram is queued (the wake-up). */
  *poll(sys: Sys): Generator<KernelCall, boolean, unknown> {
    const c = this.config;
    let fresh = this.queued() - this.seen;
    let woke = false;
    if (fresh > 0 && this.waiting !== 0 && this.take(sys)) {
      fresh--;
      const caller = this.waiting;
      this.waiting = 0;
      this.stats.wakeups++;
      sys.charge('Kernel', Math.max(0, c.wakeupCycles - c.ipcCycles));
      yield* this.answer(sys, caller, this.reply);
      woke = true;
    }
    for (; fresh > 0; fresh--) {
      sys.charge('Kernel', c.wakeupCycles);
      this.stats.wakeupsMissed++;
    }
    this.seen = this.queued();
    return woke;
  }

  private queued(): number {
    let n = 0;
    for (const s of this.sockets) n += s.queued;
    return n;
  }

  /** Serve one request received from `from`; true if it queued a frame for transmission. */
  *handle(sys: Sys, from: ThreadId, msg: Message): Generator<KernelCall, boolean, unknown> {
    const c = this.config;
    if (msg.label === SOCKET_RECVFROM_LABEL) {
      if (this.take(sys)) {
        sys.charge('Socket', Math.max(0, c.syscallCycles - 2 * c.ipcCycles));
        yield* this.answer(sys, from, this.reply);
      } else {
        // Deferred: the reply is the wake-up (see poll); the call itself is the system call.
        sys.charge('Socket', Math.max(0, c.syscallCycles - c.ipcCycles));
        this.waiting = from;
      }
      return false;
    }
    sys.charge('Socket', Math.max(0, c.syscallCycles - 2 * c.ipcCycles));
    if (msg.label === SOCKET_SENDTO_LABEL) {
      const [index = -1, length = -1, ip = 0, port = 0] = msg.words;
      const sock = this.sockets[index];
      if (sock === undefined || !(length >= 0 && length <= this.user.length)) {
        this.stats.refused++;
        yield* this.answer(sys, from, this.refusal);
        return false;
      }
      if (!sock.sendTo(this.user, ip >>> 0, port, 0, length)) {
        yield* this.answer(sys, from, this.refusal);
        return false;
      }
      this.stats.sendto++;
      this.words[0] = index;
      this.words[1] = length;
      this.words[2] = 0;
      this.words[3] = 0;
      yield* this.answer(sys, from, this.reply);
      return true;
    }
    this.stats.refused++;
    yield* this.answer(sys, from, this.refusal);
    return false;
  }

  /** Dequeue one datagram (round robin over the sockets) into the user buffer and the reply. */
  private take(sys: Sys): boolean {
    const d = this.datagram;
    const n = this.sockets.length;
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
  }

  private *answer(sys: Sys, to: ThreadId, msg: Message): Generator<KernelCall, void, unknown> {
    const r = yield* sys.ipc.send(to, msg, ZERO);
    if (!r.ok) this.stats.replyFailures++;
  }
}
