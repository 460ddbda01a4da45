/**
 * The stack as a component thread (paper section 5: lwIP and the UDP echo service in their own
 * protection domain, or linked with the driver). Engine-agnostic: it sees only `Sys`.
 *
 * Loop: poll every stack (receive, process, echo), reap transmit completions, re-post receive
 * buffers, wake the driver if the session's policy asks; when nothing moved, run the paper's
 * sleep protocol — announce "asleep" in the session's notification bit, re-check for work, and
 * block in an IPC receive *inside* a preemption-control window: if the thread was preempted
 * after announcing (so a wake-up may have been sent before it blocked and been lost), the kernel
 * aborts the receive and the thread rolls back and re-checks. No wake-up can be lost.
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
import { NetSessionClient, type NotifyPolicy, netSessionLayout } from '@udf/netdev';
import { UdpEchoService } from '../app/echo.js';
import { LwipError } from '../error.js';
import type { LwipCosts } from '../iface/costs.js';
import { Stack } from '../iface/stack.js';
import { PbufPool } from '../pbuf/pbuf.js';
import {
  publishSocketLayer,
  SOCKET_ATTACH_LABEL,
  SocketLayer,
  type StackSocketConfig,
} from '../socket/server.js';
import { SessionNetDevice } from './session.js';

/** One network session the stack thread serves: a netif on one NIC's driver session. */
export interface StackSessionConfig {
  /** Virtual address of the session region (the netdev rings) in the thread's space. */
  readonly region: number;
  /** Descriptors per session ring, as agreed with the driver. */
  readonly capacity: number;
  /** Virtual address where the session's buffer dataspace is attached. */
  readonly buffers: number;
  /** Id of that dataspace (what descriptors name). */
  readonly dataspaceId: number;
  /** Number of buffers in it; the first half receive, the second half transmit. */
  readonly bufferCount: number;
  /** Bytes per buffer. */
  readonly bufferSize: number;
  /** Interface MAC and IPv4 configuration. */
  readonly mac: string;
  readonly ip: string;
  readonly netmask?: string;
}

/** Cycle costs of the thread's own loop (categories `Notification`). */
export interface StackThreadCosts {
  /** Announcing sleep and re-checking the rings, per session. */
  readonly sleepPerSession: number;
  /** Deciding whether to wake the driver, per session per pass. */
  readonly notifyCheck: number;
}

/**
 * Default loop costs. Estimates: an atomic store plus two ring-index loads per session
 * (~25 cycles each on a Pentium 4 for a locked store and cache-hit loads, rounded up to cover
 * the branch and call overhead); not calibrated against any figure.
 */
export const STACK_THREAD_COSTS: StackThreadCosts = {
  sleepPerSession: 150,
  notifyCheck: 40,
};

/** Options of {@link stackThread}. */
export interface StackThreadOptions {
  /** Sessions to serve (clustered placement: one per NIC). */
  readonly sessions: readonly StackSessionConfig[];
  /** The driver thread to wake (resolved when first needed, so threads can be created in any order). */
  readonly driver: () => ThreadId;
  /** Serve UDP echo on this port on every stack (null: no echo service). Default 7. */
  readonly echoPort?: number | null;
  /** Overrides of the stack's per-packet costs. */
  readonly costs?: Partial<LwipCosts>;
  /** Overrides of the loop's costs. */
  readonly loopCosts?: Partial<StackThreadCosts>;
  /** When this end wakes the driver (default: only when asleep, the paper's policy). */
  readonly policy?: NotifyPolicy;
  /** Called once the stacks exist, so an assembler can read their counters. */
  readonly onReady?: (state: StackThreadState) => void;
  /**
   * Build the socket layer of the monolithic baseline (plain data) and publish it for the user
   * process's kernel half, which serves the `recvfrom`/`sendto` calls (see {@link SocketLayer});
   * this thread wakes that kernel half when it queues a datagram for a blocked `recvfrom`.
   */
  readonly socket?: StackSocketConfig;
}

/** What a running stack thread exposes. */
export interface StackThreadState {
  readonly stacks: readonly Stack[];
  readonly devices: readonly SessionNetDevice[];
  readonly echo: readonly UdpEchoService[];
  /** The socket layer, when the thread serves one. */
  readonly socket: SocketLayer | null;
  /**
   * Wake-ups sent to the driver (and those that found it not receiving: zero-timeout sends that
   * failed), wake-ups received, sleeps, aborted (rolled-back) sleeps, and idle wake-ups: those
   * after which the next pass found nothing to do (a peer flooding the thread with wake-ups shows
   * up there).
   */
  readonly stats: {
    notificationsSent: number;
    notificationsMissed: number;
    wakeups: number;
    sleeps: number;
    rollbacks: number;
    idleWakeups: number;
  };
}

const NOTIFY: Message = Object.freeze({
  label: 0x4e53,
  words: Object.freeze([]) as readonly number[],
});

/** A thread body running IP stacks (and the echo service) on driver sessions. */
export function stackThread(options: StackThreadOptions): ThreadBody {
  return function* run(sys: Sys): Generator<KernelCall, void, unknown> {
    const loop = { ...STACK_THREAD_COSTS, ...options.loopCosts };
    const ms = () => (sys.now() / sys.hz) * 1000;
    const clients: NetSessionClient[] = [];
    const devices: SessionNetDevice[] = [];
    const stacks: Stack[] = [];
    // Whose CPU the stacks' charges go to: this thread, or a kernel half running on them.
    let billed: Sys = sys;
    for (const s of options.sessions) {
      const layout = netSessionLayout(s.capacity);
      const region = yield* sys.mem.access(s.region, layout.byteLength, 'write');
      if (!('buffer' in region))
        throw new LwipError('CONFIG', `session region at ${s.region}: ${region.error}`);
      const bytes = s.bufferCount * s.bufferSize;
      const mem = yield* sys.mem.access(s.buffers, bytes, 'write');
      if (!('buffer' in mem))
        throw new LwipError('CONFIG', `buffers at ${s.buffers}: ${mem.error}`);
      const client = new NetSessionClient({
        buffer: region.buffer,
        byteOffset: region.byteOffset,
        capacity: s.capacity,
        ...(options.policy ? { policy: options.policy } : {}),
      });
      const half = Math.floor(s.bufferCount / 2);
      const pool = (base: number, count: number) =>
        new PbufPool({
          dataspaceId: s.dataspaceId,
          bytes: mem.bytes,
          base,
          count,
          bufferSize: s.bufferSize,
        });
      const device = new SessionNetDevice({
        client,
        rxPool: pool(0, half),
        txPool: pool(half * s.bufferSize, s.bufferCount - half),
      });
      const stack = new Stack({
        mac: s.mac,
        ip: s.ip,
        ...(s.netmask ? { netmask: s.netmask } : {}),
        device,
        charge: (c, n) => billed.charge(c, n),
        ...(options.costs ? { costs: options.costs } : {}),
        now: ms,
      });
      clients.push(client);
      devices.push(device);
      stacks.push(stack);
    }
    const echoPort = options.echoPort === undefined ? 7 : options.echoPort;
    const echo =
      echoPort === null ? [] : stacks.map((st) => new UdpEchoService(st, { port: echoPort }));
    const stats = {
      notificationsSent: 0,
      notificationsMissed: 0,
      wakeups: 0,
      sleeps: 0,
      rollbacks: 0,
      idleWakeups: 0,
    };
    /** Woken by an IPC: was the next pass of any use? */
    let woken = false;
    let socket: SocketLayer | null = null;
    if (options.socket) {
      const u = options.socket.userBuffer;
      const user = yield* sys.mem.access(u.vaddr, u.bytes, 'write');
      if (!('buffer' in user))
        throw new LwipError('CONFIG', `socket user buffer at ${u.vaddr}: ${user.error}`);
      socket = new SocketLayer(stacks, user.bytes, options.socket, {
        stackThread: sys.self,
        bill: (to) => {
          billed = to ?? sys;
        },
        // The kernel half's kick after its sendtos (deferred to its next blocking recvfrom):
        // the receive buffers recvfrom freed go back, and the driver is woken if it sleeps.
        kick: function* (from: Sys) {
          billed = from;
          for (const d of devices) d.refill();
          billed = sys;
          yield* notifyDriver(from);
        },
      });
      publishSocketLayer(options.socket.key, socket);
    }
    options.onReady?.({ stacks, devices, echo, socket, stats });

    const hasWork = () => {
      for (const c of clients) if (c.hasWork()) return true;
      for (const d of devices) if (d.restartPending()) return true;
      return false;
    };
    // From this thread's context, or (after a sendto) from a kernel half's.
    const notifyDriver = function* (from: Sys): Generator<KernelCall, void, unknown> {
      for (const d of devices) {
        from.charge('Notification', loop.notifyCheck);
        // One IPC per wake-up due: a single one under the paper's policies, one per enqueued
        // item under `always`.
        for (let k = d.takeNotify(); k > 0; k--) {
          const r = yield* from.ipc.send(options.driver(), NOTIFY, ZERO);
          if (r.ok) stats.notificationsSent++;
          else stats.notificationsMissed++;
        }
      }
    };
    let pass = true;
    for (;;) {
      if (pass) {
        let progress = 0;
        const now = ms();
        for (let i = 0; i < stacks.length; i++) progress += stacks[i]!.poll(now);
        // A datagram queued for a caller blocked in recvfrom: wake its kernel half.
        if (socket !== null && (yield* socket.poll(sys))) progress++;
        for (let i = 0; i < stacks.length; i++) {
          progress += devices[i]!.reapTx();
          if (devices[i]!.checkEpoch()) progress++;
          devices[i]!.refill();
        }
        yield* notifyDriver(sys);
        if (woken && progress === 0) stats.idleWakeups++;
        woken = false;
        if (progress > 0) continue;
      }
      pass = true;
      sys.charge('Notification', loop.sleepPerSession * clients.length);
      sys.preemption.begin();
      for (const c of clients) c.prepareSleep();
      if (hasWork() || sys.preemption.preempted()) {
        for (const c of clients) c.cancelSleep();
        sys.preemption.end();
        stats.rollbacks++;
        continue;
      }
      stats.sleeps++;
      // The window stays open across the receive: a preemption since begin() aborts it.
      const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
      sys.preemption.end();
      for (const c of clients) c.cancelSleep();
      if (r.ok) {
        stats.wakeups++;
        woken = true;
        if (r.msg.label === SOCKET_ATTACH_LABEL) {
          // A kernel half starting up: the layer is published; answer, and go back to sleep.
          yield* sys.ipc.send(r.from, r.msg, ZERO);
          pass = false;
        }
      } else stats.rollbacks++;
    }
  };
}
