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
};

/** A Sys whose sends succeed at once and are recorded, and whose charges are summed. */
function fakeSys() {
  const sent: { to: number; label: number; words: number[] }[] = [];
  const charged: Record<string, number> = {};
  const sys = {
    charge: (category: string, cycles: number) => {
      charged[category] = (charged[category] ?? 0) + cycles;
    },
    ipc: {
      // biome-ignore lint/correctness/useYield: a send that completes without a kernel call
      *send(to: number, msg: Message): Generator<never, IpcResult, unknown> {
        sent.push({ to, label: msg.label, words: [...msg.words] });
        return { ok: true, from: to, msg: { label: 0, words: [] } };
      },
    },
  } as unknown as Sys;
  return { sys, sent, charged };
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
  const layer = new SocketLayer([kernel], buffer, CONFIG);
  const client = user.udpBind(5000);
  const settle = () => {
    let n = 1;
    while (n > 0) n = user.poll(0) + kernel.poll(0);
  };
  return { user, kernel, buffer, layer, client, settle, devKernel };
}

const RECVFROM: Message = { label: SOCKET_RECVFROM_LABEL, words: [] };

describe('SocketLayer: recvfrom/sendto as IPC calls into the kernel domain', () => {
  it('defers a recvfrom on an empty queue and answers it, as the wake-up, when a datagram is queued', () => {
    const { layer, client, settle, buffer } = harness();
    const f = fakeSys();
    expect(run(layer.handle(f.sys, CALLER, RECVFROM))).toBe(false);
    expect(f.sent).toEqual([]);
    // The call itself is the system call: its IPC plus the rest of the system-call cost.
    expect(f.charged.Socket).toBe(432 - 266);

    const payload = new Uint8Array(100).map((_, i) => i + 1);
    expect(client.sendTo(payload, parseIpv4('10.0.0.1'), 7)).toBe(true);
    settle();
    expect(run(layer.poll(f.sys))).toBe(true);
    expect(f.sent).toEqual([
      { to: CALLER, label: SOCKET_OK_LABEL, words: [0, 100, IP_USER, 5000] },
    ]);
    expect(buffer.subarray(0, 100)).toEqual(payload);
    expect(f.charged.Kernel).toBe(600 - 266);
    expect(f.charged.Socket).toBe(432 - 266 + 1.5 * 100);
    expect(layer.stats).toMatchObject({ recvfrom: 1, wakeups: 1, wakeupsMissed: 0 });
    // Nothing more to answer.
    expect(run(layer.poll(f.sys))).toBe(false);
    expect(f.sent.length).toBe(1);
  });

  it('answers a recvfrom at once when a datagram is queued; every queued datagram costs a wake-up', () => {
    const { layer, client, settle } = harness();
    const f = fakeSys();
    for (let i = 0; i < 2; i++) client.sendTo(new Uint8Array(10), parseIpv4('10.0.0.1'), 7);
    settle();
    expect(run(layer.poll(f.sys))).toBe(false);
    expect(layer.stats.wakeupsMissed).toBe(2);
    expect(f.charged.Kernel).toBe(2 * 600);
    expect(run(layer.handle(f.sys, CALLER, RECVFROM))).toBe(false);
    expect(f.sent[0]).toMatchObject({ to: CALLER, label: SOCKET_OK_LABEL });
    // Two IPCs (call, reply) already cost more than the system call: nothing is added.
    expect(f.charged.Socket).toBe(1.5 * 10);
    // The datagram taken is not woken for again.
    expect(run(layer.poll(f.sys))).toBe(false);
    expect(layer.stats.wakeupsMissed).toBe(2);
  });

  it('sendto sends the user buffer back to the named sender', () => {
    const { layer, client, settle, buffer } = harness();
    const f = fakeSys();
    buffer.set([9, 8, 7], 0);
    const sendto: Message = { label: SOCKET_SENDTO_LABEL, words: [0, 3, IP_USER, 5000] };
    expect(run(layer.handle(f.sys, CALLER, sendto))).toBe(true);
    expect(f.sent).toEqual([{ to: CALLER, label: SOCKET_OK_LABEL, words: [0, 3, 0, 0] }]);
    settle();
    const d = new UdpDatagram();
    expect(client.recv(d)).toBe(true);
    expect([...d.payload()]).toEqual([9, 8, 7]);
    expect(layer.stats.sendto).toBe(1);
  });

  it('refuses and counts bad requests instead of throwing', () => {
    const { layer } = harness();
    const f = fakeSys();
    const bad: Message[] = [
      { label: SOCKET_SENDTO_LABEL, words: [5, 3, IP_USER, 5000] },
      { label: SOCKET_SENDTO_LABEL, words: [0, 4096, IP_USER, 5000] },
      { label: SOCKET_SENDTO_LABEL, words: [0, -1, IP_USER, 5000] },
      { label: SOCKET_SENDTO_LABEL, words: [] },
      { label: 0x1234, words: [] },
    ];
    for (const m of bad) expect(run(layer.handle(f.sys, CALLER, m))).toBe(false);
    expect(f.sent.map((s) => s.label)).toEqual(bad.map(() => SOCKET_ERROR_LABEL));
    expect(layer.stats.refused).toBe(bad.length);
    expect(layer.stats.sendto).toBe(0);
  });
});
