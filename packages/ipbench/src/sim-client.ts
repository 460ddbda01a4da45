import type { Clock } from './clock.js';
import { checkNumber, IpbenchError } from './errors.js';
import {
  checkUdpFrame,
  FrameCheck,
  ipv4DstEquals,
  parseIpv4,
  parseMac,
  sealUdpFrame,
  UDP_PAYLOAD_OFFSET,
  type UdpFlow,
  udpDstPort,
  udpFrameLength,
  udpPayloadLength,
  writeUdpHeaders,
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
 * Anything that accepts whole Ethernet frames: a wire, a switch port, a NIC model, a client.
 *
 * @remarks Structurally identical to `@udf/netdev`'s `FrameEndpoint`. The frame is delivered
 * whole at the current time. The receiver must copy what it keeps: senders in this package reuse
 * frame buffers (see {@link SimClientOptions.framePool}).
 */
export interface FrameEndpoint {
  /** Accepts one frame (without FCS). */
  receive(frame: Uint8Array): void;
}

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
    if (this.#answerArp(frame)) return;
    const check = checkUdpFrame(frame);
    if (check === FrameCheck.NotUdp) {
      this.counters.foreign++;
      return;
    }
    if (!ipv4DstEquals(frame, this.#flow.srcIp) || udpDstPort(frame) !== this.#flow.srcPort) {
      this.counters.foreign++;
      return;
    }
    if (check === FrameCheck.BadChecksum) {
      this.counters.badChecksum++;
      this.#engine.countBad();
      return;
    }
    this.#engine.handleEcho(frame, UDP_PAYLOAD_OFFSET, udpPayloadLength(frame));
  }

  /**
   * Answers an ARP request for the client's address, as the client's host OS would: the target
   * resolves the client's MAC before it can echo. Returns true if the frame was ARP.
   */
  #answerArp(frame: Uint8Array): boolean {
    // Ethernet II + ARP for IPv4 over Ethernet (RFC 826): EtherType 0x0806, 28-byte body.
    if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06) return false;
    const isRequest = frame[20] === 0 && frame[21] === 1;
    const ip = this.#flow.srcIp;
    if (
      !isRequest ||
      frame[38] !== ip[0] ||
      frame[39] !== ip[1] ||
      frame[40] !== ip[2] ||
      frame[41] !== ip[3]
    ) {
      this.counters.foreign++;
      return true;
    }
    const reply = new Uint8Array(60);
    reply.set(frame.subarray(6, 12), 0); // to the requester
    reply.set(this.#flow.srcMac, 6);
    reply.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02], 12);
    reply.set(this.#flow.srcMac, 22); // sender: us
    reply.set(ip, 28);
    reply.set(frame.subarray(22, 32), 32); // target: the requester's MAC and IP
    this.counters.arpReplies++;
    this.#link?.receive(reply);
    return true;
  }

  /** @internal Builds and sends one probe frame (called by the engine). */
  sendProbe(seq: number, timestamp: number, size: number): void {
    const frame = this.#pool[this.#poolNext]!;
    this.#poolNext = (this.#poolNext + 1) % this.#pool.length;
    writeProbe(frame, UDP_PAYLOAD_OFFSET, seq, timestamp);
    sealUdpFrame(frame, size);
    this.#link?.receive(frame);
  }

  #preparePool(size: number): void {
    if (this.#poolPayload === size) return;
    const len = udpFrameLength(size);
    for (let i = 0; i < this.#pool.length; i++) {
      const f = new Uint8Array(len);
      writeUdpHeaders(f, this.#flow, size);
      this.#pool[i] = f;
    }
    this.#poolPayload = size;
    this.#poolNext = 0;
  }
}
