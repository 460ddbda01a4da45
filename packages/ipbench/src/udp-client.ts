import { createSocket, type Socket } from 'node:dgram';
import { type Clock, RealClock } from './clock.js';
import { checkNumber, IpbenchError } from './errors.js';
import {
  type ClientResult,
  type ClientRun,
  type LoadClient,
  LoadEngine,
  type ProbeSender,
  resolveRun,
} from './load.js';
import { writeProbe } from './probe.js';

/** Options of a {@link UdpClient}. */
export interface UdpClientOptions extends Partial<ClientRun> {
  /** Target host (name or address). */
  host: string;
  /** Target UDP port (its echo service). Default 7. */
  port?: number;
  /** Local address to bind. Default any. */
  localAddress?: string;
  /** Clock; default a {@link RealClock}. */
  clock?: Clock;
  /** NIC speed the pacing respects, Mb/s. Default Infinity (the kernel paces). */
  linkMbps?: number;
  /** Payload buffers reused round-robin. Default 1024. */
  bufferPool?: number;
}

/**
 * An ipbench load client over a real UDP socket (`node:dgram`), for running clients as separate
 * processes or hosts against a real echo target. Same pacing and accounting as {@link SimClient}.
 */
export class UdpClient implements LoadClient, ProbeSender {
  /** Socket errors seen (e.g. ICMP port unreachable), counted not thrown. */
  readonly counters = { socketErrors: 0 };
  readonly #host: string;
  readonly #port: number;
  readonly #localAddress: string | undefined;
  readonly #defaults: Partial<ClientRun>;
  readonly #engine: LoadEngine;
  readonly #pool: Buffer[];
  #next = 0;
  #socket: Socket | null = null;

  /** @param options - target and run defaults */
  constructor(options: UdpClientOptions) {
    const { host, port = 7, localAddress, clock, linkMbps, bufferPool, ...defaults } = options;
    this.#host = host;
    this.#port = port;
    this.#localAddress = localAddress;
    this.#defaults = defaults;
    checkNumber('port', port, (v) => Number.isInteger(v) && v > 0 && v < 65536, 'a UDP port');
    this.#engine = new LoadEngine(
      clock ?? new RealClock(),
      this,
      linkMbps ?? Number.POSITIVE_INFINITY,
    );
    this.#pool = new Array<Buffer>(bufferPool ?? 1024);
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#engine.running;
  }

  /** Opens the socket, runs, closes the socket. */
  async start(run: Partial<ClientRun> = {}): Promise<ClientResult> {
    const host = this.#host;
    const port = this.#port;
    const localAddress = this.#localAddress;
    const defaults = this.#defaults;
    if (this.#engine.running || this.#socket) {
      throw new IpbenchError('IPBENCH_BUSY', 'client is already running');
    }
    const resolved = resolveRun({ ...defaults, ...run } as ClientRun);
    for (let i = 0; i < this.#pool.length; i++) this.#pool[i] = Buffer.alloc(resolved.packetSize);
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.on('error', () => this.counters.socketErrors++);
    socket.on('message', (msg) => this.#engine.handleEcho(msg, 0, msg.length));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, ...(localAddress ? { address: localAddress } : {}) }, () =>
        socket.connect(port, host, () => {
          socket.off('error', reject);
          resolve();
        }),
      );
    });
    try {
      return await new Promise<ClientResult>((resolve, reject) =>
        this.#engine.begin(resolved, resolve, reject),
      );
    } finally {
      this.#socket = null;
      socket.close();
    }
  }

  /** Stops the current run: its promise rejects with `IPBENCH_ABORTED`; the socket closes. */
  abort(): void {
    this.#engine.abort();
  }

  /** @internal Sends one probe (called by the engine). */
  sendProbe(seq: number, timestamp: number, size: number): void {
    const buf = this.#pool[this.#next]!;
    this.#next = (this.#next + 1) % this.#pool.length;
    writeProbe(buf, 0, seq, timestamp);
    this.#socket?.send(buf, 0, size);
  }
}
