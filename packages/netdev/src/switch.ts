/**
 * A store-and-forward Ethernet switch. The paper's load came from four client machines through a
 * switch onto the target's one gigabit link, so the switch's egress port towards the target is
 * where aggregate offered load meets the line rate: frames queue there, serialise at the port's
 * rate and are dropped (and counted) when the port's queue is full.
 *
 * @module
 */

import { UdfError } from '@udf/lockfree';
import type { Clock } from './clock.js';
import { type FrameEndpoint, wireSeconds } from './wire.js';

/** Options of a {@link Switch}. */
export interface SwitchOptions {
  /** Time base for serialisation. */
  readonly clock: Clock;
  /** Number of ports. */
  readonly ports: number;
  /** Line rate of every port in bits per second (default 1 Gb/s). */
  readonly bitsPerSecond?: number;
  /**
   * Frames an egress port can hold waiting to be sent, beyond the one on the wire. Default 256:
   * an assumption for a small store-and-forward gigabit switch (no datasheet is modelled), large
   * enough not to drop below line rate.
   */
  readonly queueFrames?: number;
}

/** Per-port counters. */
export interface SwitchPortStats {
  /** Frames received on the port. */
  rxFrames: number;
  /** Frames sent out of the port. */
  txFrames: number;
  /** Frames dropped because the egress queue was full. */
  txQueueDrops: number;
}

class EgressPort {
  peer: FrameEndpoint | null = null;
  readonly queue: Uint8Array[] = [];
  busy = false;
  readonly stats: SwitchPortStats = { rxFrames: 0, txFrames: 0, txQueueDrops: 0 };
}

/** Error code thrown for a bad switch configuration or port number. */
export class SwitchConfigError extends UdfError {
  constructor(message: string) {
    super('SWITCH_CONFIG', message);
  }
}

/**
 * A learning switch: it learns source MAC addresses per ingress port, forwards unicast frames to
 * the learned port and floods broadcast, multicast and unknown destinations to every other port.
 */
export class Switch {
  private readonly clock: Clock;
  private readonly rate: number;
  private readonly queueFrames: number;
  private readonly egress: EgressPort[];
  private readonly table = new Map<number, number>();
  private readonly ingress: FrameEndpoint[];

  constructor(options: SwitchOptions) {
    if (!Number.isInteger(options.ports) || options.ports < 2) {
      throw new SwitchConfigError(`ports must be an integer >= 2, got ${options.ports}`);
    }
    this.clock = options.clock;
    this.rate = options.bitsPerSecond ?? 1e9;
    this.queueFrames = options.queueFrames ?? 256;
    this.egress = Array.from({ length: options.ports }, () => new EgressPort());
    this.ingress = this.egress.map((_, i) => ({ receive: (f: Uint8Array) => this.input(i, f) }));
  }

  /** The endpoint a device on port `index` transmits into. */
  port(index: number): FrameEndpoint {
    const p = this.ingress[index];
    if (!p) throw new SwitchConfigError(`no port ${index}`);
    return p;
  }

  /** Connect port `index`'s far end (the device that receives what the switch sends out of it). */
  connect(index: number, peer: FrameEndpoint): void {
    const e = this.egress[index];
    if (!e) throw new SwitchConfigError(`no port ${index}`);
    e.peer = peer;
  }

  /** Counters of port `index`. */
  stats(index: number): Readonly<SwitchPortStats> {
    const e = this.egress[index];
    if (!e) throw new SwitchConfigError(`no port ${index}`);
    return e.stats;
  }

  private input(from: number, frame: Uint8Array): void {
    this.egress[from]!.stats.rxFrames++;
    if (frame.length < 14) return;
    this.table.set(macKey(frame, 6), from);
    const multicast = (frame[0]! & 1) === 1;
    const to = multicast ? undefined : this.table.get(macKey(frame, 0));
    if (to !== undefined) {
      if (to !== from) this.enqueue(to, frame);
      return;
    }
    for (let i = 0; i < this.egress.length; i++) if (i !== from) this.enqueue(i, frame);
  }

  private enqueue(index: number, frame: Uint8Array): void {
    const e = this.egress[index]!;
    if (!e.peer) return;
    if (e.queue.length > this.queueFrames) {
      e.stats.txQueueDrops++;
      return;
    }
    e.queue.push(frame.slice());
    if (!e.busy) this.startNext(e);
  }

  private startNext(e: EgressPort): void {
    const frame = e.queue[0];
    if (!frame) {
      e.busy = false;
      return;
    }
    e.busy = true;
    const done = this.clock.now() + wireSeconds(frame.length, this.rate) * this.clock.hz;
    this.clock.schedule(done, () => {
      e.queue.shift();
      e.stats.txFrames++;
      e.peer?.receive(frame);
      this.startNext(e);
    });
  }
}

/** A MAC address as one number (48 bits fit a double exactly), so learning allocates nothing. */
function macKey(frame: Uint8Array, at: number): number {
  let k = 0;
  for (let i = at; i < at + 6; i++) k = k * 256 + frame[i]!;
  return k;
}
