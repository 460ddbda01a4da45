import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { IdleLoopCpuMeter } from '../cpu/idle-loop.js';
import type { TargetCpuMeter } from '../cpu/meter.js';
import { IpbenchError } from '../errors.js';
import { UdpClient } from '../udp-client.js';
import { parseLatencyArgs } from './args.js';
import { SocketReader } from './lines.js';
import { encodeCpuTarget, encodeLatencyResult } from './marshall.js';
import { CLIENT_DAEMON_PORT, type StatusCode, statusLine, TARGET_DAEMON_PORT } from './status.js';

/** What SETUP told a test. */
export interface TestSetup {
  /** Host the client test loads (`target::`); empty for target tests. */
  target: string;
  /** Port on that host (`port::`); 0 for target tests. */
  port: number;
  /** The test's own argument string (`args::"…"`, quotes removed). */
  args: string;
}

/** A test's marshalled result, sent after `220 VALID DATA` (or `221 INVALID DATA`). */
export interface Marshalled {
  /** False sends 221 INVALID DATA. */
  valid: boolean;
  /** The bytes after `Content-length:`. */
  data: Uint8Array;
}

/** A client-side test (e.g. `latency`): runs to completion after START. */
export interface ClientTest {
  /** Runs the test and marshals its result. */
  run(): Promise<Marshalled>;
  /** Stops a running test (ABORT, or the controller went away). */
  abort(): void;
}

/** A target-side test (e.g. `cpu_target`): runs from START until STOP. */
export interface TargetTest {
  /** Begins measuring. */
  start(): void | Promise<void>;
  /** Ends measuring and marshals the result. */
  stop(): Marshalled | Promise<Marshalled>;
  /** Releases resources without a result. */
  abort(): void;
}

/** Builds a client test from SETUP; throw {@link IpbenchError} for bad arguments. */
export type ClientTestFactory = (setup: TestSetup) => ClientTest | Promise<ClientTest>;
/** Builds a target test from SETUP; throw {@link IpbenchError} for bad arguments. */
export type TargetTestFactory = (setup: TestSetup) => TargetTest | Promise<TargetTest>;

/** The UDP `latency` / `latency-check` client test over {@link UdpClient}. */
export function udpLatencyTest(withBadPackets: boolean): ClientTestFactory {
  return (setup) => {
    const run = parseLatencyArgs(setup.args);
    const client = new UdpClient({ host: setup.target, port: setup.port });
    return {
      run: async () => ({
        valid: true,
        data: encodeLatencyResult(await client.start(run), withBadPackets),
      }),
      abort: () => client.abort(),
    };
  };
}

/**
 * A `cpu_target` test around any meter; `close` (if given) runs after STOP or ABORT.
 * The result is ipbench's `cpu_target` text.
 */
export function cpuTargetTest(
  makeMeter: (setup: TestSetup) => Promise<TargetCpuMeter & { close?(): Promise<void> }>,
): TargetTestFactory {
  return async (setup) => {
    const meter = await makeMeter(setup);
    return {
      start: () => meter.start(),
      stop: async () => {
        try {
          return { valid: true, data: encodeCpuTarget(await meter.stop()) };
        } finally {
          await meter.close?.();
        }
      },
      abort: () => void meter.close?.(),
    };
  };
}

/**
 * Parses `cpu_target`'s `cpus=N` (ipbench's only argument here that sizes anything); `N` must be
 * an integer in [1, `maxCpus`]. Throws `IPBENCH_BAD_CONFIG` otherwise.
 */
export function parseCpusArg(args: string, maxCpus: number): number | undefined {
  const m = /(?:^|[\s,])cpus=([^\s,]*)/.exec(args);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!/^\d+$/.test(m[1]!) || n < 1 || n > maxCpus) {
    throw new IpbenchError(
      'IPBENCH_BAD_CONFIG',
      `cpus=${m[1]!.slice(0, 20)} out of range: this machine takes 1..${maxCpus}`,
    );
  }
  return n;
}

/**
 * ipbench `cpu_target` on real threads: an {@link IdleLoopCpuMeter} calibrated at SETUP (before
 * START, so before the load). `cpus=N` is bounded by the machine's CPU count.
 */
export const idleLoopCpuTarget: TargetTestFactory = cpuTargetTest(async (setup) => {
  const cpus = parseCpusArg(setup.args, availableParallelism());
  return IdleLoopCpuMeter.create(cpus ? { workers: cpus } : {});
});

const HELP_CLIENT = [
  'HELP OPTIONS',
  '------------',
  'HELP',
  'HELLO',
  'LOAD <test>',
  'SETUP target::<test-target>||port::<test-port>||args::"<test-args>"',
  'START',
  'ABORT',
  'STATUS',
  'QUIT',
];
const HELP_TARGET = [
  'HELP OPTIONS',
  '------------',
  'HELP',
  'HELLO',
  'LOAD <test>',
  'SETUP args::"<target-test-args>"',
  'START',
  'STOP',
  'ABORT',
  'STATUS',
  'QUIT',
];

/** Limits a daemon applies to its peers (see the README's "Limits"). */
export const DAEMON_LIMITS = Object.freeze({
  /** Open control connections; more get `421 … (too many connections)` and are closed. */
  maxConnections: 16,
  /** A session that is not running a test is closed after this long without input (ms). */
  idleTimeoutMs: 60_000,
  /** Reply bytes queued to a peer that does not read before the daemon stops reading it. */
  maxQueuedReplyBytes: 64 * 1024,
});

/** Options of a daemon. */
export interface DaemonOptions<F> {
  /** Tests by name, replacing the defaults. */
  tests?: Readonly<Record<string, F>>;
  /** Called with each protocol-level problem (for logs); the daemon keeps serving. */
  onError?: (error: Error) => void;
  /** Open connections allowed. Default {@link DAEMON_LIMITS}.maxConnections. */
  maxConnections?: number;
  /** Idle timeout of a session not running a test, ms. Default {@link DAEMON_LIMITS}.idleTimeoutMs. */
  idleTimeoutMs?: number;
}

class Hangup extends Error {}

/**
 * An ipbench daemon speaking `ipbenchd`'s line protocol: greeting `100 IPBENCH V1.0`, then
 * `HELLO` → `LOAD <test>` → `SETUP …` → `START` (→ `STOP` on a target) → `220 VALID DATA` +
 * `Content-length: N` + N bytes, then the connection closes. `HELP`, `STATUS`, `ABORT` and
 * `QUIT` work in any state. One test runs at a time (`421` to a second controller).
 *
 * @remarks Unknown or malformed commands get `500 SYNTAX ERROR (…)` and the session continues;
 * an unknown test, bad test arguments or a failing test get `451 LOCAL PROCESSING ERROR (…)` and
 * that session ends, like ipbenchd. The server keeps accepting connections in every case.
 *
 * A controller that disconnects releases the daemon (and aborts its test). `ABORT` from another
 * connection aborts the running test, as `ipbench --reset` expects. Every peer is bounded
 * ({@link DAEMON_LIMITS}): connections, idle time, queued replies (the daemon stops reading a
 * peer that does not read its replies), input after `QUIT` (dropped), and the tests' arguments.
 */
abstract class Daemon<F extends ClientTestFactory | TargetTestFactory> {
  readonly #server: Server;
  readonly #sockets = new Map<Socket, SocketReader | null>();
  readonly #maxConnections: number;
  readonly #idleTimeoutMs: number;
  /** The tests this daemon can `LOAD`, by name. */
  protected readonly tests: Readonly<Record<string, F>>;
  /** Receives each protocol-level problem (see {@link DaemonOptions.onError}). */
  protected readonly onError: (error: Error) => void;
  #owner: object | null = null;
  #abortOwner: (() => void) | null = null;
  #running = false;

  protected constructor(options: DaemonOptions<F>, tests: Readonly<Record<string, F>>) {
    this.tests = tests;
    this.onError = options.onError ?? (() => {});
    this.#maxConnections = options.maxConnections ?? DAEMON_LIMITS.maxConnections;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DAEMON_LIMITS.idleTimeoutMs;
    this.#server = createServer((socket) => {
      socket.on('error', () => {});
      if (this.#sockets.size >= this.#maxConnections) {
        socket.end(statusLine(421, 'too many connections'));
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      this.#sockets.set(socket, null);
      socket.on('close', () => this.#sockets.delete(socket));
      this.#session(socket).catch((e: unknown) => this.onError(e as Error));
    });
  }

  /** `client` or `target`. */
  protected abstract readonly mode: 'client' | 'target';
  /** Default port for this mode. */
  protected abstract readonly defaultPort: number;

  /** True while a controller holds the daemon (from its `HELLO` until it finishes or leaves). */
  get busy(): boolean {
    return this.#owner !== null;
  }

  /** Open control connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Bytes held for all peers: replies not yet taken by them plus input not yet handled. */
  get queuedBytes(): number {
    let n = 0;
    for (const [socket, reader] of this.#sockets)
      n += socket.writableLength + (reader?.buffered ?? 0);
    return n;
  }

  /** Starts listening (default port 8036 client / 8037 target; pass 0 for an ephemeral one). */
  listen(port: number = this.defaultPort, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Stops listening, aborts a running test and drops open sessions. */
  close(): Promise<void> {
    this.#abortOwner?.();
    for (const s of this.#sockets.keys()) s.destroy();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #session(socket: Socket): Promise<void> {
    const reader = new SocketReader(socket);
    if (this.#sockets.has(socket)) this.#sockets.set(socket, reader);
    const me = {};
    let active: { abort(): void } | null = null;
    const release = (): void => {
      if (this.#owner === me) {
        this.#owner = null;
        this.#abortOwner = null;
        this.#running = false;
      }
    };
    const send = (text: string): void => {
      if (!socket.destroyed && socket.writable) socket.write(text);
    };
    const reply = (code: StatusCode, msg?: string): void => send(statusLine(code, msg));
    const end = (code?: StatusCode, msg?: string): void => {
      if (code) reply(code, msg);
      release();
      reader.discard();
      socket.end();
      // A peer that never closes its side is dropped after a grace period.
      setTimeout(() => socket.destroy(), 5000).unref();
    };
    socket.setTimeout(this.#idleTimeoutMs, () => {
      // A running test keeps its (silent) controller; any other session idles out.
      if (this.#owner === me && this.#running) return;
      end(421, `idle for ${Math.round(this.#idleTimeoutMs / 1000)} s`);
      socket.destroy();
    });
    const drained = async (): Promise<void> => {
      while (socket.writableLength > DAEMON_LIMITS.maxQueuedReplyBytes && !socket.destroyed) {
        await new Promise<void>((r) => {
          const done = (): void => {
            socket.off('drain', done);
            socket.off('close', done);
            r();
          };
          socket.on('drain', done);
          socket.on('close', done);
        });
      }
    };
    /** Next command that is not HELP/STATUS; throws Hangup on ABORT/QUIT/close. */
    const next = async (): Promise<{ cmd: string; rest: string; line: string }> => {
      for (;;) {
        // Back-pressure: answer nothing more until the peer has read what it was sent.
        await drained();
        let line: string | null;
        try {
          line = await reader.readLine();
        } catch {
          throw new Hangup('closed');
        }
        if (line === null) {
          reply(500, `line longer than 4096 bytes`);
          continue;
        }
        const m = /^\s*(\S+)\s*(.*)$/.exec(line);
        if (!m) {
          reply(500, 'empty line');
          continue;
        }
        const cmd = m[1]!.toUpperCase();
        const rest = m[2]!;
        if (cmd === 'HELP') {
          send(`${(this.mode === 'target' ? HELP_TARGET : HELP_CLIENT).join('\n')}\n`);
          reply(200);
        } else if (cmd === 'STATUS') {
          send(this.mode === 'target' ? 'Target Daemon mode\n' : 'Testing Daemon mode\n');
          send(this.#running ? `Running a test (${process.pid})\n` : 'Not running a test\n');
          reply(200);
        } else if (cmd === 'QUIT') {
          end(222, 'Come back soon!');
          throw new Hangup('quit');
        } else if (cmd === 'ABORT') {
          // Like ipbenchd: ABORT stops whatever test is running, whoever started it.
          if (this.#owner !== me) this.#abortOwner?.();
          end();
          throw new Hangup('abort');
        } else {
          return { cmd, rest, line };
        }
      }
    };
    const expect = async (want: string, usage: string): Promise<string> => {
      for (;;) {
        const c = await next();
        if (c.cmd === want) return c.rest;
        reply(500, `expected ${usage}, got ${c.cmd.slice(0, 40)}`);
      }
    };

    try {
      reply(100);
      await expect('HELLO', 'HELLO');
      if (this.#owner !== null) {
        end(421, 'Already Running');
        return;
      }
      this.#owner = me;
      this.#abortOwner = () => {
        active?.abort();
        socket.destroy();
        release();
      };
      reply(200, 'Ready to go');

      let factory: F | undefined;
      for (;;) {
        const name = (await expect('LOAD', 'LOAD <test>')).trim();
        if (!/^[\w-]+$/.test(name)) {
          reply(500, 'LOAD needs a test name');
          continue;
        }
        factory = Object.hasOwn(this.tests, name) ? this.tests[name] : undefined;
        if (!factory) {
          end(451, `unknown test ${name}; have ${Object.keys(this.tests).join(', ')}`);
          return;
        }
        reply(200);
        break;
      }

      let setup: TestSetup;
      for (;;) {
        const parsed = parseSetup(await expect('SETUP', 'SETUP'), this.mode);
        if (typeof parsed === 'string') {
          reply(500, parsed);
          continue;
        }
        setup = parsed;
        break;
      }
      let test: ClientTest | TargetTest;
      try {
        test = await (
          factory as (s: TestSetup) => ClientTest | TargetTest | Promise<ClientTest | TargetTest>
        )(setup);
      } catch (e) {
        end(451, (e as Error).message);
        return;
      }
      active = test;
      if (socket.destroyed) throw new Hangup('closed during SETUP');
      reply(200);

      await expect('START', 'START');
      this.#running = true;
      let result: Marshalled;
      try {
        if (this.mode === 'client') {
          const run = (test as ClientTest).run();
          // Keep reading while the test runs so ABORT/QUIT/STATUS are honoured.
          const watch = (async () => {
            for (;;) {
              const c = await next();
              reply(500, `test running; ${c.cmd.slice(0, 40)} not accepted`);
            }
          })();
          watch.catch(() => (test as ClientTest).abort());
          result = await run;
        } else {
          await (test as TargetTest).start();
          await expect('STOP', 'STOP');
          result = await (test as TargetTest).stop();
        }
      } catch (e) {
        if (e instanceof Hangup) throw e;
        end(451, (e as Error).message);
        return;
      }
      active = null;
      reply(result.valid ? 220 : 221, 'Data to follow');
      send(`Content-length: ${result.data.length}\n`);
      if (!socket.destroyed && socket.writable) socket.write(result.data);
      end();
    } catch (e) {
      active?.abort();
      if (!(e instanceof Hangup)) {
        this.onError(e as Error);
        end(400, (e as Error).message);
      } else if (!socket.destroyed) {
        end();
      }
    } finally {
      // However the session ends (QUIT, ABORT, a dropped connection, an error), it frees the daemon.
      release();
    }
  }
}

function parseSetup(rest: string, mode: 'client' | 'target'): TestSetup | string {
  const setup: TestSetup = { target: '', port: 0, args: '' };
  const seen = new Set<string>();
  for (const part of rest.split('||')) {
    const i = part.indexOf('::');
    if (i < 0) return `SETUP field ${JSON.stringify(part.slice(0, 40))} is not key::value`;
    const key = part.slice(0, i).trim();
    const val = part.slice(i + 2);
    seen.add(key);
    if (key === 'target') setup.target = val.trim();
    else if (key === 'port') {
      const p = Number(val);
      if (!Number.isInteger(p) || p < 0 || p > 65535) return `bad port ${JSON.stringify(val)}`;
      setup.port = p;
    } else if (key === 'args') {
      const v = val.trim();
      setup.args = v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    } else return `unknown SETUP field ${JSON.stringify(key.slice(0, 40))}`;
  }
  if (mode === 'client' && (!seen.has('target') || !setup.target || !seen.has('port'))) {
    return 'SETUP needs target::<host>||port::<port>||args::"<args>"';
  }
  return setup;
}

/** An ipbench client (tester) daemon: runs load tests against a target on the controller's behalf. */
export class ClientDaemon extends Daemon<ClientTestFactory> {
  /** @inheritDoc */
  protected readonly mode = 'client';
  /** @inheritDoc */
  protected readonly defaultPort = CLIENT_DAEMON_PORT;

  /** @param options - tests (default `latency` and `latency-check` over UDP) and error hook */
  constructor(options: DaemonOptions<ClientTestFactory> = {}) {
    super(
      options,
      options.tests ?? { latency: udpLatencyTest(false), 'latency-check': udpLatencyTest(true) },
    );
  }
}

/** An ipbench target daemon: measures the target (CPU) between START and STOP. */
export class TargetDaemon extends Daemon<TargetTestFactory> {
  /** @inheritDoc */
  protected readonly mode = 'target';
  /** @inheritDoc */
  protected readonly defaultPort = TARGET_DAEMON_PORT;

  /** @param options - tests (default `cpu_target` with an idle-loop meter) and error hook */
  constructor(options: DaemonOptions<TargetTestFactory> = {}) {
    super(options, options.tests ?? { cpu_target: idleLoopCpuTarget });
  }
}

export type { Daemon };
