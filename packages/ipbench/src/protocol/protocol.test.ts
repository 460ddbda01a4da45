import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientResult } from '../load.js';
import { formatLatencyArgs, parseLatencyArgs } from './args.js';
import { RemoteClient, RemoteCpuMeter } from './controller.js';
import { ClientDaemon, type ClientTestFactory, cpuTargetTest, TargetDaemon } from './daemon.js';
import { SocketReader } from './lines.js';
import {
  decodeCpuTarget,
  decodeLatencyResult,
  encodeCpuTarget,
  encodeLatencyResult,
} from './marshall.js';
import { parseStatusLine, statusLine } from './status.js';

const result: ClientResult = {
  requestedBps: 100e6,
  achievedBps: 99e6,
  sentBps: 100e6,
  size: 1024,
  durationUs: 500_000,
  sends: 6103,
  recvs: 3,
  late: 0,
  bad: 1,
  lost: 0,
  rttUs: new Float64Array([40, 41, 90]),
};

/** A fake controller: raw lines over loopback TCP. */
async function dial(
  port: number,
): Promise<{ socket: Socket; reader: SocketReader; say(line: string): Promise<string> }> {
  const socket = await new Promise<Socket>((r) => {
    const s = connect(port, '127.0.0.1', () => r(s));
  });
  const reader = new SocketReader(socket);
  return {
    socket,
    reader,
    say: async (line) => {
      socket.write(`${line}\n`);
      return (await reader.readLine()) ?? '';
    },
  };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function clientDaemon(tests?: Record<string, ClientTestFactory>) {
  const d = new ClientDaemon(tests ? { tests } : {});
  const { port } = await d.listen(0);
  cleanup.push(() => d.close());
  return port;
}

const fakeLatency: ClientTestFactory = (setup) => {
  parseLatencyArgs(setup.args); // bad args → 451
  return {
    run: async () => ({ valid: true, data: encodeLatencyResult(result, true) }),
    abort() {},
  };
};

describe('status lines and arguments', () => {
  it('formats and parses ipbenchd status lines', () => {
    expect(statusLine(100)).toBe('100 IPBENCH V1.0\n');
    expect(statusLine(220, 'Data to follow')).toBe('220 VALID DATA (Data to follow)\n');
    expect(parseStatusLine('421 SERVICE NOT AVAILABLE (Already Running)')).toEqual({
      code: 421,
      text: 'SERVICE NOT AVAILABLE',
      message: 'Already Running',
    });
    expect(parseStatusLine('Content-length: 12')).toBeNull();
  });

  it('parses ipbench latency arguments with its defaults and separators', () => {
    const r = parseLatencyArgs(
      'Mbps=250,size=1024 warmup=2\tcooldown=1,samples=5000,socktype=udp,drop=3',
    );
    expect(r).toEqual({
      rateMbps: 250,
      packetSize: 1024,
      warmupS: 2,
      cooldownS: 1,
      samples: 5000,
      durationS: 600,
    });
    expect(parseLatencyArgs('')).toMatchObject({
      rateMbps: 10,
      packetSize: 64,
      warmupS: 10,
      samples: 200000,
    });
    expect(parseLatencyArgs('bps=1000000,duration=0.5')).toMatchObject({
      rateMbps: 1,
      durationS: 0.5,
      samples: 0,
    });
    expect(() => parseLatencyArgs('colour=blue')).toThrow(/unknown argument/);
    expect(() => parseLatencyArgs('size=big')).toThrow(/bad value for size/);
    expect(() => parseLatencyArgs('socktype=tcp')).toThrow(/only udp/);
    expect(
      parseLatencyArgs(formatLatencyArgs({ rateMbps: 12.5, packetSize: 512, durationS: 1 })),
    ).toMatchObject({
      rateMbps: 12.5,
      packetSize: 512,
      durationS: 1,
      samples: 0,
    });
  });

  it('round-trips latency results in ipbench’s big-endian marshalled layout', () => {
    const bytes = encodeLatencyResult(result, true);
    expect(bytes.length).toBe(8 * (9 + 3));
    expect(new DataView(bytes.buffer).getBigUint64(8 * 2)).toBe(1024n); // size is field 3
    expect(decodeLatencyResult(bytes, true)).toMatchObject({
      size: 1024,
      bad: 1,
      recvs: 3,
      requestedBps: 100e6,
    });
    expect(decodeLatencyResult(encodeLatencyResult(result, false), false).achievedBps).toBe(99e6);
    expect(() => decodeLatencyResult(bytes.subarray(0, 20), true)).toThrow(/bytes/);
  });

  it('round-trips cpu_target text', () => {
    const bytes = encodeCpuTarget({ utilisation: 0.321, perCpu: [0.3, 0.342] });
    expect(new TextDecoder().decode(bytes)).toBe('32.1,CPU0: 30.0,CPU1: 34.2\0');
    expect(decodeCpuTarget(bytes)).toEqual({
      utilisation: 0.321,
      perCpu: [0.3, 0.342],
      text: '32.1,CPU0: 30.0,CPU1: 34.2',
    });
    expect(() => decodeCpuTarget(new TextEncoder().encode('garbage'))).toThrow();
  });
});

describe('client daemon protocol', () => {
  it('happy path: greeting, HELLO, LOAD, SETUP, START, 220 + Content-length + data, close', async () => {
    const port = await clientDaemon({ 'latency-check': fakeLatency });
    const c = await dial(port);
    expect(await c.reader.readLine()).toBe('100 IPBENCH V1.0');
    expect(await c.say('HELLO')).toBe('200 OK (Ready to go)');
    expect(await c.say('LOAD latency-check')).toBe('200 OK');
    expect(await c.say('SETUP target::127.0.0.1||port::7||args::"Mbps=100,size=1024"')).toBe(
      '200 OK',
    );
    expect(await c.say('START')).toBe('220 VALID DATA (Data to follow)');
    expect(await c.reader.readLine()).toBe('Content-length: 96');
    expect(decodeLatencyResult(await c.reader.readBytes(96), true).rttUs).toEqual(
      new Float64Array([40, 41, 90]),
    );
    await expect(c.reader.readLine()).rejects.toThrow(/closed/);
  });

  it('answers garbage with 500 and keeps the session; HELP and STATUS work anywhere', async () => {
    const port = await clientDaemon({ 'latency-check': fakeLatency });
    const c = await dial(port);
    await c.reader.readLine();
    expect(await c.say('FROBNICATE now')).toMatch(/^500 SYNTAX ERROR \(expected HELLO/);
    expect(await c.say('')).toMatch(/^500 /);
    expect(await c.say('\x00\xff\x01')).toMatch(/^500 /);
    c.socket.write(`${'x'.repeat(5000)}\n`);
    expect(await c.reader.readLine()).toMatch(/^500 .*longer than 4096/);
    expect(await c.say('STATUS')).toBe('Testing Daemon mode');
    expect(await c.reader.readLine()).toBe('Not running a test');
    expect(await c.reader.readLine()).toBe('200 OK');
    expect(await c.say('HELLO')).toMatch(/^200/);
    expect(await c.say('LOAD')).toMatch(/^500/);
    expect(await c.say('LOAD latency-check')).toBe('200 OK');
    expect(await c.say('SETUP nonsense')).toMatch(/^500 .*key::value/);
    expect(await c.say('SETUP port::7||args::""')).toMatch(/^500 .*SETUP needs target/);
    expect(await c.say('SETUP target::h||port::99999||args::""')).toMatch(/^500 .*bad port/);
    expect(await c.say('SETUP target::127.0.0.1||port::7||args::"Mbps=1"')).toBe('200 OK');
    expect(await c.say('QUIT')).toBe('222 CLOSING CONTROL CONNECTION (Come back soon!)');
  });

  it('an unknown test or bad test arguments end that session with 451; the daemon keeps serving', async () => {
    const port = await clientDaemon({ 'latency-check': fakeLatency });
    const a = await dial(port);
    await a.reader.readLine();
    await a.say('HELLO');
    expect(await a.say('LOAD nfsstone')).toMatch(
      /^451 LOCAL PROCESSING ERROR \(unknown test nfsstone/,
    );
    const b = await dial(port);
    expect(await b.reader.readLine()).toBe('100 IPBENCH V1.0');
    await b.say('HELLO');
    await b.say('LOAD latency-check');
    expect(await b.say('SETUP target::x||port::7||args::"size=huge"')).toMatch(
      /^451 .*bad value for size/,
    );
    const c = await dial(port);
    await c.reader.readLine();
    expect(await c.say('HELLO')).toMatch(/^200/);
  });

  it('refuses a second controller with 421 while a test is set up', async () => {
    const port = await clientDaemon({ 'latency-check': fakeLatency });
    const a = await dial(port);
    await a.reader.readLine();
    expect(await a.say('HELLO')).toMatch(/^200/);
    const b = await dial(port);
    await b.reader.readLine();
    expect(await b.say('HELLO')).toBe('421 SERVICE NOT AVAILABLE (Already Running)');
    expect(await a.say('ABORT').catch(() => 'closed')).toBe('closed');
    const c = await dial(port);
    await c.reader.readLine();
    expect(await c.say('HELLO')).toMatch(/^200/);
  });
});

describe('target daemon and remote meter', () => {
  it('drives cpu_target: START … STOP → 220 with the cpu_target text', async () => {
    let phase = 'idle';
    const d = new TargetDaemon({
      tests: {
        cpu_target: cpuTargetTest(async () => ({
          start: () => {
            phase = 'measuring';
          },
          stop: () => ({ utilisation: 0.32, perCpu: [0.32] }),
        })),
      },
    });
    const { port } = await d.listen(0);
    cleanup.push(() => d.close());
    const meter = new RemoteCpuMeter({ host: '127.0.0.1', port });
    await meter.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(phase).toBe('measuring');
    expect(await meter.stop()).toEqual({
      utilisation: 0.32,
      perCpu: [0.32],
      text: '32.0,CPU0: 32.0',
    });
  });
});

describe('RemoteClient through a client daemon to a real UDP echo on 127.0.0.1', () => {
  it('runs the latency-check test and decodes the result (loose bounds: real time)', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (msg, from) => echo.send(msg, from.port, from.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => echo.close(() => r())));
    const port = await clientDaemon();
    const client = new RemoteClient({
      host: '127.0.0.1',
      port,
      testTarget: '127.0.0.1',
      testPort: echo.address().port,
    });
    const run = { rateMbps: 1, packetSize: 64, warmupS: 0.02, durationS: 0.2, cooldownS: 0.05 };
    const r = await client.start(run);
    expect(r.size).toBe(64);
    expect(r.requestedBps).toBe(1e6);
    expect(r.sends).toBeGreaterThan(0);
    expect(r.recvs).toBeGreaterThan(0);
    // Each echo counted in the window matches a distinct probe sent before the window ended: one
    // of its `sends`, or a warm-up probe still in flight when it opened (ipbench counts those too:
    // "you will have outstanding requests from the warmup period"). A loaded machine can delay
    // every warm-up echo into the window, so the bound is all of them, not a guess at the RTT.
    const warmUpProbes = Math.ceil((run.warmupS * run.rateMbps * 1e6) / (8 * run.packetSize));
    expect(r.recvs).toBeLessThanOrEqual(r.sends + warmUpProbes);
    expect(r.bad).toBe(0);
    expect(r.rttUs.length).toBe(r.recvs);
    expect(client.running).toBe(false);
  });
});
