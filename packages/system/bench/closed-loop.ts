// A closed-loop UDP echo load: `window` datagrams in flight, each one re-sent as soon as its echo
// comes back (or after a loss timeout), so the rate is whatever the echo server sustains. The same
// loop drives every target; only the framing differs: a plain datagram for a `node:dgram` echo
// server, or the same payload in an Ethernet/IPv4/UDP frame per datagram for a NIC's UDP wire.
import { createSocket, type Socket } from 'node:dgram';
import {
  arpRequest,
  type FlowEnd,
  FrameClassifier,
  UDP_PAYLOAD_OFFSET,
  udpFrame,
} from './frames.js';

/** A UDP address. */
export interface Address {
  readonly address: string;
  readonly port: number;
}

/** How payloads travel: bare datagrams, or Ethernet frames to a NIC's wire. */
export type Framing =
  | { readonly kind: 'datagram' }
  | { readonly kind: 'ethernet'; readonly me: FlowEnd; readonly target: FlowEnd };

/** Counts of a {@link ClosedLoop} since it started. */
export interface LoopMark {
  /** `performance.now()` of the mark. */
  readonly at: number;
  /** Echoes that came back intact and in time. */
  readonly echoed: number;
  /** Datagrams given up after the loss timeout (and re-sent). */
  readonly lost: number;
  /** Echoes of the wrong length, stale (after their timeout) or unrecognised. */
  readonly bad: number;
  /** Index into the round-trip samples at the mark. */
  readonly rttIndex: number;
}

const LOSS_TIMEOUT_MS = 200;
const SCAN_MS = 25;
const RTT_SAMPLES = 1 << 21;

/** Closed-loop echo load over one UDP socket in this thread. */
export class ClosedLoop {
  readonly #socket: Socket = createSocket('udp4');
  readonly #slots: Buffer[] = [];
  readonly #gen: Uint32Array;
  readonly #sentAt: Float64Array;
  readonly #rtt = new Float64Array(RTT_SAMPLES);
  #rttCount = 0;
  readonly #offset: number;
  readonly #length: number;
  readonly #classify: FrameClassifier | null;
  #echoed = 0;
  #lost = 0;
  #bad = 0;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #arpResolved: (() => void) | null = null;

  /**
   * @param target - where the echo server (or the NIC's wire) listens
   * @param framing - bare datagrams or Ethernet frames
   * @param payloadBytes - UDP payload bytes of every probe (≥ 8)
   * @param window - datagrams in flight
   */
  constructor(
    private readonly target: Address,
    private readonly framing: Framing,
    payloadBytes: number,
    private readonly window: number,
  ) {
    this.#gen = new Uint32Array(window);
    this.#sentAt = new Float64Array(window);
    this.#offset = framing.kind === 'ethernet' ? UDP_PAYLOAD_OFFSET : 0;
    this.#length = this.#offset + payloadBytes;
    this.#classify = framing.kind === 'ethernet' ? new FrameClassifier(framing.me) : null;
    for (let i = 0; i < window; i++) {
      const b =
        framing.kind === 'ethernet'
          ? udpFrame(framing.me, framing.target, payloadBytes)
          : Buffer.alloc(payloadBytes);
      for (let j = this.#offset + 8; j < b.length; j++) b[j] = (i + j) & 0xff;
      b.writeUInt32BE(i, this.#offset);
      this.#slots.push(b);
    }
    this.#socket.on('message', (m) => this.#receive(m));
    this.#socket.on('error', () => {
      this.#bad++;
    });
  }

  /** Bind; with Ethernet framing, exchange ARP with the stack first (it learns us from it). */
  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', () => resolve()));
    if (this.framing.kind !== 'ethernet') return;
    const { me, target } = this.framing;
    const request = arpRequest(me, target.ip);
    const resolved = new Promise<void>((r) => {
      this.#arpResolved = r;
    });
    for (let i = 0; i < 50 && this.#arpResolved !== null; i++) {
      this.#socket.send(request, this.target.port, this.target.address);
      await Promise.race([resolved, new Promise((r) => setTimeout(r, 100))]);
    }
    if (this.#arpResolved !== null) throw new Error('no ARP reply from the stack within 5 s');
  }

  /** Put the window in flight. */
  start(): void {
    this.#running = true;
    for (let i = 0; i < this.window; i++) this.#send(i);
    this.#timer = setInterval(() => this.#scan(), SCAN_MS);
  }

  /** The counts so far. */
  mark(): LoopMark {
    return {
      at: performance.now(),
      echoed: this.#echoed,
      lost: this.#lost,
      bad: this.#bad,
      rttIndex: this.#rttCount,
    };
  }

  /** Median round trip in µs of the echoes between two marks (NaN if none). */
  medianRttUs(from: LoopMark, to: LoopMark): number {
    const a = Math.min(from.rttIndex, RTT_SAMPLES);
    const b = Math.min(to.rttIndex, RTT_SAMPLES);
    if (b <= a) return Number.NaN;
    const s = this.#rtt.slice(a, b).sort();
    return s[s.length >> 1]! * 1000;
  }

  /** Stop sending, let late echoes drain, close the socket. */
  async close(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    await new Promise((r) => setTimeout(r, 50));
    this.#socket.close();
  }

  #send(slot: number): void {
    const b = this.#slots[slot]!;
    b.writeUInt32BE(++this.#gen[slot]!, this.#offset + 4);
    this.#sentAt[slot] = performance.now();
    this.#socket.send(b, this.target.port, this.target.address);
  }

  #scan(): void {
    const late = performance.now() - LOSS_TIMEOUT_MS;
    for (let i = 0; i < this.window; i++) {
      if (this.#sentAt[i]! < late) {
        this.#lost++;
        if (this.#running) this.#send(i);
      }
    }
  }

  #receive(m: Buffer): void {
    let at = 0;
    if (this.#classify !== null) {
      const k = this.#classify.classify(m);
      if (k.kind === 'arp-reply') {
        this.#arpResolved?.();
        this.#arpResolved = null;
        return;
      }
      if (k.kind === 'arp-request') {
        this.#socket.send(k.reply, this.target.port, this.target.address);
        return;
      }
      if (k.kind !== 'udp') {
        this.#bad++;
        return;
      }
      at = k.payloadOffset;
    }
    if (m.length !== this.#length || at !== this.#offset) {
      this.#bad++;
      return;
    }
    const slot = m.readUInt32BE(at);
    if (slot >= this.window || m.readUInt32BE(at + 4) !== this.#gen[slot]) {
      this.#bad++;
      return;
    }
    const now = performance.now();
    if (this.#rttCount < RTT_SAMPLES) this.#rtt[this.#rttCount] = now - this.#sentAt[slot]!;
    this.#rttCount++;
    this.#echoed++;
    if (this.#running) this.#send(slot);
    else this.#sentAt[slot] = Number.POSITIVE_INFINITY;
  }
}
