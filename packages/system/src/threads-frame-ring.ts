/**
 * The in-process wire of the threads engine: a NIC in the device worker and the load generator
 * in the main thread exchange Ethernet frames through two single-producer/single-consumer rings
 * of frame slots in `SharedArrayBuffer`s, no socket in between (for fast runs and tests). The
 * consumer sleeps with `Atomics.waitAsync` on the very word the producer changes last (the ring's
 * tail), so a frame pushed between its last look and its wait wakes it at once.
 *
 * @module
 */
import type { FrameEndpoint } from '@udf/netdev';
import { FrameDemux } from './threads-wire.js';

/** Bytes of one frame slot: a length word and up to 1518 bytes (a VLAN-tagged frame without FCS). */
export const FRAME_SLOT_BYTES = 1524;
const HEADER_BYTES = 16;
const HEAD = 0;
const TAIL = 1;
const DROPS = 2;
const CLOSED = 3;
const MAX_FRAME = FRAME_SLOT_BYTES - 4;

/** One direction of the in-process wire: an SPSC ring of frame slots. */
export class FrameRing {
  /** The ring's memory (hand it to the other thread). */
  readonly buffer: SharedArrayBuffer;
  readonly #ctl: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #slots: number;
  /** Per slot, the last view handed out for it (reused while frames keep its length). */
  readonly #frames: (Uint8Array | undefined)[];

  /**
   * A ring of `slots` frame slots.
   *
   * @param slots - capacity in frames (default 512)
   */
  static create(slots = 512): FrameRing {
    return new FrameRing(new SharedArrayBuffer(HEADER_BYTES + slots * FRAME_SLOT_BYTES));
  }

  /** @param buffer - a ring's memory from {@link FrameRing.create} (possibly another thread's) */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#ctl = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
    this.#slots = Math.floor((buffer.byteLength - HEADER_BYTES) / FRAME_SLOT_BYTES);
    this.#frames = new Array<Uint8Array | undefined>(this.#slots);
  }

  /** A view of `len` bytes of the frame slot at byte `at`: the slot's cached one if it fits. */
  #frame(slot: number, at: number, len: number): Uint8Array {
    let v = this.#frames[slot];
    if (v === undefined || v.length !== len) {
      v = this.#bytes.subarray(at + 4, at + 4 + len);
      this.#frames[slot] = v;
    }
    return v;
  }

  /** Frames dropped by the producer: ring full or frame too long. */
  get drops(): number {
    return Atomics.load(this.#ctl, DROPS);
  }

  /** Producer: copy `frame` into the next slot and publish it. @returns false if dropped */
  push(frame: Uint8Array): boolean {
    const tail = Atomics.load(this.#ctl, TAIL);
    const head = Atomics.load(this.#ctl, HEAD);
    if (tail - head >= this.#slots || frame.length > MAX_FRAME) {
      Atomics.add(this.#ctl, DROPS, 1);
      return false;
    }
    const at = HEADER_BYTES + (tail % this.#slots) * FRAME_SLOT_BYTES;
    this.#view.setUint32(at, frame.length, true);
    this.#bytes.set(frame, at + 4);
    Atomics.store(this.#ctl, TAIL, tail + 1);
    Atomics.notify(this.#ctl, TAIL);
    return true;
  }

  /**
   * Consumer: hand every published frame to `deliver` (a view into the slot, valid only during
   * the call; views are reused, so a stream of frames of one length allocates none), then free
   * the slots. @returns frames delivered
   */
  drain(deliver: (frame: Uint8Array) => void): number {
    let head = Atomics.load(this.#ctl, HEAD);
    const tail = Atomics.load(this.#ctl, TAIL);
    let n = 0;
    while (head !== tail) {
      const slot = head % this.#slots;
      const at = HEADER_BYTES + slot * FRAME_SLOT_BYTES;
      const len = Math.min(this.#view.getUint32(at, true), MAX_FRAME);
      try {
        deliver(this.#frame(slot, at, len));
      } catch {
        // a receiver that throws on a frame (a model bug) must not stop the wire
      }
      head++;
      n++;
    }
    Atomics.store(this.#ctl, HEAD, head);
    return n;
  }

  /** Consumer: resolves when a frame may be waiting (or the ring was closed). */
  async wait(): Promise<void> {
    const tail = Atomics.load(this.#ctl, TAIL);
    if (tail !== Atomics.load(this.#ctl, HEAD) || this.closed) return;
    // a close racing this wait changes no word the wait watches: look again every 50 ms
    const w = Atomics.waitAsync(this.#ctl, TAIL, tail, 50);
    if (w.async) await w.value;
  }

  /** Whether either side closed the ring. */
  get closed(): boolean {
    return Atomics.load(this.#ctl, CLOSED) !== 0;
  }

  /** Close: a waiting consumer returns and stops. */
  close(): void {
    Atomics.store(this.#ctl, CLOSED, 1);
    Atomics.notify(this.#ctl, TAIL);
  }
}

/**
 * Pump a ring into `deliver` until it is closed: drain, call `after` (e.g. wake the device
 * loop), wait, repeat.
 */
export async function pumpFrames(
  ring: FrameRing,
  deliver: (frame: Uint8Array) => void,
  after: () => void = () => {},
): Promise<void> {
  while (!ring.closed) {
    if (ring.drain(deliver) > 0) after();
    await ring.wait();
  }
}

/** Counters of an {@link InProcessFrameLink}. */
export interface InProcessLinkCounters {
  /** Frames pushed towards the NIC. */
  sent: number;
  /** Frames from the NIC handed to a client. */
  received: number;
  /** Frames for no attached client, or lost to a full ring. */
  dropped: number;
}

/**
 * The main thread's end of the in-process wire: frames from clients go into the NIC's inbound
 * ring, frames the NIC sends are handed to the client their destination MAC names (broadcasts to
 * every client).
 */
export class InProcessFrameLink implements FrameEndpoint {
  /** Counters. */
  readonly counters: InProcessLinkCounters = { sent: 0, received: 0, dropped: 0 };
  readonly #toNic: FrameRing;
  readonly #fromNic: FrameRing;
  readonly #demux = new FrameDemux();
  #pump: Promise<void> | null = null;

  /**
   * @param toNic - the ring the NIC consumes
   * @param fromNic - the ring the NIC produces
   */
  constructor(toNic: FrameRing, fromNic: FrameRing) {
    this.#toNic = toNic;
    this.#fromNic = fromNic;
  }

  /** Start delivering the NIC's frames. */
  open(): void {
    this.#pump ??= pumpFrames(this.#fromNic, (f) => {
      if (this.#demux.deliver(f)) this.counters.received++;
      else this.counters.dropped++;
    });
  }

  /** Frames addressed to `mac` (and broadcasts) go to `endpoint`. */
  attach(mac: string, endpoint: FrameEndpoint): void {
    this.#demux.attach(mac, endpoint);
  }

  /** A frame from a client, to the NIC. */
  receive(frame: Uint8Array): void {
    if (this.#toNic.push(frame)) this.counters.sent++;
    else this.counters.dropped++;
  }

  /** Stop both directions. */
  async close(): Promise<void> {
    this.#fromNic.close();
    this.#toNic.close();
    await this.#pump;
  }
}
