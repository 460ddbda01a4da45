import {
  ARP_PACKET_LEN,
  ArpOperation,
  ArpPacket,
  ArpRepr,
  ETHERNET_HEADER_LEN,
  ETHERNET_MIN_FRAME,
  EthernetFrame,
  EthernetRepr,
  EtherType,
  isWireError,
} from '@udf/lwip-lite';
import type { FrameEndpoint } from '@udf/netdev';
import type { Clock } from './clock.js';
import { checkNumber, IpbenchError } from './errors.js';
import {
  FrameCheck,
  parseIpv4,
  parseMac,
  UDP_PAYLOAD_OFFSET,
  type UdpFlow,
  UdpFrameReader,
  UdpFrameWriter,
  udpFrameLength,
} from './frames.js';
import {
  type ClientResult,
  type ClientRun,
  type LoadClient,
  LoadEngine,
  type ProbeSender,
  resolveRun,
} from './load.js';
import { writeProbe } from './probe.js';

/**
 * Anything that accepts whole Ethernet frames (`@udf/netdev`'s contract): a wire, a switch port,
 * a NIC model, a client. Senders in this package reuse frame buffers (see
 * {@link SimClientOptions.framePool}), so a receiver copies what it keeps.
 */
export type { FrameEndpoint };

/** Construction options of a {@link SimClient}. */
export interface SimClientOptions extends Partial<ClientRun> {
  /** The clock the client paces on (the sim machine's scheduler, or an {@link EventClock}). */
  clock: Clock;
  /** Client MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Client IPv4, dotted quad. */
  ip: string;
  /** Client UDP source port. Default 9000. */
  port?: number;
  /** Target MAC. */
  targetMac: string;
  /** Target IPv4. */
  targetIp: string;
  /** Target UDP port (the echo service). Default 7, ipbench's `latency` default. */
  targetPort?: number;
  /** Client NIC speed in Mb/s; sends never outrun it. Default 1000 (the paper's gigabit). */
  linkMbps?: number;
  /**
   * Frame buffers reused round-robin (default 4096): frame `n` is rewritten by send
   * `n + framePool`, so whatever holds a frame longer than that must have copied it.
   */
  framePool?: number;
}

/**
 * An ipbench load client on a simulated link: sends UDP probes in Ethernet frames at a paced
 * rate and records the echoes.
 *
 * @example
 * ```ts
 * const client = new SimClient({ clock, mac: '02:00:00:00:00:01', ip: '10.0.0.1',
 *   targetMac: '02:00:00:00:00:fe', targetIp: '10.0.0.254', rateMbps: 100, packetSize: 1024 });
 * client.attach(switchPort);           // outgoing frames
 * // echoes come back through client.receive(frame)
 * const result = client.start({ rateMbps: 250 });
 * ```
 */
export class SimClient implements LoadClient, FrameEndpoint, ProbeSender {
  /** The client's MAC, as given. */
  readonly mac: string;
  /** The client's IPv4, as given. */
  readonly ip: string;
  /** Counters of frames that reached this client but were not its echoes. */
  readonly counters = { foreign: 0, badChecksum: 0, arpReplies: 0 };

  readonly #flow: UdpFlow;
  readonly #writer: UdpFrameWriter;
  readonly #reader = new UdpFrameReader();
  // ARP: requests are parsed into, and replies emitted from, preallocated views and reprs.
  readonly #arpEth = new EthernetFrame();
  readonly #arpEthRepr = new EthernetRepr();
  readonly #arpPacket = new ArpPacket();
  readonly #arpRequest = new ArpRepr();
  readonly #arpReply = new ArpRepr();
  readonly #arpReplyEth = new EthernetRepr();
  readonly #defaults: Partial<ClientRun>;
  readonly #engine: LoadEngine;
  readonly #pool: Uint8Array[];
  #poolNext = 0;
  #poolPayload = -1;
  #link: FrameEndpoint | null = null;

  /** @param options - addresses, clock and run defaults */
  constructor(options: SimClientOptions) {
    const {
      clock,
      mac,
      ip,
      port = 9000,
      targetMac,
      targetIp,
      targetPort = 7,
      linkMbps = 1000,
      framePool = 4096,
      ...defaults
    } = options;
    checkNumber('port', port, (v) => Number.isInteger(v) && v > 0 && v < 65536, 'a UDP port');
    checkNumber(
      'targetPort',
      targetPort,
      (v) => Number.isInteger(v) && v > 0 && v < 65536,
      'a UDP port',
    );
    checkNumber('framePool', framePool, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    this.mac = mac;
    this.ip = ip;
    this.#flow = {
      srcMac: parseMac(mac),
      dstMac: parseMac(targetMac),
      srcIp: parseIpv4(ip),
      dstIp: parseIpv4(targetIp),
      srcPort: port,
      dstPort: targetPort,
    };
    this.#writer = new UdpFrameWriter(this.#flow);
    this.#arpReplyEth.src.set(this.#flow.srcMac);
    this.#arpReplyEth.ethertype = EtherType.Arp;
    this.#arpReply.operation = ArpOperation.Reply;
    this.#arpReply.senderHardwareAddr.set(this.#flow.srcMac);
    this.#arpReply.senderProtocolAddr = this.#flow.srcIp;
    this.#defaults = defaults;
    this.#engine = new LoadEngine(clock, this, linkMbps);
    this.#pool = new Array<Uint8Array>(framePool);
  }

  /** Connects the client's outgoing side (its NIC's wire). */
  attach(link: FrameEndpoint): void {
    this.#link = link;
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.#engine.running;
  }

  /**
   * Starts a run (constructor values fill in missing fields); resolves at the end of cool-down.
   * Rejects with `IPBENCH_BUSY` while a run is in progress, `IPBENCH_BAD_CONFIG` on bad settings.
   */
  start(run: Partial<ClientRun> = {}): Promise<ClientResult> {
    if (this.#engine.running) {
      return Promise.reject(new IpbenchError('IPBENCH_BUSY', 'client is already running'));
    }
    const resolved = resolveRun({ ...this.#defaults, ...run } as ClientRun);
    this.#preparePool(resolved.packetSize);
    return new Promise((resolve, reject) => this.#engine.begin(resolved, resolve, reject));
  }

  /** Stops the current run without a result. */
  abort(): void {
    this.#engine.abort();
  }

  /** Receives a frame from the wire: echoes are matched, anything else is counted and dropped. */
  receive(frame: Uint8Array): void {
    const reader = this.#reader;
    const check = reader.check(frame);
    if (check === FrameCheck.NotUdp) {
      if (!this.#answerArp(frame)) this.counters.foreign++;
      return;
    }
    if (reader.ip.dst !== this.#flow.srcIp || reader.udp.dstPort !== this.#flow.srcPort) {
      this.counters.foreign++;
      return;
    }
    if (check === FrameCheck.BadChecksum) {
      this.counters.badChecksum++;
      this.#engine.countBad();
      return;
    }
    this.#engine.handleEcho(frame, reader.udp.payloadOffset, reader.payloadLength);
  }

  /**
   * Answers an ARP request for the client's address, as the client's host OS would: the target
   * resolves the client's MAC before it can echo. Returns true if the frame was ARP.
   */
  #answerArp(frame: Uint8Array): boolean {
    const eth = EthernetRepr.parse(this.#arpEth.wrap(frame), this.#arpEthRepr);
    if (isWireError(eth) || eth.ethertype !== EtherType.Arp) return false;
    const request = ArpRepr.parse(
      this.#arpPacket.wrap(frame, ETHERNET_HEADER_LEN),
      this.#arpRequest,
    );
    if (
      isWireError(request) ||
      request.operation !== ArpOperation.Request ||
      request.targetProtocolAddr !== this.#flow.srcIp
    ) {
      this.counters.foreign++;
      return true;
    }
    // A fresh buffer per reply (ARP is rare, not the per-packet path), padded to the minimum frame.
    const reply = new Uint8Array(ETHERNET_MIN_FRAME);
    this.#arpReplyEth.dst.set(eth.src); // to the requester
    this.#arpReply.targetHardwareAddr.set(request.senderHardwareAddr);
    this.#arpReply.targetProtocolAddr = request.senderProtocolAddr;
    this.#arpReplyEth.emit(this.#arpEth.wrap(reply, 0, ETHERNET_HEADER_LEN));
    this.#arpReply.emit(this.#arpPacket.wrap(reply, ETHERNET_HEADER_LEN, ARP_PACKET_LEN));
    this.counters.arpReplies++;
    this.#link?.receive(reply);
    return true;
  }

  /** @internal Builds and sends one probe frame (called by the engine). */
  sendProbe(seq: number, timestamp: number, size: number): void {
    const frame = this.#pool[this.#poolNext]!;
    this.#poolNext = (this.#poolNext + 1) % this.#pool.length;
    writeProbe(frame, UDP_PAYLOAD_OFFSET, seq, timestamp);
    this.#writer.seal(frame, size);
    this.#link?.receive(frame);
  }

  #preparePool(size: number): void {
    if (this.#poolPayload === size) return;
    const len = udpFrameLength(size);
    for (let i = 0; i < this.#pool.length; i++) {
      const f = new Uint8Array(len);
      this.#writer.writeHeaders(f, size);
      this.#pool[i] = f;
    }
    this.#poolPayload = size;
    this.#poolNext = 0;
  }
}
