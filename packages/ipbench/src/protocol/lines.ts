import type { Socket } from 'node:net';
import { IpbenchError } from '../errors.js';

/** Longest protocol line accepted (bytes); longer input is a syntax error. */
export const MAX_LINE = 4096;

/** Bytes buffered from a peer before reading from its socket pauses (TCP back-pressure). */
export const MAX_BUFFERED = 64 * 1024;

/**
 * Reads `\n`-terminated lines and exact byte counts from a socket, as promises.
 *
 * @remarks A line longer than {@link MAX_LINE} is delivered as `null` (then discarded up to its
 * newline; each further {@link MAX_LINE} bytes without one is another `null`) so the caller can
 * answer with a syntax error and keep serving. At most
 * {@link MAX_BUFFERED} bytes (or the pending {@link SocketReader.readBytes} count) are held:
 * beyond that the socket is paused until the reader catches up, so a peer that sends faster than
 * it is served is slowed down by TCP rather than growing this process's memory. After
 * {@link SocketReader.discard} everything that arrives is dropped.
 */
export class SocketReader {
  readonly #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #closed = false;
  #skipping = false;
  #discarding = false;
  #want = 0;
  #wake: (() => void) | null = null;

  /** @param socket - the connection to read */
  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.#discarding) return;
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      if (this.#buf.length > Math.max(MAX_BUFFERED, this.#want)) socket.pause();
      this.#notify();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('error', () => {
      this.#closed = true;
      this.#notify();
    });
  }

  /** True once the peer has gone and the buffer is drained. */
  get ended(): boolean {
    return this.#closed && this.#buf.length === 0;
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Drops what is buffered and everything that arrives from now on (e.g. after QUIT). */
  discard(): void {
    this.#discarding = true;
    this.#buf = Buffer.alloc(0);
    this.#socket.resume();
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #wait(): Promise<void> {
    if (this.#closed || this.#discarding) {
      throw new IpbenchError('IPBENCH_PROTOCOL', 'connection closed');
    }
    if (this.#socket.isPaused() && this.#buf.length <= Math.max(MAX_BUFFERED, this.#want)) {
      this.#socket.resume();
    }
    return new Promise((r) => {
      this.#wake = r;
    });
  }

  /** Next line without its `\r\n`; `null` for an over-long line. Rejects when the peer closes. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        const raw = this.#buf.subarray(0, nl);
        this.#buf = this.#buf.subarray(nl + 1);
        if (this.#skipping) {
          this.#skipping = false;
          continue;
        }
        if (raw.length > MAX_LINE) return null;
        return raw.toString('latin1').replace(/\r$/, '');
      }
      if (this.#buf.length > MAX_LINE) {
        // Every further MAX_LINE bytes without a newline count as one more over-long line.
        this.#buf = Buffer.alloc(0);
        this.#skipping = true;
        return null;
      }
      await this.#wait();
    }
  }

  /** Exactly `n` bytes. Rejects if the peer closes first. */
  async readBytes(n: number): Promise<Uint8Array> {
    this.#want = n;
    try {
      while (this.#buf.length < n) await this.#wait();
    } finally {
      this.#want = 0;
    }
    const out = Uint8Array.prototype.slice.call(this.#buf, 0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
}
