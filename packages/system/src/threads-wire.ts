/**
 * The load generator's end of a NIC's wire on the threads engine. The ipbench clients
 * (`SimClient`, which speak Ethernet/ARP/IPv4/UDP frames) run in the main thread on a real
 * clock; a {@link UdpFrameLink} carries their frames to the NIC's UDP wire, one Ethernet frame
 * per datagram (the convention of the engine's UDP wire and QEMU's `-netdev dgram`), and hands
 * each frame that comes back to the client it is addressed to (broadcasts to every client).
 *
 * @module
 */
import { createSocket, type Socket } from 'node:dgram';
import type { UdpAddress } from '@udf/engine-threads';
import type { FrameEndpoint } from '@udf/netdev';

/** Counters of a {@link UdpFrameLink}. */
export interface FrameLinkCounters {
  /** Frames sent towards the NIC. */
  sent: number;
  /** Frames received from the NIC and handed to a client. */
  received: number;
  /** Frames received for no attached client, too short, or lost to a socket error. */
  dropped: number;
}

const MIN_FRAME = 14;

function macKey(b: Uint8Array, at: number): number {
  // 48 bits fit a double exactly
  return (
    b[at]! * 2 ** 40 +
    b[at + 1]! * 2 ** 32 +
    b[at + 2]! * 2 ** 24 +
    b[at + 3]! * 2 ** 16 +
    b[at + 4]! * 2 ** 8 +
    b[at + 5]!
  );
}

function parseMacKey(mac: string): number {
  const parts = mac.split(':').map((p) => Number.parseInt(p, 16));
  return macKey(Uint8Array.from(parts), 0);
}

/** Hands frames to the endpoint their destination MAC names; broadcasts and multicasts to all. */
export class FrameDemux {
  readonly #byMac = new Map<number, FrameEndpoint>();

  /** Frames addressed to `mac` (`aa:bb:cc:dd:ee:ff`) go to `endpoint`. */
  attach(mac: string, endpoint: FrameEndpoint): void {
    this.#byMac.set(parseMacKey(mac), endpoint);
  }

  /** Deliver one frame. @returns false if it was too short or for no attached endpoint */
  deliver(frame: Uint8Array): boolean {
    if (frame.length < MIN_FRAME) return false;
    if ((frame[0]! & 1) === 1) {
      for (const ep of this.#byMac.values()) ep.receive(frame);
      return true;
    }
    const ep = this.#byMac.get(macKey(frame, 0));
    if (ep === undefined) return false;
    ep.receive(frame);
    return true;
  }
}

/**
 * One UDP socket in the main thread speaking Ethernet frames with one NIC's UDP wire.
 *
 * @example
 * ```ts
 * const link = new UdpFrameLink(engine.wires.nic0);
 * await link.open();
 * link.attach('02:00:00:10:00:10', client);  // echoes for this MAC go to client.receive
 * client.attach(link);                        // its probes go to the NIC
 * ```
 */
export class UdpFrameLink implements FrameEndpoint {
  /** Counters. */
  readonly counters: FrameLinkCounters = { sent: 0, received: 0, dropped: 0 };
  readonly #socket: Socket;
  readonly #target: UdpAddress;
  readonly #demux = new FrameDemux();
  #open = false;

  /** @param target - the NIC's UDP wire address (`engine.wires[name]`) */
  constructor(target: UdpAddress) {
    this.#target = target;
    this.#socket = createSocket('udp4');
    this.#socket.on('error', () => {
      this.counters.dropped++;
    });
    this.#socket.on('message', (msg) => this.#deliver(msg));
  }

  /** Bind the socket (any free local port). */
  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(0, '127.0.0.1', () => {
        this.#socket.off('error', reject);
        resolve();
      });
    });
    this.#open = true;
  }

  /** Frames addressed to `mac` (and broadcasts) go to `endpoint`. */
  attach(mac: string, endpoint: FrameEndpoint): void {
    this.#demux.attach(mac, endpoint);
  }

  /** A frame from a client: one datagram to the NIC (copied; the client reuses its buffers). */
  receive(frame: Uint8Array): void {
    if (!this.#open) {
      this.counters.dropped++;
      return;
    }
    this.counters.sent++;
    this.#socket.send(Buffer.from(frame), this.#target.port, this.#target.address, (err) => {
      if (err) this.counters.dropped++;
    });
  }

  #deliver(msg: Buffer): void {
    if (this.#demux.deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.length)))
      this.counters.received++;
    else this.counters.dropped++;
  }

  /** Close the socket. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#socket.close();
  }
}
