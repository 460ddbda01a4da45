/**
 * Wires: where a NIC's frames go. Per NIC, either a UDP port carrying one Ethernet frame per
 * datagram (the convention of QEMU's `-netdev dgram` / `-netdev socket,udp=`), so a load
 * generator in another process is on the other end, or an in-process link to another NIC of
 * the same device worker.
 *
 * @module
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import type { FrameEndpoint, WirePort } from '@udf/netdev';

/** A UDP address. */
export interface UdpAddress {
  /** IPv4 address or host name. */
  readonly address: string;
  /** UDP port (0 when binding: any free port). */
  readonly port: number;
}

/** How a NIC is wired (plain data). */
export type WireSpec =
  | {
      /** One Ethernet frame per UDP datagram. */
      readonly kind: 'udp';
      /** Local address to bind; default 127.0.0.1, any free port. */
      readonly bind?: UdpAddress;
      /**
       * Where transmitted frames go. Default: the address the last frame came from (until a
       * frame has arrived, transmitted frames are dropped and counted).
       */
      readonly peer?: UdpAddress;
    }
  | {
      /** Back to back with another NIC of the same device worker. */
      readonly kind: 'link';
      /** Name of the other device. */
      readonly device: string;
    };

/** Counters of a wire. */
export interface WireCounters {
  /** Frames received from the wire and handed to the NIC. */
  rxFrames: number;
  /** Frames the NIC transmitted onto the wire. */
  txFrames: number;
  /** Frames dropped: no peer known yet, a send error, or a datagram too small or too large. */
  dropped: number;
}

/** Datagrams outside these sizes are not Ethernet frames (min header; max with VLAN tag, no FCS). */
const MIN_FRAME = 14;
const MAX_FRAME = 1518;

/**
 * A UDP wire for one NIC port, in the thread that hosts the NIC.
 *
 * Sending costs no allocation of ours per frame: the frame is copied into one datagram buffer
 * the wire keeps, and the socket sends it at once. That needs the send to happen inside
 * `socket.send` — `node:dgram` resolves the destination first, by default a `dns.lookup` that
 * answers on a later tick even for a numeric address — so the socket resolves through a cache
 * that answers at once once it knows a name ({@link UdpWire.receive}). If the socket could not
 * send at once (its send queue is not empty: the kernel's buffer was full), the datagram keeps
 * the buffer and the wire takes a fresh one for the next frame.
 */
export class UdpWire implements FrameEndpoint {
  /** Counters. */
  readonly counters: WireCounters = { rxFrames: 0, txFrames: 0, dropped: 0 };
  private readonly socket: Socket;
  private peer: UdpAddress | null;
  private bound: UdpAddress | null = null;
  /** The datagram buffer of the next frame sent. */
  private out = Buffer.allocUnsafeSlow(MAX_FRAME);
  /** The last name resolved, and its address: answered at once (no tick) from now on. */
  private resolvedName = '';
  private resolvedAddress = '';
  private readonly onSent = (err: Error | null): void => {
    if (err) this.counters.dropped++;
  };

  /**
   * @param port - the NIC's port
   * @param spec - bind and peer addresses
   * @param onFrame - called after every frame handed to the NIC (the host wakes its event loop)
   * @param beforeFrame - called before a frame is handed to the NIC (the host runs the device
   *   events that came due before the frame arrived)
   */
  constructor(
    private readonly port: WirePort,
    spec: Extract<WireSpec, { kind: 'udp' }>,
    onFrame: () => void,
    beforeFrame?: () => void,
  ) {
    this.peer = spec.peer ?? null;
    const lookup = (
      name: string,
      _family: unknown,
      cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
    ): void => {
      if (name === this.resolvedName) {
        cb(null, this.resolvedAddress, 4);
        return;
      }
      dnsLookup(name, 4, (err, address, fam) => {
        if (err === null) {
          this.resolvedName = name;
          this.resolvedAddress = address;
        }
        cb(err, address, fam);
      });
    };
    this.socket = createSocket({
      type: 'udp4',
      lookup: lookup as unknown as SocketOptions['lookup'],
    });
    this.socket.on('message', (msg, rinfo) => {
      if (msg.length < MIN_FRAME || msg.length > MAX_FRAME) {
        this.counters.dropped++;
        return;
      }
      if (spec.peer === undefined) {
        const p = this.peer;
        // the same sender as the last frame (the usual case): no new peer record
        if (p === null || p.port !== rinfo.port || p.address !== rinfo.address)
          this.peer = { address: rinfo.address, port: rinfo.port };
      }
      beforeFrame?.();
      // the NIC copies what it keeps (FrameEndpoint contract); msg is ours until we return
      try {
        this.port.receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
      } catch {
        // a device model that throws on a frame (a model bug) must not kill the worker
        this.counters.dropped++;
        return;
      }
      this.counters.rxFrames++;
      onFrame();
    });
    this.socket.on('error', () => {
      this.counters.dropped++;
    });
    port.connect(this);
  }

  /** Bind the socket; resolves with the bound address. */
  async bind(addr: UdpAddress = { address: '127.0.0.1', port: 0 }): Promise<UdpAddress> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(addr.port, addr.address, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    const a = this.socket.address();
    this.bound = { address: a.address, port: a.port };
    return this.bound;
  }

  /** A frame the NIC transmits: one datagram to the peer. */
  receive(frame: Uint8Array): void {
    const p = this.peer;
    if (p === null) {
      this.counters.dropped++;
      return;
    }
    if (frame.length > MAX_FRAME) {
      this.counters.dropped++;
      return;
    }
    this.counters.txFrames++;
    if (this.bound === null || p.address !== this.resolvedName) {
      // the send happens on a later tick (binding, or resolving a new name): its own bytes
      this.socket.send(Buffer.from(frame), p.port, p.address, this.onSent);
      return;
    }
    const out = this.out;
    out.set(frame);
    this.socket.send(out, 0, frame.length, p.port, p.address, this.onSent);
    // queued rather than sent (the kernel's buffer was full): the datagram keeps `out`
    if (this.socket.getSendQueueCount() > 0) this.out = Buffer.allocUnsafeSlow(MAX_FRAME);
  }

  /** Close the socket. */
  close(): void {
    this.socket.close();
  }
}

/** Connect two NIC ports back to back (in one thread). */
export function linkPorts(a: WirePort, b: WirePort): void {
  a.connect({ receive: (f) => b.receive(f) });
  b.connect({ receive: (f) => a.receive(f) });
}
