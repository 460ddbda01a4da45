/**
 * UDP sockets (lwIP's UDP PCBs): bound to a local port, with a bounded receive queue of
 * datagrams *by reference* (the frame stays in its receive buffer until the application
 * releases it), or a synchronous handler (lwIP's raw-API `udp_recv` callback) for services that
 * answer at once, such as the echo service.
 *
 * @module
 */
import { LwipError } from '../error.js';
import type { Pbuf } from '../pbuf/pbuf.js';
import type { Ipv4Address } from '../wire/address.js';

/** A received datagram: where its payload lies, and from whom. Reused: copy what you keep. */
export class UdpDatagram {
  /** The receive buffer holding the frame (null once released). */
  pbuf: Pbuf | null = null;
  /** Sender address. */
  srcIp: Ipv4Address = 0;
  /** Sender port. */
  srcPort = 0;
  /** Destination address (ours, or a broadcast). */
  dstIp: Ipv4Address = 0;
  /** Destination port. */
  dstPort = 0;
  /** Offset of the payload in `pbuf.bytes`. */
  payloadOffset = 0;
  /** Payload length. */
  payloadLength = 0;

  /** The payload as a new subarray (allocates; for tests and tools). */
  payload(): Uint8Array {
    if (!this.pbuf) return new Uint8Array(0);
    return this.pbuf.bytes.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** Copy every field from `other`. */
  copyFrom(other: UdpDatagram): void {
    this.pbuf = other.pbuf;
    this.srcIp = other.srcIp;
    this.srcPort = other.srcPort;
    this.dstIp = other.dstIp;
    this.dstPort = other.dstPort;
    this.payloadOffset = other.payloadOffset;
    this.payloadLength = other.payloadLength;
  }
}

/** What a socket needs from its stack. */
export interface UdpHost {
  /** Send a datagram from `srcPort`; false if it was dropped at once. */
  sendUdp(
    srcPort: number,
    dstIp: Ipv4Address,
    dstPort: number,
    data: Uint8Array,
    offset: number,
    length: number,
  ): boolean;
  /** Give a receive buffer back to the device. */
  releaseRx(pbuf: Pbuf): void;
  /** Forget the binding of `port`. */
  unbind(port: number): void;
}

/** Receives each datagram synchronously; the datagram (and its buffer) is valid only during the call. */
export type UdpHandler = (datagram: UdpDatagram) => void;

/** Options of {@link Stack.udpBind}. */
export interface UdpSocketOptions {
  /** Datagrams the receive queue holds (default 32). */
  readonly queueLength?: number;
}

/** Result of delivering a datagram to a socket. */
export type UdpDelivery = 'held' | 'handled' | 'full';

/** A bound UDP socket. */
export class UdpSocket {
  private readonly slots: UdpDatagram[];
  private head = 0;
  private count = 0;
  private handler: UdpHandler | null = null;
  private readonly scratch = new UdpDatagram();
  private closed = false;

  /**
   * Created by {@link Stack.udpBind}.
   * @param host - the stack
   * @param port - the bound local port
   * @param options - queue length
   */
  constructor(
    private readonly host: UdpHost,
    readonly port: number,
    options: UdpSocketOptions = {},
  ) {
    const n = options.queueLength ?? 32;
    if (!(n > 0)) throw new LwipError('CONFIG', 'UDP queue length must be positive');
    this.slots = Array.from({ length: n }, () => new UdpDatagram());
  }

  /** Datagrams waiting in the queue. */
  get queued(): number {
    return this.count;
  }

  /** Capacity of the queue. */
  get queueLength(): number {
    return this.slots.length;
  }

  /** Deliver datagrams to `handler` as they arrive instead of queueing them (null: queue again). */
  onDatagram(handler: UdpHandler | null): void {
    this.handler = handler;
  }

  /**
   * Take the oldest queued datagram into `out`; false when the queue is empty. The caller owns
   * `out.pbuf` until {@link UdpSocket.release}.
   */
  recv(out: UdpDatagram): boolean {
    if (this.count === 0) return false;
    const slot = this.slots[this.head]!;
    out.copyFrom(slot);
    slot.pbuf = null;
    this.head = (this.head + 1) % this.slots.length;
    this.count--;
    return true;
  }

  /** Give a received datagram's buffer back to the device. */
  release(datagram: UdpDatagram): void {
    if (datagram.pbuf) {
      this.host.releaseRx(datagram.pbuf);
      datagram.pbuf = null;
    }
  }

  /**
   * Send `length` bytes of `data` from `offset` to `dstIp:dstPort`. The stack copies them once
   * into a transmit buffer. False if the datagram was dropped at once (no buffer, no route, too
   * big); true if it was sent or is waiting for ARP.
   */
  sendTo(
    data: Uint8Array,
    dstIp: Ipv4Address,
    dstPort: number,
    offset = 0,
    length = data.length - offset,
  ): boolean {
    if (this.closed) throw new LwipError('SOCKET_CLOSED', `socket on port ${this.port} is closed`);
    return this.host.sendUdp(this.port, dstIp, dstPort, data, offset, length);
  }

  /** Unbind and release every queued buffer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    while (this.recv(this.scratch)) this.release(this.scratch);
    this.host.unbind(this.port);
  }

  /**
   * Called by the stack with a datagram for this socket. `'handled'`: a handler consumed it (the
   * stack releases the buffer); `'held'`: queued (the socket owns the buffer); `'full'`: dropped.
   */
  deliver(
    pbuf: Pbuf,
    srcIp: Ipv4Address,
    srcPort: number,
    dstIp: Ipv4Address,
    dstPort: number,
    payloadOffset: number,
    payloadLength: number,
  ): UdpDelivery {
    const h = this.handler;
    const d = h
      ? this.scratch
      : this.count < this.slots.length
        ? this.slots[(this.head + this.count) % this.slots.length]!
        : null;
    if (!d) return 'full';
    d.pbuf = pbuf;
    d.srcIp = srcIp;
    d.srcPort = srcPort;
    d.dstIp = dstIp;
    d.dstPort = dstPort;
    d.payloadOffset = payloadOffset;
    d.payloadLength = payloadLength;
    if (h) {
      h(d);
      d.pbuf = null;
      return 'handled';
    }
    this.count++;
    return 'held';
  }
}
