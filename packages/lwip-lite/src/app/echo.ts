/**
 * The paper's deferred-processing application: a UDP echo service (RFC 862) that "simply copies
 * incoming packets once and echoes them to the sender". It runs inside the stack's protection
 * domain as a socket handler (lwIP raw-API style), so each datagram is answered while its
 * receive buffer is still in hand: one payload copy into a transmit buffer, no queueing.
 *
 * @module
 */
import type { Stack } from '../iface/stack.js';
import type { UdpDatagram, UdpSocket } from '../socket/udp.js';

/** The echo port of RFC 862. */
export const ECHO_PORT = 7;

/** Options of {@link UdpEchoService}. */
export interface UdpEchoOptions {
  /** Port to serve (default 7). */
  readonly port?: number;
}

/** Counters of the echo service. */
export interface UdpEchoStats {
  /** Datagrams echoed (sent, or queued for ARP). */
  echoed: number;
  /** Datagrams that could not be echoed (no transmit buffer, no route). */
  failed: number;
  /** Payload bytes echoed. */
  bytes: number;
}

/** A UDP echo server on a {@link Stack}. */
export class UdpEchoService {
  /** The bound socket. */
  readonly socket: UdpSocket;
  /** Counters. */
  readonly stats: UdpEchoStats = { echoed: 0, failed: 0, bytes: 0 };

  /**
   * Bind the echo port on `stack` and start answering.
   * @param stack - the stack to serve on
   * @param options - the port
   */
  constructor(stack: Stack, options: UdpEchoOptions = {}) {
    this.socket = stack.udpBind(options.port ?? ECHO_PORT);
    this.socket.onDatagram((d) => this.echo(d));
  }

  private echo(d: UdpDatagram): void {
    const ok = this.socket.sendTo(
      d.pbuf!.bytes,
      d.srcIp,
      d.srcPort,
      d.payloadOffset,
      d.payloadLength,
    );
    if (ok) {
      this.stats.echoed++;
      this.stats.bytes += d.payloadLength;
    } else {
      this.stats.failed++;
    }
  }

  /** Stop serving and unbind the port. */
  close(): void {
    this.socket.close();
  }
}
