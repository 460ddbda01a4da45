import type { IpcResult, Message, Sys } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { Stack } from '../iface/stack.js';
import { loopbackPair } from '../phy/frame-device.js';
import { parseIpv4 } from '../wire/address.js';
import {
  SOCKET_ERROR_LABEL,
  SOCKET_OK_LABEL,
  SOCKET_RECVFROM_LABEL,
  SOCKET_SENDTO_LABEL,
  SOCKET_WAKE_LABEL,
  SocketLayer,
  type StackSocketConfig,
} from './server.js';
import { UdpDatagram } from './udp.js';

const IP_USER = parseIpv4('10.0.0.2');
const CALLER = 42;
const CONFIG: StackSocketConfig = {
  port: 7,
  queueDatagrams: 4,
  userBuffer: { vaddr: 0x0f10_0000, bytes: 2048 },
  copyPerByte: 1.5,
  syscallCycles: 432,
  wakeupCycles: 600,
  ipcCycles: 266,
  key: 'test',
};
const STACK_THREAD = 7;
const HALF = 9;

/**
 * A Sys whose sends succeed at once and are recorded, whose charges are summed, and whose
 * receive is one kernel call (yields `'receive'`) answered with a wake-up from the stack thread.
 */
function fakeSys(self: number) {
  const sent: { to: number; label: number; words: number[] }[] = [];
  const charged: Record<string, number> = {};
  const received: number[] = [];
  const sys = {
    self,
    preemption: { begin: () => {}, end: () => {}, preempted: () => false },
    charge: (category: string, cycles: number) => {
      charged[category] = (charged[category] ?? 0) + cycles;
    },
    ipc: {
      // biome-ignore lint/correctness/useYield: a send that completes without a kernel call
      *send(to: number, msg: Message): Generator<never, IpcResult, unknown> {
        sent.push({ to, label: msg.label, words: [...msg.words] });
        return { ok: true, from: to, msg: { label: 0, words: [] } };
      },
      *receive(from: number): Generator<string, IpcResult, unknown> {
        received.push(from);
        yield 'receive';
        return { ok: true, from, msg: { label: SOCKET_WAKE_LABEL, words: [] } };
      },
    },
  } as unknown as Sys;
  return { sys, sent, charged, received };
}

/** Run a generator that makes no real kernel call to its end. */
function run<T>(g: Generator<unknown, T, unknown>): T {
  const r = g.next();
  if (!r.done) throw new Error('unexpected kernel call');
  return r.value;
}

function harness() {
  const [devUser, devKernel] = loopbackPair({ rxBuffers: 16, txBuffers: 16 });
  const clock = { t: 0 };
  const user = new Stack({ mac: '02:00:00:00:00:0b', ip: IP_USER, device: devUser, now: () => 0 });
  const kernel = new Stack({
    mac: '02:00:00:00:00:0a',
    ip: '10.0.0.1',
    device: devKernel,
    now: () => clock.t,
  });
  const buffer = new Uint8Array(CONFIG.userBuffer.bytes);
  const billedTo: (Sys | null)[] = [];
  const kicks: Sys[] = [];
  const layer = new SocketLayer([kernel], buffer, CONFIG, {
    stackThread: STACK_THREAD,
    bill: (sys) => {
      billedTo.push(sys);
    },
    // biome-ignore lint/correctness/useYield: a kick that makes no kernel call here
    kick: function* (sys) {
      kicks.push(sys);
    },
  });
  const client = user.udpBind(5000);
  const settle = () => {
    let n = 1;
    while (n > 0) n = user.poll(0) + kernel.poll(0);
  };
  return { user, kernel, buffer, layer, client, settle, devKernel, billedTo, kicks };
}

const RECVFROM: Message = { label: SOCKET_RECVFROM_LABEL, words: [] };

describe('SocketLayer: recvfrom/sendto served by the calling process kernel half', () => {
  it('blocks a recvfrom on an empty queue in the kernel half; the stack wakes it, it replies', () => {
    const { layer, client, settle, buffer } = harness();
    const half = fakeSys(HALF);
    const stack = fakeSys(STACK_THREAD);
    const g = layer.serve(half.sys, CALLER, RECVFROM);
    // The kernel half blocks in a closed receive from the stack thread, with no reply yet.
    expect(g.next()).toEqual({ done: false, value: 'receive' });
    expect(half.received).toEqual([STACK_THREAD]);
    expect(half.sent).toEqual([]);
    // The call itself is the system call: its IPC plus the rest of the system-call cost.
    expect(half.charged.Socket).toBe(432 - 266);

    const payload = new Uint8Array(100).map((_, i) => i + 1);
    expect(client.sendTo(payload, parseIpv4('10.0.0.1'), 7)).toBe(true);
    settle();
    // The stack thread wakes the kernel half (not the caller) and tops the wake-up IPC and
    // the kernel half's reply up to the scheduler's wake-up.
    expect(run(layer.poll(stack.sys))).toBe(true);
    expect(stack.sent).toEqual([{ to: HALF, label: SOCKET_WAKE_LABEL, words: [] }]);
    expect(stack.charged.Kernel).toBe(600 - 2 * 266);
    // Woken, the kernel half copies the datagram and replies to its caller.
    expect(g.next().done).toBe(true);
    expect(half.sent).toEqual([
      { to: CALLER, label: SOCKET_OK_LABEL, words: [0, 100, IP_USER, 5000] },
    ]);
    expect(buffer.subarray(0, 100)).toEqual(payload);
    expect(half.charged.Socket).toBe(432 - 266 + 1.5 * 100);
    expect(layer.stats).toMatchObject({ recvfrom: 1, wakeups: 1, wakeupsMissed: 0 });
    // Nothing more to wake for.
    expect(run(layer.poll(stack.sys))).toBe(false);
    expect(stack.sent.length).toBe(1);
  });

  it('answers a recvfrom at once when a datagram is queued; every queued datagram costs a wake-up', () => {
    const { layer, client, settle } = harness();
    const half = fakeSys(HALF);
    const stack = fakeSys(STACK_THREAD);
    for (let i = 0; i < 2; i++) client.sendTo(new Uint8Array(10), parseIpv4('10.0.0.1'), 7);
    settle();
    expect(run(layer.poll(stack.sys))).toBe(false);
    expect(layer.stats.wakeupsMissed).toBe(2);
    expect(stack.charged.Kernel).toBe(2 * 600);
    run(layer.serve(half.sys, CALLER, RECVFROM));
    expect(half.sent[0]).toMatchObject({ to: CALLER, label: SOCKET_OK_LABEL });
    // Two IPCs (call, reply) already cost more than the system call: nothing is added.
    expect(half.charged.Socket).toBe(1.5 * 10);
    // The datagram taken is not woken for again.
    expect(run(layer.poll(stack.sys))).toBe(false);
    expect(layer.stats.wakeupsMissed).toBe(2);
  });

  it('sendto sends the user buffer back in the kernel half, billed to it; the driver is kicked before the next block', () => {
    const { layer, client, settle, buffer, billedTo, kicks } = harness();
    const half = fakeSys(HALF);
    buffer.set([9, 8, 7], 0);
    const sendto: Message = { label: SOCKET_SENDTO_LABEL, words: [0, 3, IP_USER, 5000] };
    run(layer.serve(half.sys, CALLER, sendto));
    expect(half.sent).toEqual([{ to: CALLER, label: SOCKET_OK_LABEL, words: [0, 3, 0, 0] }]);
    // UDP/IP output ran billed to the kernel half, then billing went back to the stack.
    expect(billedTo).toEqual([half.sys, null]);
    expect(kicks).toEqual([]);
    settle();
    const d = new UdpDatagram();
    expect(client.recv(d)).toBe(true);
    expect([...d.payload()]).toEqual([9, 8, 7]);
    expect(layer.stats.sendto).toBe(1);
    // The next recvfrom that blocks kicks the driver once first.
    const g = layer.serve(half.sys, CALLER, RECVFROM);
    expect(g.next()).toEqual({ done: false, value: 'receive' });
    expect(kicks).toEqual([half.sys]);
  });

  it('loses no wake-up when a datagram is queued while the kernel half kicks the driver', () => {
    const [devUser, devKernel] = loopbackPair({ rxBuffers: 16, txBuffers: 16 });
    const user = new Stack({
      mac: '02:00:00:00:00:0b',
      ip: IP_USER,
      device: devUser,
      now: () => 0,
    });
    const kernel = new Stack({
      mac: '02:00:00:00:00:0a',
      ip: '10.0.0.1',
      device: devKernel,
      now: () => 0,
    });
    const layer = new SocketLayer([kernel], new Uint8Array(2048), CONFIG, {
      stackThread: STACK_THREAD,
      bill: () => {},
      // A kick that is a kernel call: the stack thread may run meanwhile.
      kick: function* () {
        yield 'kick' as never;
      },
    });
    const client = user.udpBind(5000);
    const half = fakeSys(HALF);
    const stack = fakeSys(STACK_THREAD);
    run(
      layer.serve(half.sys, CALLER, { label: SOCKET_SENDTO_LABEL, words: [0, 3, IP_USER, 5000] }),
    );
    const g = layer.serve(half.sys, CALLER, RECVFROM);
    expect(g.next()).toEqual({ done: false, value: 'kick' });
    // During the kick the stack queues a datagram; the kernel half is not waiting yet.
    client.sendTo(new Uint8Array(10), parseIpv4('10.0.0.1'), 7);
    let n = 1;
    while (n > 0) n = user.poll(0) + kernel.poll(0);
    expect(run(layer.poll(stack.sys))).toBe(false);
    expect(layer.stats.wakeupsMissed).toBe(1);
    // The kernel half finds it before blocking and replies at once.
    expect(g.next().done).toBe(true);
    expect(half.sent.at(-1)).toMatchObject({ to: CALLER, label: SOCKET_OK_LABEL });
    expect(half.received).toEqual([]);
  });

  it('a receive aborted by the preemption window (a wake-up sent too early) re-checks instead of sleeping', () => {
    const { layer, client, settle } = harness();
    const half = fakeSys(HALF);
    const stack = fakeSys(STACK_THREAD);
    const windows: string[] = [];
    // The kernel half is preempted on its way into the receive: the stack queues a datagram
    // and its wake-up finds the kernel half not receiving; the kernel aborts the receive.
    const sys = {
      ...half.sys,
      preemption: {
        begin: () => windows.push('begin'),
        end: () => windows.push('end'),
        preempted: () => true,
      },
      ipc: {
        ...half.sys.ipc,
        *receive(): Generator<string, IpcResult, unknown> {
          client.sendTo(new Uint8Array(10), parseIpv4('10.0.0.1'), 7);
          settle();
          run(layer.poll(stack.sys));
          yield 'receive';
          return { ok: false, phase: 'receive', error: 'aborted' } as unknown as IpcResult;
        },
      },
    } as unknown as Sys;
    const g = layer.serve(sys, CALLER, RECVFROM);
    expect(g.next()).toEqual({ done: false, value: 'receive' });
    expect(layer.stats.wakeups).toBe(1);
    // Aborted: the kernel half re-checks, finds the datagram and replies without blocking again.
    expect(g.next().done).toBe(true);
    expect(windows).toEqual(['begin', 'end']);
    expect(half.sent.at(-1)).toMatchObject({ to: CALLER, label: SOCKET_OK_LABEL });
    expect(layer.stats.recvfrom).toBe(1);
  });

  it('refuses and counts bad requests instead of throwing', () => {
    const { layer } = harness();
    const half = fakeSys(HALF);
    const bad: Message[] = [
      { label: SOCKET_SENDTO_LABEL, words: [5, 3, IP_USER, 5000] },
      { label: SOCKET_SENDTO_LABEL, words: [0, 4096, IP_USER, 5000] },
      { label: SOCKET_SENDTO_LABEL, words: [0, -1, IP_USER, 5000] },
      { label: SOCKET_SENDTO_LABEL, words: [] },
      { label: 0x1234, words: [] },
    ];
    for (const m of bad) run(layer.serve(half.sys, CALLER, m));
    expect(half.sent.map((s) => s.label)).toEqual(bad.map(() => SOCKET_ERROR_LABEL));
    expect(layer.stats.refused).toBe(bad.length);
    expect(layer.stats.sendto).toBe(0);
  });
});
