import type { Clock } from './clock.js';
import { checkNumber, IpbenchError } from './errors.js';
import { FrameCheck, swapUdpFrameInPlace, UdpFrameReader } from './frames.js';
import type { FrameEndpoint } from './sim-client.js';

/** Options of an {@link EchoTarget}. */
export interface EchoTargetOptions {
  /** The clock echoes are scheduled on. */
  clock: Clock;
  /** Echo capacity in Mb/s of UDP payload (the target's bottleneck). Default Infinity. */
  capMbps?: number;
  /** Fixed turnaround per packet in seconds (added to queueing). Default 20e-6. */
  delayS?: number;
  /** Packets that may wait for the bottleneck before new ones are dropped. Default 256. */
  queueLimit?: number;
}

/**
 * An in-memory UDP echo target for tests, examples and benchmarks: swaps addresses and sends each
 * frame back to the endpoint registered for its source MAC, after a fixed delay and a FIFO
 * bottleneck of `capMbps`. Not a model of the paper's system — the sim apps are.
 */
export class EchoTarget implements FrameEndpoint {
  /** Frames echoed, dropped at the full queue, and ignored (not UDP, bad checksum, no route). */
  readonly counters = { echoed: 0, dropped: 0, ignored: 0 };

  readonly #clock: Clock;
  readonly #perBit: number;
  readonly #delay: number;
  readonly #limit: number;
  readonly #routes = new Map<string, FrameEndpoint>();
  readonly #reader = new UdpFrameReader();
  readonly #bufs: Uint8Array[];
  readonly #lens: Int32Array;
  readonly #dst: (FrameEndpoint | undefined)[];
  readonly #at: Float64Array;
  #head = 0;
  #count = 0;
  #busyUntil = 0;
  #armed = false;

  /** @param options - clock, cap, delay, queue */
  constructor(options: EchoTargetOptions) {
    const { clock, capMbps = Number.POSITIVE_INFINITY, delayS = 20e-6, queueLimit = 256 } = options;
    if (!(capMbps > 0)) {
      throw new IpbenchError('IPBENCH_BAD_CONFIG', `capMbps must be positive, got ${capMbps}`);
    }
    this.#clock = clock;
    this.#perBit = Number.isFinite(capMbps) ? clock.hz / (capMbps * 1e6) : 0;
    this.#delay = checkNumber('delayS', delayS, (v) => v >= 0, 'non-negative') * clock.hz;
    this.#limit = checkNumber(
      'queueLimit',
      queueLimit,
      (v) => Number.isInteger(v) && v > 0,
      'a positive integer',
    );
    const slots = this.#limit + 1;
    this.#bufs = Array.from({ length: slots }, () => new Uint8Array(0));
    this.#lens = new Int32Array(slots);
    this.#dst = new Array(slots);
    this.#at = new Float64Array(slots);
  }

  /** Registers where echoes to `mac` (`aa:bb:…`, case-insensitive) go. */
  connect(mac: string, endpoint: FrameEndpoint): void {
    this.#routes.set(mac.toLowerCase(), endpoint);
  }

  /** Accepts a frame for echoing (copied: the sender may reuse its buffer). */
  receive(frame: Uint8Array): void {
    if (this.#reader.check(frame) !== FrameCheck.Ok) {
      this.counters.ignored++;
      return;
    }
    const dst = this.#routes.get(macOf(frame, 6));
    if (!dst) {
      this.counters.ignored++;
      return;
    }
    if (this.#count >= this.#limit) {
      this.counters.dropped++;
      return;
    }
    const now = this.#clock.now();
    const start = Math.max(now, this.#busyUntil);
    this.#busyUntil = start + 8 * this.#reader.payloadLength * this.#perBit;
    const slot = (this.#head + this.#count) % this.#bufs.length;
    let buf = this.#bufs[slot]!;
    if (buf.length < frame.length) buf = this.#bufs[slot] = new Uint8Array(frame.length);
    buf.set(frame);
    this.#lens[slot] = frame.length;
    this.#dst[slot] = dst;
    this.#at[slot] = this.#busyUntil + this.#delay;
    this.#count++;
    if (!this.#armed) this.#arm();
  }

  #arm(): void {
    this.#armed = true;
    this.#clock.schedule(Math.ceil(this.#at[this.#head]!), this.#deliver);
  }

  #deliver = (): void => {
    this.#armed = false;
    const now = this.#clock.now();
    while (this.#count > 0 && this.#at[this.#head]! <= now) {
      const slot = this.#head;
      this.#head = (this.#head + 1) % this.#bufs.length;
      this.#count--;
      const frame = this.#bufs[slot]!.subarray(0, this.#lens[slot]!);
      swapUdpFrameInPlace(frame);
      this.counters.echoed++;
      this.#dst[slot]!.receive(frame);
    }
    if (this.#count > 0) this.#arm();
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function macOf(frame: Uint8Array, off: number): string {
  return `${HEX[frame[off]!]}:${HEX[frame[off + 1]!]}:${HEX[frame[off + 2]!]}:${HEX[frame[off + 3]!]}:${HEX[frame[off + 4]!]}:${HEX[frame[off + 5]!]}`;
}
