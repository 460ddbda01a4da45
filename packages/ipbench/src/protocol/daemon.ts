import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
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

/** ipbench `cpu_target` on real threads: an {@link IdleLoopCpuMeter} calibrated at SETUP. */
export const idleLoopCpuTarget: TargetTestFactory = cpuTargetTest(async (setup) => {
  const cpus = /(?:^|,)cpus=(\d+)/.exec(setup.args)?.[1];
  return IdleLoopCpuMeter.create(cpus ? { workers: Number(cpus) } : {});
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

/** Options of a daemon. */
export interface DaemonOptions<F> {
  /** Tests by name, replacing the defaults. */
  tests?: Readonly<Record<string, F>>;
  /** Called with each protocol-level problem (for logs); the daemon keeps serving. */
  onError?: (error: Error) => void;
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
 */
abstract class Daemon<F extends ClientTestFactory | TargetTestFactory> {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** The tests this daemon can `LOAD`, by name. */
  protected readonly tests: Readonly<Record<string, F>>;
  /** Receives each protocol-level problem (see {@link DaemonOptions.onError}). */
  protected readonly onError: (error: Error) => void;
  #owner: object | null = null;
  #running = false;

  protected constructor(tests: Readonly<Record<string, F>>, onError?: (e: Error) => void) {
    this.tests = tests;
    this.onError = onError ?? (() => {});
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      this.#session(socket).catch((e: unknown) => this.onError(e as Error));
    });
  }

  /** `client` or `target`. */
  protected abstract readonly mode: 'client' | 'target';
  /** Default port for this mode. */
  protected abstract readonly defaultPort: number;

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

  /** Stops listening and drops open sessions. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #session(socket: Socket): Promise<void> {
    const reader = new SocketReader(socket);
    const me = {};
    const send = (text: string): void => {
      if (!socket.destroyed) socket.write(text);
    };
    const reply = (code: StatusCode, msg?: string): void => send(statusLine(code, msg));
    const end = (code?: StatusCode, msg?: string): void => {
      if (code) reply(code, msg);
      if (this.#owner === me) {
        this.#owner = null;
        this.#running = false;
      }
      socket.end();
    };
    /** Next command that is not HELP/STATUS; throws Hangup on ABORT/QUIT/close. */
    const next = async (): Promise<{ cmd: string; rest: string; line: string }> => {
      for (;;) {
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

    let active: { abort(): void } | null = null;
    try {
      reply(100);
      await expect('HELLO', 'HELLO');
      if (this.#owner !== null) {
        end(421, 'Already Running');
        return;
      }
      this.#owner = me;
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
      if (!socket.destroyed) socket.write(result.data);
      end();
    } catch (e) {
      active?.abort();
      if (!(e instanceof Hangup)) {
        this.onError(e as Error);
        end(400, (e as Error).message);
      } else if (!socket.destroyed) {
        end();
      }
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
      options.tests ?? { latency: udpLatencyTest(false), 'latency-check': udpLatencyTest(true) },
      options.onError,
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
    super(options.tests ?? { cpu_target: idleLoopCpuTarget }, options.onError);
  }
}

export type { Daemon };
