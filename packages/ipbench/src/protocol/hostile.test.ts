// Issue 15 items 1 and 9: the daemons are released by a controller that leaves, and survive
// hostile peers. Each case reproduces the reported symptom against udf's own daemons.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UdpClient } from '../udp-client.js';
import { ClientDaemon, type ClientTestFactory, parseCpusArg, TargetDaemon } from './daemon.js';
import { SocketReader } from './lines.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function dial(port: number) {
  const socket = await new Promise<Socket>((r) => {
    const s = connect(port, '127.0.0.1', () => r(s));
  });
  socket.on('error', () => {});
  cleanup.push(() => void socket.destroy());
  const reader = new SocketReader(socket);
  const line = async (): Promise<string> => (await reader.readLine()) ?? '';
  return {
    socket,
    reader,
    line,
    say: async (text: string): Promise<string> => {
      socket.write(`${text}\n`);
      return line();
    },
  };
}

/** A client test that runs until aborted. */
const forever: ClientTestFactory = () => {
  let fail: (e: Error) => void = () => {};
  return {
    run: () =>
      new Promise((_, reject) => {
        fail = reject;
      }),
    abort: () => fail(new Error('aborted')),
  };
};

async function start<D extends ClientDaemon | TargetDaemon>(d: D): Promise<number> {
  const { port } = await d.listen(0);
  cleanup.push(() => d.close());
  return port;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a controller that leaves releases the daemon (issue 15.1)', () => {
  for (const [name, steps] of [
    ['after HELLO', ['HELLO']],
    ['after LOAD', ['HELLO', 'LOAD latency']],
    ['after SETUP', ['HELLO', 'LOAD latency', 'SETUP target::127.0.0.1||port::7||args::"Mbps=1"']],
  ] as const) {
    it(`disconnect ${name}: the next HELLO gets 200, not 421 Already Running`, async () => {
      const d = new ClientDaemon({ tests: { latency: forever } });
      const port = await start(d);
      const a = await dial(port);
      expect(await a.line()).toBe('100 IPBENCH V1.0');
      for (const s of steps) expect(await a.say(s)).toMatch(/^200/);
      expect(d.busy).toBe(true);
      a.socket.destroy(); // Ctrl-C of the controller
      await vi.waitFor(() => expect(d.busy).toBe(false));
      const b = await dial(port);
      expect(await b.line()).toBe('100 IPBENCH V1.0');
      expect(await b.say('HELLO')).toBe('200 OK (Ready to go)');
    });
  }

  it('disconnect while a test runs aborts the test and frees the daemon', async () => {
    const d = new ClientDaemon({ tests: { latency: forever } });
    const port = await start(d);
    const a = await dial(port);
    await a.line();
    await a.say('HELLO');
    await a.say('LOAD latency');
    await a.say('SETUP target::127.0.0.1||port::7||args::""');
    a.socket.write('START\n');
    expect(await a.say('STATUS')).toBe('Testing Daemon mode');
    expect(await a.line()).toMatch(/^Running a test/);
    expect(await a.line()).toBe('200 OK');
    // New connections are answered while the test runs.
    const b = await dial(port);
    expect(await b.line()).toBe('100 IPBENCH V1.0');
    expect(await b.say('HELLO')).toBe('421 SERVICE NOT AVAILABLE (Already Running)');
    a.socket.destroy();
    await vi.waitFor(() => expect(d.busy).toBe(false));
  });

  it('ABORT on a new connection (ipbench --reset) frees a daemon held by another controller', async () => {
    const d = new ClientDaemon({ tests: { latency: forever } });
    const port = await start(d);
    const a = await dial(port);
    await a.line();
    await a.say('HELLO');
    const b = await dial(port);
    await b.line();
    b.socket.write('ABORT\n');
    await vi.waitFor(() => expect(d.busy).toBe(false));
    const c = await dial(port);
    await c.line();
    expect(await c.say('HELLO')).toBe('200 OK (Ready to go)');
  });
});

describe('hostile peers (issue 15.9)', () => {
  it('a peer that sends short lines and never reads is slowed down, not buffered', async () => {
    const d = new ClientDaemon();
    const port = await start(d);
    const socket = await new Promise<Socket>((r) => {
      const s = connect(port, '127.0.0.1', () => r(s));
    });
    socket.on('error', () => {});
    cleanup.push(() => void socket.destroy());
    socket.pause(); // never reads the replies
    const burst = Buffer.from('STATUS\n'.repeat(1 << 20)); // 7 MB → ≈ 60 MB of replies
    for (let i = 0; i < 4; i++) socket.write(burst);
    let most = 0;
    for (let i = 0; i < 40; i++) {
      await tick(10);
      most = Math.max(most, d.queuedBytes);
    }
    // Bounded by the reply limit + the input limit + one socket read, whatever the peer sends.
    expect(most).toBeLessThan(512 * 1024);
    expect(socket.writableLength).toBeGreaterThan(0); // TCP pushed back on the sender
  });

  it('input after QUIT is dropped', async () => {
    const d = new ClientDaemon();
    const port = await start(d);
    const a = await dial(port);
    await a.line();
    a.socket.write(`QUIT\n${'x'.repeat(1 << 20)}`);
    expect(await a.line()).toMatch(/^222/);
    for (let i = 0; i < 10; i++) {
      await tick(5);
      expect(d.queuedBytes).toBe(0);
    }
  });

  it('an idle peer is told 421 and closed; a busy one is not', async () => {
    const d = new ClientDaemon({ idleTimeoutMs: 50 });
    const port = await start(d);
    const a = await dial(port);
    expect(await a.line()).toBe('100 IPBENCH V1.0');
    expect(await a.line()).toMatch(/^421 SERVICE NOT AVAILABLE \(idle/);
    await vi.waitFor(() => expect(d.connections).toBe(0));
  });

  it('connections beyond the limit get 421 and are closed', async () => {
    const d = new ClientDaemon({ maxConnections: 2 });
    const port = await start(d);
    const a = await dial(port);
    const b = await dial(port);
    expect(await a.line()).toBe('100 IPBENCH V1.0');
    expect(await b.line()).toBe('100 IPBENCH V1.0');
    const c = await dial(port);
    expect(await c.line()).toBe('421 SERVICE NOT AVAILABLE (too many connections)');
    a.socket.destroy();
    await vi.waitFor(() => expect(d.connections).toBeLessThan(2));
    const e = await dial(port);
    expect(await e.line()).toBe('100 IPBENCH V1.0');
  });

  it('SETUP cpus=64 is refused with 451 (bounded by the CPU count), no threads started', async () => {
    expect(() => parseCpusArg('cpus=64', 2)).toThrow(/cpus=64 out of range/);
    expect(() => parseCpusArg('cpus=0', 2)).toThrow(/out of range/);
    expect(() => parseCpusArg('cpus=1e3', 2)).toThrow(/out of range/);
    expect(parseCpusArg('warmup=1,cpus=2', 2)).toBe(2);
    const d = new TargetDaemon();
    const port = await start(d);
    const a = await dial(port);
    await a.line();
    await a.say('HELLO');
    await a.say('LOAD cpu_target');
    expect(await a.say('SETUP args::"cpus=100000"')).toMatch(/^451 .*cpus=100000 out of range/);
  });

  it('a latency test asking for 20000 Mb/s of 64-byte packets is refused with 451', async () => {
    const d = new ClientDaemon();
    const port = await start(d);
    const a = await dial(port);
    await a.line();
    await a.say('HELLO');
    await a.say('LOAD latency');
    expect(await a.say('SETUP target::127.0.0.1||port::9||args::"Mbps=20000,size=64"')).toMatch(
      /^451 .*packets\/s > 1000000/,
    );
    const b = await dial(port);
    await b.line();
    await b.say('HELLO');
    await b.say('LOAD latency');
    expect(await b.say('SETUP target::127.0.0.1||port::9||args::"samples=99999999999"')).toMatch(
      /^451 .*samples=/,
    );
  });

  it('a client asked for more than the host can send yields to the event loop', async () => {
    const client = new UdpClient({ host: '127.0.0.1', port: 9 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const r = await client.start({
        rateMbps: 20_000,
        packetSize: 64,
        warmupS: 0,
        durationS: 0.2,
        cooldownS: 0,
      });
      expect(r.sends).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
    // The 1 ms timer kept firing during the 200 ms run (it starved before bursts were bounded).
    expect(ticks).toBeGreaterThan(10);
  });
});
