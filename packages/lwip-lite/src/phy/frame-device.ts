/**
 * A {@link NetDevice} over plain frame endpoints: frames it transmits go to a connected
 * {@link FrameEndpoint}; frames that arrive on its own `receive` are copied into a receive pbuf
 * (the "DMA" of this device, not a stack copy). Two of them connected back to back are a loopback
 * wire ({@link loopbackPair}); then frames move between their dataspaces with no allocation.
 *
 * @module
 */
import { copyBytes, type Pbuf, PbufPool } from '../pbuf/pbuf.js';
import type { FrameEndpoint, NetDevice } from './device.js';

/** Sizing of a {@link FrameDevice}. */
export interface FrameDeviceOptions {
  /** Receive buffers (default 64). */
  readonly rxBuffers?: number;
  /** Transmit buffers (default 64). */
  readonly txBuffers?: number;
  /** Largest frame (default 1514). */
  readonly mtu?: number;
  /** Dataspace id of its buffers (default 1); rx and tx share one dataspace. */
  readonly dataspaceId?: number;
}

/** Counters of a {@link FrameDevice}. */
export interface FrameDeviceStats {
  /** Frames received into a buffer. */
  rxFrames: number;
  /** Frames dropped on arrival: no free receive buffer. */
  rxNoBuffer: number;
  /** Frames dropped on arrival: longer than the buffer. */
  rxTooLong: number;
  /** Frames transmitted. */
  txFrames: number;
  /** Frames dropped on transmit: nothing connected. */
  txUnconnected: number;
}

/** A device whose wire is a {@link FrameEndpoint}. */
export class FrameDevice implements NetDevice, FrameEndpoint {
  /** Largest frame. */
  readonly mtu: number;
  /** Counters. */
  readonly stats: FrameDeviceStats = {
    rxFrames: 0,
    rxNoBuffer: 0,
    rxTooLong: 0,
    txFrames: 0,
    txUnconnected: 0,
  };
  private readonly rxPool: PbufPool;
  private readonly txPool: PbufPool;
  private readonly rxQueue: (Pbuf | null)[];
  private rxHead = 0;
  private rxCount = 0;
  private peer: FrameEndpoint | null = null;

  /** @param options - buffer counts and MTU */
  constructor(options: FrameDeviceOptions = {}) {
    const rx = options.rxBuffers ?? 64;
    const tx = options.txBuffers ?? 64;
    this.mtu = options.mtu ?? 1514;
    const size = 2048;
    const bytes = new Uint8Array((rx + tx) * size);
    const dataspaceId = options.dataspaceId ?? 1;
    this.rxPool = new PbufPool({ dataspaceId, count: rx, bufferSize: size, bytes });
    this.txPool = new PbufPool({
      dataspaceId,
      count: tx,
      bufferSize: size,
      bytes,
      base: rx * size,
    });
    this.rxQueue = new Array<Pbuf | null>(rx).fill(null);
  }

  /** Send transmitted frames to `peer` (another device, a pcap tap, a NIC model's wire port). */
  connect(peer: FrameEndpoint): void {
    this.peer = peer;
  }

  /** Frames waiting to be taken with {@link FrameDevice.nextRx}. */
  get rxPending(): number {
    return this.rxCount;
  }

  /** Free transmit buffers. */
  get txAvailable(): number {
    return this.txPool.available;
  }

  /** Free receive buffers. */
  get rxAvailable(): number {
    return this.rxPool.available;
  }

  /** A frame arrives from the wire: copy it into a receive buffer (or count the drop). */
  receive(frame: Uint8Array): void {
    this.receiveFrom(frame, 0, frame.length);
  }

  /** Like {@link FrameDevice.receive} for `length` bytes of `bytes` from `offset`; allocates nothing. */
  receiveFrom(bytes: Uint8Array, offset: number, length: number): void {
    if (length > this.rxPool.bufferSize) {
      this.stats.rxTooLong++;
      return;
    }
    const p = this.rxPool.alloc();
    if (!p) {
      this.stats.rxNoBuffer++;
      return;
    }
    copyBytes(p.bytes, p.offset, bytes, offset, length);
    p.length = length;
    this.rxQueue[(this.rxHead + this.rxCount) % this.rxQueue.length] = p;
    this.rxCount++;
    this.stats.rxFrames++;
  }

  nextRx(): Pbuf | null {
    if (this.rxCount === 0) return null;
    const p = this.rxQueue[this.rxHead]!;
    this.rxQueue[this.rxHead] = null;
    this.rxHead = (this.rxHead + 1) % this.rxQueue.length;
    this.rxCount--;
    return p;
  }

  releaseRx(pbuf: Pbuf): void {
    this.rxPool.free(pbuf);
  }

  allocTx(length: number): Pbuf | null {
    if (length > this.txPool.bufferSize) return null;
    return this.txPool.alloc();
  }

  transmit(pbuf: Pbuf): boolean {
    const peer = this.peer;
    let ok = false;
    if (peer instanceof FrameDevice) {
      peer.receiveFrom(pbuf.bytes, pbuf.offset, pbuf.length);
      ok = true;
    } else if (peer) {
      peer.receive(pbuf.bytes.subarray(pbuf.offset, pbuf.offset + pbuf.length));
      ok = true;
    } else {
      this.stats.txUnconnected++;
    }
    if (ok) this.stats.txFrames++;
    this.txPool.free(pbuf);
    return ok;
  }

  releaseTx(pbuf: Pbuf): void {
    this.txPool.free(pbuf);
  }
}

/** Two {@link FrameDevice}s wired back to back: what one transmits, the other receives. */
export function loopbackPair(options: FrameDeviceOptions = {}): [FrameDevice, FrameDevice] {
  const a = new FrameDevice({ ...options, dataspaceId: options.dataspaceId ?? 1 });
  const b = new FrameDevice({ ...options, dataspaceId: (options.dataspaceId ?? 1) + 1 });
  a.connect(b);
  b.connect(a);
  return [a, b];
}
