import { connect, type Socket } from 'node:net';
import type { CpuReading, TargetCpuMeter } from '../cpu/meter.js';
import { IpbenchError } from '../errors.js';
import { type ClientResult, type ClientRun, type LoadClient, resolveRun } from '../load.js';
import { formatIpbenchLatencyArgs, formatLatencyArgs } from './args.js';
import type { Marshalled } from './daemon.js';
import { SocketReader } from './lines.js';
import { decodeCpuTarget, decodeLatencyResult } from './marshall.js';
import {
  CLIENT_DAEMON_PORT,
  parseStatusLine,
  type StatusReply,
  TARGET_DAEMON_PORT,
} from './status.js';

/** Limits the controller applies to what a daemon sends (it does not trust daemons). */
export const CONTROLLER_LIMITS = Object.freeze({
  /** Connecting and each control reply, ms. */
  replyTimeoutMs: 30_000,
  /** Free-text lines (HELP, STATUS output) skipped while waiting for one status line. */
  maxTextLines: 64,
  /**
   * Largest `Content-length` accepted: a latency result of 10 M samples (the daemons' own
   * `samples` limit) is 80 MB.
   */
  maxContentLength: 128 * 1024 * 1024,
});

/** Options of {@link DaemonConnection.open}. */
export interface DaemonConnectionOptions {
  /** Timeout for connecting and for each control reply, ms. Default 30 000. */
  replyTimeoutMs?: number;
  /** Largest result accepted, bytes. Default 128 MiB. */
  maxContentLength?: number;
}

/**
 * The controller's end of one ipbench daemon session.
 *
 * @remarks Every read is bounded: in time (`replyTimeoutMs`, or the caller's timeout for a
 * result), in line length (4096 bytes), in free text before a status line (64 lines) and in
 * result size (`Content-length` up to `maxContentLength`). A daemon that breaks a bound gets its
 * connection closed and the caller an `IPBENCH_TIMEOUT` or `IPBENCH_PROTOCOL` error.
 */
export class DaemonConnection {
  readonly #socket: Socket;
  readonly #reader: SocketReader;
  readonly #replyTimeoutMs: number;
  readonly #maxContentLength: number;

  private constructor(socket: Socket, options: DaemonConnectionOptions) {
    this.#socket = socket;
    this.#reader = new SocketReader(socket);
    this.#replyTimeoutMs = options.replyTimeoutMs ?? CONTROLLER_LIMITS.replyTimeoutMs;
    this.#maxContentLength = options.maxContentLength ?? CONTROLLER_LIMITS.maxContentLength;
  }

  /** Connects and checks the `100 IPBENCH V1.0` greeting. */
  static async open(
    host: string,
    port: number,
    options: DaemonConnectionOptions = {},
  ): Promise<DaemonConnection> {
    const timeoutMs = options.replyTimeoutMs ?? CONTROLLER_LIMITS.replyTimeoutMs;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, host, () => {
        clearTimeout(timer);
        s.off('error', fail);
        resolve(s);
      });
      const fail = (e: Error): void => {
        clearTimeout(timer);
        s.destroy();
        reject(e);
      };
      const timer = setTimeout(
        () =>
          fail(
            new IpbenchError(
              'IPBENCH_TIMEOUT',
              `no connection to ${host}:${port} in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      s.once('error', fail);
    });
    socket.on('error', () => {});
    const conn = new DaemonConnection(socket, options);
    const hello = await conn.readStatus();
    if (hello.code !== 100) {
      conn.close();
      throw new IpbenchError('IPBENCH_PROTOCOL', `unexpected greeting ${hello.code} ${hello.text}`);
    }
    return conn;
  }

  /** Runs `read` with a deadline; on expiry the connection is closed and `IPBENCH_TIMEOUT` thrown. */
  async #within<T>(ms: number, what: string, read: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let expired = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        this.#socket.destroy();
        reject(new IpbenchError('IPBENCH_TIMEOUT', `${what}: no answer in ${ms} ms`));
      }, ms);
    });
    const work = read();
    work.catch(() => {}); // settled by the race below; a late rejection must not go unhandled
    try {
      return await Promise.race([work, deadline]);
    } catch (e) {
      if (expired || e instanceof IpbenchError) throw e;
      throw new IpbenchError('IPBENCH_PROTOCOL', `${what}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one command line (no reply awaited). */
  send(line: string): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(`${line}\n`);
  }

  /** The next status line, skipping free text (HELP, STATUS output; at most 64 lines). */
  readStatus(timeoutMs = this.#replyTimeoutMs): Promise<StatusReply> {
    return this.#within(timeoutMs, 'status', async () => {
      for (let i = 0; ; i++) {
        if (i > CONTROLLER_LIMITS.maxTextLines) {
          this.#socket.destroy();
          throw new IpbenchError('IPBENCH_PROTOCOL', 'daemon sent text without a status line');
        }
        const line = await this.#reader.readLine();
        const status = line === null ? null : parseStatusLine(line);
        if (status) return status;
      }
    });
  }

  /** Sends `line` and returns the reply status. */
  async command(line: string): Promise<StatusReply> {
    this.send(line);
    return this.readStatus();
  }

  /** Sends `line` and throws `IPBENCH_PROTOCOL` unless the reply is 200. */
  async expectOk(line: string): Promise<void> {
    const s = await this.command(line);
    if (s.code !== 200) {
      throw new IpbenchError(
        'IPBENCH_PROTOCOL',
        `${line.split(' ')[0]} failed: ${s.code} ${s.text}${s.message ? ` (${s.message})` : ''}`,
      );
    }
  }

  /**
   * Reads `220`/`221` + `Content-length: N` + N bytes, all within `timeoutMs` (default the reply
   * timeout). A length above the limit closes the connection with `IPBENCH_PROTOCOL`.
   */
  readData(timeoutMs = this.#replyTimeoutMs): Promise<Marshalled> {
    return this.#within(timeoutMs, 'result', async () => {
      const s = await this.readStatus(timeoutMs);
      if (s.code !== 220 && s.code !== 221) {
        throw new IpbenchError('IPBENCH_PROTOCOL', `test failed: ${s.code} ${s.text} ${s.message}`);
      }
      const line = (await this.#reader.readLine()) ?? '';
      const m = /^Content-length:\s*(\d{1,15})\s*$/i.exec(line);
      const n = m ? Number(m[1]) : Number.NaN;
      if (!(n <= this.#maxContentLength)) {
        this.#socket.destroy();
        throw new IpbenchError(
          'IPBENCH_PROTOCOL',
          m || /^Content-length:/i.test(line)
            ? `Content-length ${line.slice(15, 50).trim()} above the ${this.#maxContentLength}-byte limit`
            : `expected Content-length, got ${JSON.stringify(line.slice(0, 60))}`,
        );
      }
      return { valid: s.code === 220, data: await this.#reader.readBytes(n) };
    });
  }

  /** Closes the session (sends QUIT first if still open). */
  close(): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.end('QUIT\n');
    this.#socket.destroy();
  }
}

/**
 * Aborts whatever test a daemon runs the way `ipbench --reset` does: a new connection, `ABORT`.
 * Best effort; never throws.
 */
export async function resetDaemon(host: string, port: number, timeoutMs = 5000): Promise<void> {
  try {
    const conn = await DaemonConnection.open(host, port, { replyTimeoutMs: timeoutMs });
    conn.send('ABORT');
    conn.close();
  } catch {
    // The daemon is gone or unreachable: nothing to abort.
  }
}

/** Options of a {@link RemoteClient}. */
export interface RemoteClientOptions {
  /** Host of the client daemon. */
  host: string;
  /** Its port. Default 8036. */
  port?: number;
  /** The target the client loads (`target::`). */
  testTarget: string;
  /** The target's echo port (`port::`). Default 7. */
  testPort?: number;
  /** Test name: `latency-check` (default; reports bad packets) or `latency`. */
  test?: 'latency' | 'latency-check';
  /**
   * Which daemon's arguments to send. `ipbench` (default) sends only what the original
   * `ipbenchd`'s tests read (see {@link formatIpbenchLatencyArgs}): whole seconds, `samples`
   * instead of a duration; udf's daemons read it too. `udf` sends udf's extension
   * (`duration=`, fractional seconds) for udf's daemons only.
   */
  dialect?: 'ipbench' | 'udf';
  /**
   * Seconds to wait for the result after START. Default: warm-up + cool-down + 3 × the
   * measurement + 30. On expiry the test is aborted as `ipbench --reset` does (a new connection
   * sends `ABORT`) and the run fails with `IPBENCH_TIMEOUT`.
   */
  resultTimeoutS?: number;
  /** Control reply timeout, ms. Default 30 000. */
  replyTimeoutMs?: number;
}

/**
 * A {@link LoadClient} that runs on an ipbench client daemon (this package's or the original
 * `ipbenchd`) over the line protocol.
 *
 * @remarks With the default `ipbench` dialect a run timed by `durationS` becomes a `samples`
 * run (the original has no timed test) and fractional warm-up / cool-down are rounded up to whole
 * seconds. A test that does not finish in `resultTimeoutS` is stopped the way the real
 * controller's `--reset` stops one: `ABORT` on a new connection.
 */
export class RemoteClient implements LoadClient {
  readonly #o: RemoteClientOptions;
  #running = false;

  /** @param options - where the daemon is and what it should load */
  constructor(options: RemoteClientOptions) {
    this.#o = options;
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#running;
  }

  /** The warm-up the daemon will apply (whole seconds in the `ipbench` dialect) and the measurement. */
  effectiveWindow(run: ClientRun): { warmupS: number; durationS: number } {
    const r = resolveRun(run);
    return {
      warmupS: this.#o.dialect === 'udf' ? r.warmupS : Math.ceil(r.warmupS),
      durationS: r.durationS,
    };
  }

  /** The SETUP arguments this client sends for `run`. */
  argsFor(run: ClientRun): string {
    if (this.#o.dialect === 'udf') return formatLatencyArgs(run);
    return formatIpbenchLatencyArgs(resolveRun(run)).args;
  }

  /** HELLO, LOAD, SETUP, START, then reads and decodes the marshalled result. */
  async start(run: ClientRun): Promise<ClientResult> {
    const o = this.#o;
    const test = o.test ?? 'latency-check';
    const port = o.port ?? CLIENT_DAEMON_PORT;
    const args = this.argsFor(run);
    const r = resolveRun(run);
    const timeoutS =
      o.resultTimeoutS ?? Math.ceil(r.warmupS) + Math.ceil(r.cooldownS) + 3 * r.durationS + 30;
    this.#running = true;
    try {
      const conn = await DaemonConnection.open(o.host, port, {
        ...(o.replyTimeoutMs !== undefined ? { replyTimeoutMs: o.replyTimeoutMs } : {}),
      });
      try {
        await conn.expectOk('HELLO');
        await conn.expectOk(`LOAD ${test}`);
        await conn.expectOk(
          `SETUP target::${o.testTarget}||port::${o.testPort ?? 7}||args::"${args}"`,
        );
        conn.send('START');
        let data: Uint8Array;
        try {
          ({ data } = await conn.readData(timeoutS * 1000));
        } catch (e) {
          if ((e as IpbenchError).code === 'IPBENCH_TIMEOUT') await resetDaemon(o.host, port);
          throw e;
        }
        return decodeLatencyResult(data, test === 'latency-check');
      } finally {
        conn.close();
      }
    } finally {
      this.#running = false;
    }
  }
}

/** Options of a {@link RemoteCpuMeter}. */
export interface RemoteCpuMeterOptions {
  /** Host of the target daemon. */
  host: string;
  /** Its port. Default 8037. */
  port?: number;
  /** Target test. Default `cpu_target`. */
  test?: string;
  /** Target test arguments. Default empty. */
  args?: string;
  /** Timeout of each control reply and of SETUP (calibration), ms. Default 30 000. */
  replyTimeoutMs?: number;
}

/**
 * A {@link TargetCpuMeter} backed by an ipbench target daemon running `cpu_target`.
 *
 * @remarks `prepare()` does HELLO, LOAD and SETUP, during which the original `cpu_target`
 * calibrates for ≈ 4 s, so the `Ramp` calls it before the load starts; `start()` sends START at
 * the start of the measured window and `stop()` STOP at its end, so the target measures exactly
 * that window. The original samples once a second: a window shorter than 1 s yields no sample
 * (its `-nan` result is reported as an `IPBENCH_PROTOCOL` error).
 */
export class RemoteCpuMeter implements TargetCpuMeter {
  readonly #o: RemoteCpuMeterOptions;
  #prepared: DaemonConnection | null = null;
  #conn: DaemonConnection | null = null;

  /** @param options - where the target daemon is */
  constructor(options: RemoteCpuMeterOptions) {
    this.#o = options;
  }

  /** HELLO, LOAD, SETUP (the target calibrates now, before any load). */
  async prepare(): Promise<void> {
    this.abort();
    const o = this.#o;
    const conn = await DaemonConnection.open(o.host, o.port ?? TARGET_DAEMON_PORT, {
      ...(o.replyTimeoutMs !== undefined ? { replyTimeoutMs: o.replyTimeoutMs } : {}),
    });
    try {
      await conn.expectOk('HELLO');
      await conn.expectOk(`LOAD ${o.test ?? 'cpu_target'}`);
      await conn.expectOk(`SETUP args::"${o.args ?? ''}"`);
      this.#prepared = conn;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** START (after {@link RemoteCpuMeter.prepare}, which it runs first if needed). */
  async start(): Promise<void> {
    if (!this.#prepared) await this.prepare();
    const conn = this.#prepared!;
    this.#prepared = null;
    conn.send('START');
    this.#conn = conn;
  }

  /** STOP, then reads and decodes the `cpu_target` result (its text kept in `text`). */
  async stop(): Promise<CpuReading> {
    const conn = this.#conn;
    if (!conn) throw new IpbenchError('IPBENCH_PROTOCOL', 'stop() before start()');
    this.#conn = null;
    try {
      conn.send('STOP');
      return decodeCpuTarget((await conn.readData()).data);
    } finally {
      conn.close();
    }
  }

  /** Closes a prepared or running session without a reading. */
  abort(): void {
    this.#prepared?.close();
    this.#conn?.close();
    this.#prepared = this.#conn = null;
  }
}
