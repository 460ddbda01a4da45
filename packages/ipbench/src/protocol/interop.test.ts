// Issue 15 items 2–6 and 10: udf's controller side against the original ipbench's behaviour,
// reproduced with recorded protocol transcripts and marshalled bytes (no ipbench needed).
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventClock, RealClock } from '../clock.js';
import type { TargetCpuMeter } from '../cpu/meter.js';
import type { ClientResult, ClientRun, LoadClient } from '../load.js';
import { Ramp, summarise } from '../ramp.js';
import { toIpbenchOutput } from '../report/ipbench.js';
import { ipbenchRttStats, printfFixed2, rttStats } from '../stats.js';
import { formatIpbenchLatencyArgs, parseLatencyArgs } from './args.js';
import { DaemonConnection, RemoteClient, RemoteCpuMeter } from './controller.js';
import { ClientDaemon } from './daemon.js';
import { SocketReader } from './lines.js';
import { decodeCpuTarget, decodeLatencyResult } from './marshall.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Big-endian uint64 words, as ipbench's `htonll` marshalling writes them. */
function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setBigUint64(8 * i, BigInt(values[i]!));
  return out;
}

/** latency.c's parse_arg: strtoll on every value, unknown keys fail the set-up. */
function originalLatencySetup(args: string): Record<string, number> | null {
  const known = ['bps', 'Mbps', 'samples', 'size', 'warmup', 'cooldown', 'drop'];
  const out: Record<string, number> = {};
  for (const tok of args.split(/[ \t,]+/).filter(Boolean)) {
    const [k, v = ''] = tok.split('=');
    if (k === 'socktype' || k === 'iface' || k === 'sockopts' || k === 'with_cpu_target') continue;
    if (!known.includes(k!)) return null;
    out[k!] = Number.parseInt(v, 10) || 0; // strtoll: leading integer, "0.05" → 0
  }
  return out;
}

interface FakeOriginal {
  port: number;
  lines: string[][];
}

/**
 * The original ipbenchd's client side as seen on the wire (transcripts from ipbenchd.py and
 * latency-check): 451 "Client setup failed" for an argument latency.c does not know; on START
 * it answers with `samples` RTTs unless `hang` (a test waiting for samples that never come).
 */
async function fakeOriginal(hang = false): Promise<FakeOriginal> {
  const lines: string[][] = [];
  const server: Server = createServer((socket: Socket) => {
    const session: string[] = [];
    lines.push(session);
    const reader = new SocketReader(socket);
    socket.on('error', () => {});
    socket.write('100 IPBENCH V1.0\n');
    let parsed: Record<string, number> | null = null;
    (async () => {
      for (;;) {
        const line = await reader.readLine();
        if (line === null) continue;
        session.push(line);
        const cmd = line.split(' ')[0];
        if (cmd === 'HELLO') socket.write('200 OK (Ready to go)\n');
        else if (cmd === 'LOAD') socket.write('200 OK\n');
        else if (cmd === 'SETUP') {
          const args = /args::"(.*)"/.exec(line)?.[1] ?? '';
          parsed = originalLatencySetup(args);
          if (!parsed) {
            socket.end('451 LOCAL PROCESSING ERROR (Client setup failed: latency-check)\n');
            return;
          }
          socket.write('200 OK\n');
        } else if (cmd === 'START') {
          if (hang) continue;
          const n = parsed!.samples!;
          const body = words(
            1_000_000,
            n,
            parsed!.size!,
            n,
            n,
            0,
            parsed!.bps!,
            parsed!.bps!,
            parsed!.bps!,
            ...new Array(n).fill(42),
          );
          socket.write(`220 VALID DATA (Data to follow)\nContent-length: ${body.length}\n`);
          socket.end(body);
          return;
        } else if (cmd === 'ABORT' || cmd === 'QUIT') {
          socket.end();
          return;
        }
      }
    })().catch(() => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  cleanup.push(() => {
    for (const s of lines) void s;
  });
  return { port: (server.address() as { port: number }).port, lines };
}

const timed: ClientRun = {
  rateMbps: 10,
  packetSize: 1024,
  warmupS: 0.05,
  durationS: 0.5,
  cooldownS: 0.05,
};

describe('RemoteClient drives the original ipbenchd (issue 15.2, 15.3)', () => {
  it('sends only arguments latency.c reads, as integers; a timed run becomes samples', async () => {
    const fake = await fakeOriginal();
    const client = new RemoteClient({ host: '127.0.0.1', port: fake.port, testTarget: '10.0.0.1' });
    const r = await client.start(timed);
    expect(r.rttUs.length).toBe(610); // floor(0.5 s · 10 Mb/s / (8 · 1024 B))
    const setup = fake.lines[0]!.find((l) => l.startsWith('SETUP'))!;
    const args = /args::"(.*)"/.exec(setup)![1]!;
    expect(args).toBe('bps=10000000,size=1024,warmup=1,cooldown=1,samples=610,socktype=udp');
    expect(args).not.toMatch(/duration/);
    for (const kv of args.split(',')) expect(kv).toMatch(/^\w+=(\d+|udp)$/);
  });

  it('fractional warm-up is rounded up to what strtoll reads, never dropped to 0', () => {
    const run = parseLatencyArgs('Mbps=1,size=64,warmup=0.5,cooldown=0.05,duration=2');
    const f = formatIpbenchLatencyArgs(run);
    expect(f.warmupS).toBe(1);
    expect(f.cooldownS).toBe(1);
    expect(originalLatencySetup(f.args)).toMatchObject({ warmup: 1, cooldown: 1 });
    // What the original would have done with the udf dialect: warmup=0.5 → 0, duration → refusal.
    expect(originalLatencySetup('warmup=0.5')).toEqual({ warmup: 0 });
    expect(originalLatencySetup('duration=2')).toBeNull();
  });

  it('the udf dialect still reaches udf daemons with fractional seconds and duration=', async () => {
    const client = new RemoteClient({
      host: '127.0.0.1',
      port: 1,
      testTarget: 'x',
      dialect: 'udf',
    });
    expect(client.argsFor(timed)).toBe(
      'bps=10000000,socktype=udp,size=1024,warmup=0.05,cooldown=0.05,duration=0.5',
    );
    const d = new ClientDaemon();
    cleanup.push(() => d.close());
    expect(parseLatencyArgs(client.argsFor(timed)).warmupS).toBe(0.05);
  });

  it('a timed test that does not finish is stopped like ipbench --reset (ABORT on a new connection)', async () => {
    const fake = await fakeOriginal(true);
    const client = new RemoteClient({
      host: '127.0.0.1',
      port: fake.port,
      testTarget: '10.0.0.1',
      resultTimeoutS: 0.2,
    });
    await expect(client.start(timed)).rejects.toMatchObject({ code: 'IPBENCH_TIMEOUT' });
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.lines.some((s) => s.includes('ABORT'))).toBe(true);
    expect(client.running).toBe(false);
  });
});

function summariseInput(rateMbps: number): ClientResult {
  return {
    requestedBps: rateMbps * 1e6,
    achievedBps: rateMbps * 1e6,
    sentBps: rateMbps * 1e6,
    size: 1024,
    durationUs: 1000,
    sends: 1,
    recvs: 1,
    late: 0,
    bad: 0,
    lost: 0,
    rttUs: new Float64Array([1]),
  };
}

/** A local load client that returns a fixed result after `ms` of real time. */
function stubClient(ms: number, fail?: Error): LoadClient {
  let running = false;
  return {
    get running() {
      return running;
    },
    start: (run) => {
      running = true;
      return new Promise<ClientResult>((resolve, reject) =>
        setTimeout(() => {
          running = false;
          if (fail) reject(fail);
          else
            resolve({
              requestedBps: run.rateMbps * 1e6,
              achievedBps: run.rateMbps * 1e6,
              sentBps: run.rateMbps * 1e6,
              size: run.packetSize ?? 1024,
              durationUs: 1000,
              sends: 2,
              recvs: 2,
              late: 0,
              bad: 0,
              lost: 0,
              rttUs: new Float64Array([1, 2]),
            });
        }, ms),
      );
    },
  };
}

describe('the CPU window (issue 15.4)', () => {
  it('the meter is prepared (calibrated) before the load starts, opened at the end of warm-up', async () => {
    const events: string[] = [];
    const clock = new RealClock();
    const meter: TargetCpuMeter = {
      prepare: async () => {
        events.push('prepare');
        await new Promise((r) => setTimeout(r, 30)); // calibration takes time
        events.push('prepared');
      },
      start: () => {
        events.push('start');
      },
      stop: () => {
        events.push('stop');
        return { utilisation: 0.5 };
      },
    };
    const client = stubClient(80);
    const wrapped: LoadClient = {
      get running() {
        return client.running;
      },
      start: (run) => {
        events.push('load');
        return client.start(run);
      },
    };
    const r = await new Ramp({
      clock,
      clients: [wrapped],
      loadsMbps: [10],
      warmupS: 0.01,
      durationS: 0.03,
      cooldownS: 0.01,
      cpuMeter: meter,
    }).run();
    expect(events).toEqual(['prepare', 'prepared', 'load', 'start', 'stop']);
    expect(r.steps[0]!.cpu?.utilisation).toBe(0.5);
  });

  it('RemoteCpuMeter: HELLO/LOAD/SETUP in prepare(), only START at the window, STOP at its end', async () => {
    const seen: string[] = [];
    const server = createServer((socket) => {
      const reader = new SocketReader(socket);
      socket.write('100 IPBENCH V1.0\n');
      (async () => {
        for (;;) {
          const line = (await reader.readLine()) ?? '';
          seen.push(line);
          if (line === 'START') continue;
          if (line === 'STOP') {
            const text = '-nan,CPU0: 0.0,CPU1: 0.0\0'; // the original with no 1 s sample
            socket.end(`220 VALID DATA (Data to follow)\nContent-length: ${text.length}\n${text}`);
            return;
          }
          socket.write('200 OK\n');
        }
      })().catch(() => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const meter = new RemoteCpuMeter({ host: '127.0.0.1', port });
    await meter.prepare();
    expect(seen).toEqual(['HELLO', 'LOAD cpu_target', 'SETUP args::""']);
    await meter.start();
    await expect(meter.stop()).rejects.toThrow(/cpu_target took no sample/);
    expect(seen.slice(3)).toEqual(['START', 'STOP']);
  });

  it('opens the window where the clients really measure (an original rounds warm-up up)', async () => {
    const rc = new RemoteClient({ host: 'h', testTarget: 't' });
    expect(rc.effectiveWindow(timed)).toEqual({ warmupS: 1, durationS: 0.5 });
    const clock = new EventClock(1000);
    let running = false;
    const client: LoadClient = {
      get running() {
        return running;
      },
      effectiveWindow: (run) => rc.effectiveWindow(run),
      start: (run) => {
        running = true;
        return new Promise((resolve) => {
          clock.schedule(clock.now() + 2000, () => {
            running = false;
            resolve({ ...summariseInput(run.rateMbps) });
          });
        });
      },
    };
    const opened: number[] = [];
    await new Ramp({
      clock,
      clients: [client],
      loadsMbps: [10],
      warmupS: 0.05,
      durationS: 0.5,
      cooldownS: 0.05,
      cpuMeter: {
        start: () => void opened.push(clock.now()),
        stop: () => {
          opened.push(clock.now());
          return { utilisation: 0 };
        },
      },
      drive: (done) => clock.runUntil(done),
    }).run();
    expect(opened).toEqual([1000, 1500]); // 1 s warm-up (as sent), 0.5 s window
  });

  it('decodes the original cpu_target text and keeps it verbatim', () => {
    const r = decodeCpuTarget(new TextEncoder().encode('12.5,CPU0: 30.1,CPU1: 12.0\0'));
    expect(r.utilisation).toBeCloseTo(0.125, 9);
    expect(r.text).toBe('12.5,CPU0: 30.1,CPU1: 12.0');
  });
});

describe('a failed step (issue 15.5)', () => {
  it('is a failed row; the scheduled meter calls are cancelled; no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const calls: string[] = [];
      const meter: TargetCpuMeter = {
        start: () => {
          calls.push('start');
          return Promise.reject(new Error('ECONNREFUSED'));
        },
        stop: () => {
          calls.push('stop');
          return Promise.reject(new Error('unreadable cpu_target result'));
        },
        abort: () => void calls.push('abort'),
      };
      const r = await new Ramp({
        clock: new RealClock(),
        clients: [stubClient(5, new Error('connect ECONNREFUSED 127.0.0.1:8036')), stubClient(40)],
        loadsMbps: [10, 20],
        warmupS: 0.02,
        durationS: 0.02,
        cooldownS: 0,
        cpuMeter: meter,
      }).run();
      await new Promise((r) => setTimeout(r, 80)); // past where the meter events were scheduled
      expect(r.steps).toHaveLength(2);
      expect(r.steps[0]!.error).toMatch(/ECONNREFUSED/);
      expect(r.steps[1]!.error).toMatch(/ECONNREFUSED/);
      expect(calls.filter((c) => c === 'abort')).toHaveLength(2);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a meter that fails after good clients keeps the clients’ numbers and marks the row', async () => {
    const r = await new Ramp({
      clock: new RealClock(),
      clients: [stubClient(30)],
      loadsMbps: [10],
      warmupS: 0.005,
      durationS: 0.01,
      cooldownS: 0,
      cpuMeter: {
        start: () => {},
        stop: () => Promise.reject(new Error('unreadable cpu_target result "-nan"')),
      },
      stopOnError: true,
    }).run();
    expect(r.steps[0]!.error).toMatch(/cpu meter: unreadable/);
    expect(r.steps[0]!.recvs).toBe(2);
  });
});

describe('output byte-identical to the ipbench controller (issue 15.6)', () => {
  // Two latency-check clients' marshalled results: time, samples, size, sends, recvs,
  // bad_packets, requested, achieved, sent, then the RTTs (µs).
  const a = words(1_000_000, 2, 1024, 2, 2, 3, 10_000_000, 9_000_000, 10_000_000, 1, 2);
  const b = words(1_000_000, 2, 1024, 2, 2, 0, 10_000_000, 9_500_000, 10_000_000, 1, 2);

  it('integer stddev: samples 1,2,1,2 print 0.00 (not 0.50); no header', () => {
    const step = summarise(20, [decodeLatencyResult(a, true), decodeLatencyResult(b, true)]);
    expect(rttStats(new Float64Array([1, 2, 1, 2])).stddev).toBe(0.5); // udf's own statistics
    expect(toIpbenchOutput([step])).toBe('20000000,18500000,20000000,1024,1,1,2,0.00,2,0\n');
    expect(toIpbenchOutput([step], { test: 'latency' })).toBe(
      '20000000,18500000,20000000,1024,1,1,2,0.00,2\n',
    );
  });

  it('appends cpu_target’s own text after a comma, like with_cpu_target', () => {
    const cpu = decodeCpuTarget(new TextEncoder().encode('32.1,CPU0: 30.0,CPU1: 34.2\0'));
    const step = summarise(20, [decodeLatencyResult(a, true)], cpu);
    expect(toIpbenchOutput([step], { test: 'latency' })).toBe(
      '10000000,9000000,10000000,1024,1,1,2,0.00,2,32.1,CPU0: 30.0,CPU1: 34.2\n',
    );
  });

  it('follows latency.c’s integer arithmetic', () => {
    // Σ = 105 → avg 26 (not 26.25); Σ (26 − x)² = 669 → 669 / 4 = 167 → √167 = 12.92 (not 12.93).
    expect(ipbenchRttStats([10, 20, 30, 45])).toEqual({
      count: 4,
      min: 10,
      avg: 26,
      max: 45,
      variance: 167,
      median: 30,
    });
    expect(printfFixed2(Math.sqrt(167))).toBe('12.92');
    expect(rttStats([10, 20, 30, 45]).stddev.toFixed(2)).toBe('12.93');
    // glibc's %.2f rounds exact ties to even; JS toFixed rounds them up.
    expect(printfFixed2(0.125)).toBe('0.12');
    expect(printfFixed2(0.375)).toBe('0.38');
    expect(printfFixed2(2.625)).toBe('2.62');
    expect(printfFixed2(1.005)).toBe('1.00');
    // uint64 wrap-around above 2^53 is reproduced (BigInt path) and agrees where both are exact.
    const big = [2 ** 40, 1, 2 ** 40 + 5];
    const s = ipbenchRttStats(big);
    const sum = 2n ** 41n + 6n;
    const avg = sum / 3n;
    const sq = big.reduce((acc, x) => {
      const d = BigInt.asUintN(64, avg - BigInt(x));
      return BigInt.asUintN(64, acc + BigInt.asUintN(64, d * d));
    }, 0n);
    expect(s.avg).toBe(Number(avg));
    expect(s.variance).toBe(Number(sq / 3n));
  });

  it('a failed step prints the controller’s failure line', () => {
    const step = { ...summarise(10, []), error: 'HELLO to x failed' };
    expect(toIpbenchOutput([step])).toBe('Ipbench failed : HELLO to x failed\n');
  });
});

describe('the controller does not trust daemons (issue 15.10)', () => {
  async function evil(script: (socket: Socket) => void): Promise<number> {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      script(socket);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    return (server.address() as { port: number }).port;
  }

  it('rejects a huge Content-length without waiting for it', async () => {
    const port = await evil((s) =>
      s.write('100 IPBENCH V1.0\n220 VALID DATA\nContent-length: 99999999999999999999\n'),
    );
    const conn = await DaemonConnection.open('127.0.0.1', port);
    await expect(conn.readData(5000)).rejects.toMatchObject({
      code: 'IPBENCH_PROTOCOL',
      message: expect.stringMatching(/above the \d+-byte limit/),
    });
    const port2 = await evil((s) =>
      s.write('100 IPBENCH V1.0\n220 VALID DATA\nContent-length: 200000000\n'),
    );
    const conn2 = await DaemonConnection.open('127.0.0.1', port2);
    await expect(conn2.readData(5000)).rejects.toThrow(/limit/);
  });

  it('times out a daemon that stalls: greeting, reply, result', async () => {
    const silent = await evil(() => {});
    await expect(
      DaemonConnection.open('127.0.0.1', silent, { replyTimeoutMs: 50 }),
    ).rejects.toMatchObject({ code: 'IPBENCH_TIMEOUT' });
    const stalls = await evil((s) => s.write('100 IPBENCH V1.0\n'));
    const conn = await DaemonConnection.open('127.0.0.1', stalls, { replyTimeoutMs: 50 });
    await expect(conn.expectOk('HELLO')).rejects.toMatchObject({ code: 'IPBENCH_TIMEOUT' });
    const conn2 = await DaemonConnection.open('127.0.0.1', stalls, { replyTimeoutMs: 50 });
    await expect(conn2.readData(50)).rejects.toMatchObject({ code: 'IPBENCH_TIMEOUT' });
  });

  it('gives up on endless text, with or without newlines', async () => {
    for (const junk of ['blah\n', 'x'.repeat(10_000)]) {
      const port = await evil((s) => {
        s.write('100 IPBENCH V1.0\n');
        const t = setInterval(() => {
          if (!s.destroyed) s.write(junk.repeat(100));
          else clearInterval(t);
        }, 1);
        s.on('close', () => clearInterval(t));
      });
      const conn = await DaemonConnection.open('127.0.0.1', port);
      await expect(conn.expectOk('HELLO')).rejects.toThrow(/text without a status line/);
    }
  });
});
