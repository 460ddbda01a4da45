/**
 * Frame fuzzing shared by the property test and `bench/fuzz.ts`: a stack on a device with a
 * socket and the echo service, fed seed frames (real captures and valid frames for it) and
 * their mutations, checking after each frame that nothing threw and that the frame landed in
 * exactly one outcome counter. Not part of the public API.
 *
 * @module
 */
import { UdpEchoService } from '../app/echo.js';
import { FrameDevice } from '../phy/frame-device.js';
import { arpFrame, pingFrame, udpFrame } from '../testing/frames.js';
import {
  CAPTURE_ARP_PROBE,
  CAPTURE_ARP_REQUEST,
  CAPTURE_PING_REQUEST,
  CAPTURE_TIME_EXCEEDED,
} from '../testing/vectors.js';
import { MAC_BROADCAST, parseIpv4, parseMac } from '../wire/address.js';
import { ArpOperation } from '../wire/arp.js';
import { inputOutcomes } from './counters.js';
import { Stack } from './stack.js';

/** The fuzzed host: the addresses the seeds are aimed at. */
export const FUZZ_MAC = parseMac('02:00:00:00:00:0a');
/** The fuzzed host's IPv4 address. */
export const FUZZ_IP = parseIpv4('10.0.0.1');

/** Valid frames for the fuzzed host plus real captures (which are for other hosts). */
export function fuzzSeeds(): Uint8Array[] {
  const peer = {
    srcMac: parseMac('02:00:00:00:00:0b'),
    dstMac: FUZZ_MAC,
    srcIp: parseIpv4('10.0.0.2'),
    dstIp: FUZZ_IP,
  };
  return [
    udpFrame(peer, 1234, 7, new Uint8Array(64).fill(0x5a)),
    udpFrame(peer, 1234, 9, new Uint8Array(3)),
    udpFrame({ ...peer, dstMac: MAC_BROADCAST, dstIp: 0xffffffff }, 1, 9, new Uint8Array(16)),
    pingFrame(peer, 1, 2, 56),
    arpFrame({ ...peer, dstMac: MAC_BROADCAST }, ArpOperation.Request),
    arpFrame(peer, ArpOperation.Reply, FUZZ_MAC),
    CAPTURE_ARP_REQUEST,
    CAPTURE_ARP_PROBE,
    CAPTURE_PING_REQUEST,
    CAPTURE_TIME_EXCEEDED,
  ];
}

/** A stack under fuzz and a checker of its invariants. */
export class FuzzTarget {
  /** The device frames are injected into. */
  readonly device = new FrameDevice({ rxBuffers: 8, txBuffers: 8 });
  /** The stack. */
  readonly stack: Stack;
  private t = 0;

  constructor() {
    this.device.connect({ receive: () => {} });
    this.stack = new Stack({
      mac: FUZZ_MAC,
      ip: FUZZ_IP,
      device: this.device,
      now: () => this.t,
      arp: { queueLength: 4 },
    });
    new UdpEchoService(this.stack);
    this.stack.udpBind(9, { queueLength: 4 });
  }

  /**
   * Feed one frame and advance time; returns a description of a broken invariant, or null.
   * Frames longer than a receive buffer are cut to it.
   */
  feed(frame: Uint8Array): string | null {
    const before = this.stack.counters.ethernetIn;
    this.device.receiveFrom(frame, 0, Math.min(frame.length, 2048));
    this.t += 137;
    this.stack.poll(this.t);
    const c = this.stack.counters;
    if (c.ethernetIn !== before + 1) return `frame not taken (${c.ethernetIn - before})`;
    if (inputOutcomes(c) !== c.ethernetIn) {
      return `outcomes ${inputOutcomes(c)} != frames in ${c.ethernetIn}`;
    }
    // Only the port-9 socket (queue of 4, never drained) may hold receive buffers.
    if (this.device.rxAvailable < 8 - 4)
      return `receive buffers leak: ${this.device.rxAvailable} free`;
    if (this.device.txAvailable !== 8 - this.stack.arpQueued) {
      return `transmit buffers leak: ${this.device.txAvailable} free, ${this.stack.arpQueued} queued`;
    }
    return null;
  }
}

/** Flip, set or cut bytes of `seed` as directed by `ops` (pairs of position and value). */
export function mutate(seed: Uint8Array, ops: readonly number[], cut: number): Uint8Array {
  const f = seed.slice(0, Math.max(0, seed.length - cut));
  for (let i = 0; i + 1 < ops.length; i += 2) {
    if (f.length === 0) break;
    f[ops[i]! % f.length] = ops[i + 1]! & 0xff;
  }
  return f;
}
