import { connect, type Socket } from 'node:net';
import type { CpuReading, TargetCpuMeter } from '../cpu/meter.js';
import { IpbenchError } from '../errors.js';
import type { ClientResult, ClientRun, LoadClient } from '../load.js';
import { formatLatencyArgs } from './args.js';
import type { Marshalled } from './daemon.js';
import { SocketReader } from './lines.js';
import { decodeCpuTarget, decodeLatencyResult } from './marshall.js';
import {
  CLIENT_DAEMON_PORT,
  parseStatusLine,
  type StatusReply,
  TARGET_DAEMON_PORT,
} from './status.js';

/** The controller's end of one ipbench daemon session. */
export class DaemonConnection {
  readonly #socket: Socket;
  readonly #reader: SocketReader;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#reader = new SocketReader(socket);
  }

  /** Connects and checks the `100 IPBENCH V1.0` greeting. */
  static async open(host: string, port: number): Promise<DaemonConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, host, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const conn = new DaemonConnection(socket);
    const hello = await conn.readStatus();
    if (hello.code !== 100) {
      conn.close();
      throw new IpbenchError('IPBENCH_PROTOCOL', `unexpected greeting ${hello.code} ${hello.text}`);
    }
    return conn;
  }

  /** Sends one command line (no reply awaited). */
  send(line: string): void {
    this.#socket.write(`${line}\n`);
  }

  /** The next status line, skipping free text (HELP, STATUS output). */
  async readStatus(): Promise<StatusReply> {
    for (;;) {
      const line = await this.#reader.readLine();
      const status = line === null ? null : parseStatusLine(line);
      if (status) return status;
    }
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

  /** Reads `220`/`221` + `Content-length: N` + N bytes. */
  async readData(): Promise<Marshalled> {
    const s = await this.readStatus();
    if (s.code !== 220 && s.code !== 221) {
      throw new IpbenchError('IPBENCH_PROTOCOL', `test failed: ${s.code} ${s.text} ${s.message}`);
    }
    const line = (await this.#reader.readLine()) ?? '';
    const m = /^Content-length:\s*(\d+)\s*$/i.exec(line);
    if (!m)
      throw new IpbenchError(
        'IPBENCH_PROTOCOL',
        `expected Content-length, got ${line.slice(0, 60)}`,
      );
    return { valid: s.code === 220, data: await this.#reader.readBytes(Number(m[1])) };
  }

  /** Closes the session (sends QUIT first if still open). */
  close(): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.end('QUIT\n');
    this.#socket.destroy();
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
}

/**
 * A {@link LoadClient} that runs on an ipbench client daemon (this package's or the original
 * `ipbenchd`) over the line protocol. Runs with `durationS` and no `samples` use this daemon's
 * `duration=` extension; the original needs `samples`.
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

  /** HELLO, LOAD, SETUP, START, then reads and decodes the marshalled result. */
  async start(run: ClientRun): Promise<ClientResult> {
    const o = this.#o;
    const test = o.test ?? 'latency-check';
    this.#running = true;
    const conn = await DaemonConnection.open(o.host, o.port ?? CLIENT_DAEMON_PORT);
    try {
      await conn.expectOk('HELLO');
      await conn.expectOk(`LOAD ${test}`);
      await conn.expectOk(
        `SETUP target::${o.testTarget}||port::${o.testPort ?? 7}||args::"${formatLatencyArgs(run)}"`,
      );
      conn.send('START');
      const { data } = await conn.readData();
      return decodeLatencyResult(data, test === 'latency-check');
    } finally {
      this.#running = false;
      conn.close();
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
}

/** A {@link TargetCpuMeter} backed by an ipbench target daemon running `cpu_target`. */
export class RemoteCpuMeter implements TargetCpuMeter {
  readonly #o: RemoteCpuMeterOptions;
  #conn: DaemonConnection | null = null;

  /** @param options - where the target daemon is */
  constructor(options: RemoteCpuMeterOptions) {
    this.#o = options;
  }

  /** HELLO, LOAD, SETUP, START. */
  async start(): Promise<void> {
    const o = this.#o;
    const conn = await DaemonConnection.open(o.host, o.port ?? TARGET_DAEMON_PORT);
    try {
      await conn.expectOk('HELLO');
      await conn.expectOk(`LOAD ${o.test ?? 'cpu_target'}`);
      await conn.expectOk(`SETUP args::"${o.args ?? ''}"`);
      conn.send('START');
      this.#conn = conn;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** STOP, then reads and decodes the `cpu_target` result. */
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
}
