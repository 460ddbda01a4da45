/**
 * The interface and its stack (lwIP's `netif` + `etharp` + `ip4` + `icmp` + `udp` input and
 * output): one MAC and IPv4 address on one {@link NetDevice}. Synchronous and engine-agnostic:
 * feed it frames with {@link Stack.input} or let {@link Stack.poll} drain the device; it
 * transmits through the device. Every received frame lands in exactly one outcome counter.
 *
 * Decisions, in lwIP's terms:
 * - IPv4 fragments are dropped and counted (`IP_REASSEMBLY 0`); nothing is fragmented on output.
 * - Broadcast (limited and subnet-directed) UDP is delivered; ICMP echo to a broadcast address is
 *   ignored (`LWIP_BROADCAST_PING 0`). Multicast is not for us.
 * - No ICMP errors are sent (port/protocol unreachable): the drop counters say what happened.
 * - ARP learns only from packets addressed to us, refreshes known entries from any ARP (RFC 826
 *   merge), queues outgoing packets while a request is out, retries, then drops them.
 * - The echo reply (ICMP or UDP) costs exactly one payload copy into a transmit buffer.
 *
 * @module
 */
import { LwipError } from '../error.js';
import { copyBytes, type Pbuf } from '../pbuf/pbuf.js';
import type { NetDevice } from '../phy/device.js';
import { type UdpHost, UdpSocket, type UdpSocketOptions } from '../socket/udp.js';
import {
  IPV4_BROADCAST,
  type Ipv4Address,
  isIpv4Multicast,
  isMacBroadcast,
  MAC_BROADCAST,
  type MacAddress,
  parseIpv4,
  parseMac,
} from '../wire/address.js';
import { ArpOperation, ArpPacket, ArpRepr } from '../wire/arp.js';
import type { WireError } from '../wire/error.js';
import {
  ETHERNET_HEADER_LEN,
  ETHERNET_MIN_FRAME,
  EthernetFrame,
  EtherType,
} from '../wire/ethernet.js';
import { ICMPV4_HEADER_LEN, Icmpv4Packet, Icmpv4Repr, Icmpv4Type } from '../wire/icmpv4.js';
import {
  IPV4_DEFAULT_TTL,
  IPV4_HEADER_LEN,
  IpProtocol,
  Ipv4Packet,
  Ipv4Repr,
} from '../wire/ipv4.js';
import { UDP_HEADER_LEN, UdpPacket, UdpRepr } from '../wire/udp.js';
import { ArpCache, type ArpEntry, type ArpOptions, ArpState } from './arp-cache.js';
import {
  CATEGORY_BUFFER,
  CATEGORY_IP,
  type ChargeFn,
  LWIP_COSTS,
  type LwipCosts,
} from './costs.js';
import { createCounters, type InputDrops, type StackCounters } from './counters.js';

/** Called when an ICMP echo reply reaches us (the stack has no ping client of its own). */
export type EchoReplyHandler = (
  src: Ipv4Address,
  ident: number,
  seqNo: number,
  dataLen: number,
) => void;

/** Configuration of a {@link Stack}. */
export interface StackOptions {
  /** The interface's MAC (`'02:00:00:00:00:01'` or six bytes). */
  readonly mac: MacAddress | string;
  /** The interface's IPv4 address (`'10.0.0.1'` or a number). */
  readonly ip: Ipv4Address | string;
  /** Netmask (default `255.255.255.0`). */
  readonly netmask?: Ipv4Address | string;
  /** Default gateway for off-link destinations (default: none; such packets are dropped). */
  readonly gateway?: Ipv4Address | string;
  /** Where frames come from and go to. */
  readonly device: NetDevice;
  /** Cycle accounting hook (e.g. `sys.charge`); categories `'IP'` and `'Buffer'`. */
  readonly charge?: ChargeFn;
  /** Overrides of {@link LWIP_COSTS}. */
  readonly costs?: Partial<LwipCosts>;
  /** Clock in milliseconds (default `performance.now`). Only ARP timing uses it. */
  readonly now?: () => number;
  /** ARP tunables. */
  readonly arp?: ArpOptions;
  /** TTL of packets we originate (default 64). */
  readonly ttl?: number;
  /** Frames {@link Stack.poll} takes from the device per call (default 64). */
  readonly rxBudget?: number;
  /** Receives ICMP echo replies. */
  readonly onEchoReply?: EchoReplyHandler;
}

const DROP_OF: Record<WireError, keyof InputDrops> = {
  truncated: 'truncated',
  'bad-checksum': 'badChecksum',
  malformed: 'malformed',
  unsupported: 'unsupported',
};

const noCharge: ChargeFn = () => {};

const toIp = (v: Ipv4Address | string): Ipv4Address =>
  typeof v === 'string' ? parseIpv4(v) : v >>> 0;

/** An IPv4-over-Ethernet host stack on one device. */
export class Stack implements UdpHost {
  /** The interface's MAC. */
  readonly mac: MacAddress;
  /** The interface's IPv4 address. */
  readonly ip: Ipv4Address;
  /** Netmask. */
  readonly netmask: Ipv4Address;
  /** Subnet-directed broadcast address. */
  readonly broadcast: Ipv4Address;
  /** Default gateway, or 0 for none. */
  readonly gateway: Ipv4Address;
  /** The device. */
  readonly device: NetDevice;
  /** The cost table in use. */
  readonly costs: LwipCosts;
  /** Counters. */
  readonly counters: StackCounters = createCounters();

  private readonly charge: ChargeFn;
  private readonly clock: () => number;
  private readonly ttl: number;
  private readonly rxBudget: number;
  private readonly onEchoReply: EchoReplyHandler | undefined;
  private time: number;
  private ident = 0;

  private readonly sockets = new Map<number, UdpSocket>();

  private readonly arpCache: ArpCache;
  private readonly arpInterval: number;
  private readonly arpMaxRequests: number;
  private readonly arpLifetime: number;
  private readonly pendingPbufs: (Pbuf | null)[];
  private readonly pendingIps: Float64Array;
  private pendingCount = 0;

  // Input views and representations (reused per frame).
  private readonly inEth = new EthernetFrame();
  private readonly inArp = new ArpPacket();
  private readonly inIp = new Ipv4Packet();
  private readonly inIcmp = new Icmpv4Packet();
  private readonly inUdp = new UdpPacket();
  private readonly arpRepr = new ArpRepr();
  private readonly ipRepr = new Ipv4Repr();
  private readonly icmpRepr = new Icmpv4Repr();
  private readonly udpRepr = new UdpRepr();
  // Output views and representations (a reply is built while the input views are live).
  private readonly outEth = new EthernetFrame();
  private readonly outArp = new ArpPacket();
  private readonly outIp = new Ipv4Packet();
  private readonly outIcmp = new Icmpv4Packet();
  private readonly outUdp = new UdpPacket();
  private readonly outArpRepr = new ArpRepr();
  private readonly outIpRepr = new Ipv4Repr();
  private readonly outUdpRepr = new UdpRepr();
  private readonly outIcmpRepr = new Icmpv4Repr();

  /** @param options - addresses, device, accounting hook and tunables */
  constructor(options: StackOptions) {
    this.mac =
      typeof options.mac === 'string' ? parseMac(options.mac) : new Uint8Array(options.mac);
    if (this.mac.length !== 6) throw new LwipError('ADDRESS', 'a MAC address has six bytes');
    this.ip = toIp(options.ip);
    this.netmask = toIp(options.netmask ?? '255.255.255.0');
    this.broadcast = ((this.ip & this.netmask) | ~this.netmask) >>> 0;
    this.gateway = options.gateway === undefined ? 0 : toIp(options.gateway);
    this.device = options.device;
    this.costs = Object.freeze({ ...LWIP_COSTS, ...options.costs });
    this.charge = options.charge ?? noCharge;
    this.clock = options.now ?? (() => performance.now());
    this.ttl = options.ttl ?? IPV4_DEFAULT_TTL;
    this.rxBudget = options.rxBudget ?? 64;
    this.onEchoReply = options.onEchoReply;
    const arp = options.arp ?? {};
    this.arpCache = new ArpCache(arp.cacheSize ?? 16);
    this.arpInterval = arp.requestIntervalMs ?? 1000;
    this.arpMaxRequests = arp.maxRequests ?? 3;
    this.arpLifetime = arp.entryLifetimeMs ?? 300_000;
    const q = arp.queueLength ?? 16;
    this.pendingPbufs = new Array<Pbuf | null>(q).fill(null);
    this.pendingIps = new Float64Array(q);
    this.time = this.clock();
  }

  // ---------------------------------------------------------------- driving

  /**
   * Take up to the receive budget of frames from the device and process them, then run the ARP
   * timers at `now` (ms). Returns the number of frames processed.
   */
  poll(now: number = this.clock()): number {
    this.time = now;
    let n = 0;
    while (n < this.rxBudget) {
      const p = this.device.nextRx();
      if (!p) break;
      this.input(p);
      n++;
    }
    this.arpTimer(now);
    return n;
  }

  /**
   * Process one received frame in place. The stack owns `pbuf` from now on and gives it back to
   * the device when done (or when the socket that queued it releases it).
   */
  input(pbuf: Pbuf): void {
    const c = this.counters;
    c.ethernetIn++;
    this.charge(CATEGORY_BUFFER, this.costs.pbufAlloc);
    this.charge(CATEGORY_IP, this.costs.ethernetInput);
    if (!this.ethernetInput(pbuf)) this.releaseRx(pbuf);
  }

  /** Give a receive buffer back to the device (charged to `'Buffer'`). */
  releaseRx(pbuf: Pbuf): void {
    this.charge(CATEGORY_BUFFER, this.costs.pbufFree);
    this.device.releaseRx(pbuf);
  }

  // ---------------------------------------------------------------- sockets

  /** Bind a UDP socket to `port`. Throws {@link LwipError} `PORT_IN_USE` if it is bound. */
  udpBind(port: number, options?: UdpSocketOptions): UdpSocket {
    if (!Number.isInteger(port) || port <= 0 || port > 0xffff) {
      throw new LwipError('CONFIG', `bad UDP port ${port}`);
    }
    if (this.sockets.has(port)) throw new LwipError('PORT_IN_USE', `UDP port ${port} is bound`);
    const s = new UdpSocket(this, port, options);
    this.sockets.set(port, s);
    return s;
  }

  /** Forget the socket bound to `port` (used by {@link UdpSocket.close}). */
  unbind(port: number): void {
    this.sockets.delete(port);
  }

  // ---------------------------------------------------------------- output API

  /**
   * Send a UDP datagram of `length` bytes of `data` from `offset`, copying them once into a
   * transmit buffer. False if dropped at once; true if sent or queued for ARP resolution.
   */
  sendUdp(
    srcPort: number,
    dstIp: Ipv4Address,
    dstPort: number,
    data: Uint8Array,
    offset: number,
    length: number,
  ): boolean {
    const k = this.costs;
    const udpLen = UDP_HEADER_LEN + length;
    this.charge(CATEGORY_IP, k.udpOutput + k.perByteChecksum * (udpLen + 12));
    const p = this.allocFrame(IPV4_HEADER_LEN + udpLen);
    if (!p) return false;
    const at = p.offset + ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
    this.copy(p.bytes, at + UDP_HEADER_LEN, data, offset, length);
    const u = this.outUdp.wrap(p.bytes, at, udpLen);
    const r = this.outUdpRepr;
    r.srcPort = srcPort;
    r.dstPort = dstPort;
    r.payloadLen = length;
    r.emit(u, this.ip, dstIp >>> 0);
    this.counters.udpOut++;
    return this.ipv4Output(p, dstIp >>> 0, IpProtocol.Udp, udpLen);
  }

  /**
   * Send an ICMP echo request with `dataLen` bytes of pattern data (0, 1, 2, …). Replies are
   * reported to {@link StackOptions.onEchoReply}.
   */
  ping(dstIp: Ipv4Address | string, ident: number, seqNo: number, dataLen = 56): boolean {
    const dst = toIp(dstIp);
    const len = ICMPV4_HEADER_LEN + dataLen;
    const p = this.allocFrame(IPV4_HEADER_LEN + len);
    if (!p) return false;
    const at = p.offset + ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
    for (let i = 0; i < dataLen; i++) p.bytes[at + ICMPV4_HEADER_LEN + i] = i & 0xff;
    const r = this.outIcmpRepr;
    r.msgType = Icmpv4Type.EchoRequest;
    r.ident = ident;
    r.seqNo = seqNo;
    r.dataLen = dataLen;
    r.emit(this.outIcmp.wrap(p.bytes, at, len));
    this.counters.icmpOut++;
    return this.ipv4Output(p, dst, IpProtocol.Icmp, len);
  }

  /** Snapshot of the ARP cache. */
  arpEntries(): ArpEntry[] {
    return this.arpCache.entries();
  }

  /** Packets waiting for ARP resolution. */
  get arpQueued(): number {
    return this.pendingCount;
  }

  // ---------------------------------------------------------------- input path

  /** Returns true if the buffer is now held by a socket. */
  private ethernetInput(pbuf: Pbuf): boolean {
    const eth = this.inEth.wrap(pbuf.bytes, pbuf.offset, pbuf.length);
    if (eth.length < ETHERNET_HEADER_LEN) return this.drop('truncated');
    if (!eth.dstIs(this.mac) && !isMacBroadcast(eth.bytes, eth.offset)) {
      return this.drop('notForUs');
    }
    switch (eth.ethertype) {
      case EtherType.Arp:
        this.arpInput(eth);
        return false;
      case EtherType.Ipv4:
        return this.ipv4Input(pbuf, eth);
      default:
        return this.drop('unsupported');
    }
  }

  private arpInput(eth: EthernetFrame): void {
    const c = this.counters;
    c.arpIn++;
    this.charge(CATEGORY_IP, this.costs.arpInput);
    const pkt = this.inArp.wrap(eth.bytes, eth.payloadOffset, eth.payloadLength);
    const r = ArpRepr.parse(pkt, this.arpRepr);
    if (typeof r === 'string') {
      this.drop(DROP_OF[r]);
      return;
    }
    const spa = r.senderProtocolAddr;
    const forUs = r.targetProtocolAddr === this.ip;
    const sha = r.senderHardwareAddr;
    const learnable =
      spa !== 0 &&
      spa !== this.ip &&
      spa !== IPV4_BROADCAST &&
      spa !== this.broadcast &&
      !isIpv4Multicast(spa) &&
      (sha[0]! & 1) === 0;
    if (learnable) this.arpLearn(spa, sha, forUs);
    if (!forUs) {
      this.drop('notForUs');
      return;
    }
    c.arpHandled++;
    if (r.operation === ArpOperation.Request) {
      this.sendArp(ArpOperation.Reply, sha, spa, sha);
    }
  }

  private ipv4Input(pbuf: Pbuf, eth: EthernetFrame): boolean {
    const c = this.counters;
    const k = this.costs;
    c.ipv4In++;
    const ip = this.inIp.wrap(eth.bytes, eth.payloadOffset, eth.payloadLength);
    this.charge(CATEGORY_IP, k.ipv4Input + k.perByteChecksum * ip.headerLen);
    const r = Ipv4Repr.parse(ip, this.ipRepr);
    if (typeof r === 'string') return this.drop(DROP_OF[r]);
    const dst = r.dst;
    const broadcast = dst === IPV4_BROADCAST || dst === this.broadcast;
    if (dst !== this.ip && !broadcast) return this.drop('notForUs');
    const src = r.src;
    if (src === IPV4_BROADCAST || src === this.broadcast || isIpv4Multicast(src)) {
      return this.drop('malformed');
    }
    if (r.isFragment()) return this.drop('fragment');
    const at = ip.offset + r.headerLen;
    switch (r.protocol) {
      case IpProtocol.Icmp:
        this.icmpInput(at, r.payloadLen, src, broadcast);
        return false;
      case IpProtocol.Udp:
        return this.udpInput(pbuf, at, r.payloadLen, src, dst);
      default:
        return this.drop('unsupported');
    }
  }

  private icmpInput(at: number, len: number, src: Ipv4Address, broadcast: boolean): void {
    const c = this.counters;
    const k = this.costs;
    c.icmpIn++;
    this.charge(CATEGORY_IP, k.icmpInput + k.perByteChecksum * len);
    const pkt = this.inIcmp.wrap(this.inIp.bytes, at, len);
    const r = Icmpv4Repr.parse(pkt, this.icmpRepr);
    if (typeof r === 'string') {
      this.drop(DROP_OF[r]);
      return;
    }
    if (r.msgType === Icmpv4Type.EchoReply) {
      c.icmpHandled++;
      this.onEchoReply?.(src, r.ident, r.seqNo, r.dataLen);
      return;
    }
    if (broadcast) {
      this.drop('broadcastEcho');
      return;
    }
    c.icmpHandled++;
    this.sendEchoReply(pkt, src);
  }

  private udpInput(
    pbuf: Pbuf,
    at: number,
    len: number,
    src: Ipv4Address,
    dst: Ipv4Address,
  ): boolean {
    const c = this.counters;
    const k = this.costs;
    c.udpIn++;
    this.charge(CATEGORY_IP, k.udpInput + k.perByteChecksum * (len + 12));
    const pkt = this.inUdp.wrap(this.inIp.bytes, at, len);
    const r = UdpRepr.parse(pkt, src, dst, this.udpRepr);
    if (typeof r === 'string') return this.drop(DROP_OF[r]);
    const sock = this.sockets.get(r.dstPort);
    if (!sock) return this.drop('noSocket');
    const d = sock.deliver(pbuf, src, r.srcPort, dst, r.dstPort, pkt.payloadOffset, r.payloadLen);
    if (d === 'full') return this.drop('queueFull');
    c.udpDelivered++;
    return d === 'held';
  }

  /** Count an input drop; returns false (the buffer is not held) for tail calls. */
  private drop(reason: keyof InputDrops): false {
    this.counters.drops[reason]++;
    return false;
  }

  // ---------------------------------------------------------------- output path

  /** The echo reply: one copy of the ICMP message into a transmit buffer, type changed, re-summed. */
  private sendEchoReply(request: Icmpv4Packet, dst: Ipv4Address): void {
    const len = request.length;
    const p = this.allocFrame(IPV4_HEADER_LEN + len);
    if (!p) return;
    const at = p.offset + ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
    this.copy(p.bytes, at, request.bytes, request.offset, len);
    const reply = this.outIcmp.wrap(p.bytes, at, len);
    reply.setMsgType(Icmpv4Type.EchoReply);
    reply.setMsgCode(0);
    this.charge(CATEGORY_IP, this.costs.perByteChecksum * len);
    reply.fillChecksum();
    this.counters.icmpOut++;
    this.ipv4Output(p, dst, IpProtocol.Icmp, len);
  }

  /** A transmit buffer for an Ethernet frame carrying `ipLen` bytes of IPv4, or null (counted). */
  private allocFrame(ipLen: number): Pbuf | null {
    const frameLen = ETHERNET_HEADER_LEN + ipLen;
    if (frameLen > this.device.mtu) {
      this.counters.txDrops.tooBig++;
      return null;
    }
    this.charge(CATEGORY_BUFFER, this.costs.pbufAlloc);
    const len = frameLen < ETHERNET_MIN_FRAME ? ETHERNET_MIN_FRAME : frameLen;
    const p = this.device.allocTx(len);
    if (!p) {
      this.counters.txDrops.noBuffer++;
      return null;
    }
    p.length = len;
    if (frameLen < len) p.bytes.fill(0, p.offset + frameLen, p.offset + len);
    return p;
  }

  private copy(dst: Uint8Array, dstAt: number, src: Uint8Array, srcAt: number, len: number): void {
    copyBytes(dst, dstAt, src, srcAt, len);
    this.counters.copyOps++;
    this.counters.copyBytes += len;
    this.charge(CATEGORY_IP, this.costs.perByteCopy * len);
  }

  /** Write the IPv4 header for `payloadLen` bytes already in place and pass the frame on. */
  private ipv4Output(p: Pbuf, dst: Ipv4Address, protocol: number, payloadLen: number): boolean {
    const k = this.costs;
    this.charge(CATEGORY_IP, k.ipv4Output + k.perByteChecksum * IPV4_HEADER_LEN);
    const nextHop = this.route(dst);
    if (nextHop < 0) {
      this.counters.txDrops.noRoute++;
      this.device.releaseTx(p);
      return false;
    }
    const r = this.outIpRepr;
    r.src = this.ip;
    r.dst = dst;
    r.protocol = protocol;
    r.payloadLen = payloadLen;
    r.ttl = this.ttl;
    r.ident = this.ident;
    this.ident = (this.ident + 1) & 0xffff;
    r.dontFragment = false;
    r.emit(this.outIp.wrap(p.bytes, p.offset + ETHERNET_HEADER_LEN, IPV4_HEADER_LEN + payloadLen));
    this.counters.ipv4Out++;
    return this.ethernetOutput(p, nextHop, EtherType.Ipv4);
  }

  /** The next hop for `dst`, or -1 when there is none. */
  private route(dst: Ipv4Address): number {
    if (dst === IPV4_BROADCAST || isIpv4Multicast(dst)) return dst;
    if (((dst ^ this.ip) & this.netmask) === 0) return dst;
    return this.gateway !== 0 ? this.gateway : -1;
  }

  private ethernetOutput(p: Pbuf, nextHop: Ipv4Address, ethertype: number): boolean {
    this.charge(CATEGORY_IP, this.costs.ethernetOutput);
    const eth = this.outEth.wrap(p.bytes, p.offset, p.length);
    eth.setSrc(this.mac);
    eth.setEthertype(ethertype);
    if (nextHop === IPV4_BROADCAST || nextHop === this.broadcast) {
      eth.setDst(MAC_BROADCAST);
      return this.transmit(p);
    }
    if (isIpv4Multicast(nextHop)) {
      // RFC 1112: 01:00:5e followed by the low 23 bits of the group address.
      const b = p.bytes;
      const o = p.offset;
      b[o] = 0x01;
      b[o + 1] = 0x00;
      b[o + 2] = 0x5e;
      b[o + 3] = (nextHop >>> 16) & 0x7f;
      b[o + 4] = (nextHop >>> 8) & 0xff;
      b[o + 5] = nextHop & 0xff;
      return this.transmit(p);
    }
    const i = this.arpCache.resolved(nextHop);
    if (i >= 0) {
      const macs = this.arpCache.macs;
      for (let b = 0; b < 6; b++) p.bytes[p.offset + b] = macs[i * 6 + b]!;
      return this.transmit(p);
    }
    return this.arpQueue(p, nextHop);
  }

  private transmit(p: Pbuf): boolean {
    this.counters.ethernetOut++;
    if (this.device.transmit(p)) return true;
    this.counters.txDrops.deviceFull++;
    return false;
  }

  // ---------------------------------------------------------------- ARP

  private sendArp(
    op: number,
    dstMac: Uint8Array,
    targetIp: Ipv4Address,
    targetMac: Uint8Array,
  ): void {
    this.charge(CATEGORY_BUFFER, this.costs.pbufAlloc);
    const p = this.device.allocTx(ETHERNET_MIN_FRAME);
    if (!p) {
      this.counters.txDrops.noBuffer++;
      return;
    }
    p.length = ETHERNET_MIN_FRAME;
    p.bytes.fill(0, p.offset, p.offset + ETHERNET_MIN_FRAME);
    const eth = this.outEth.wrap(p.bytes, p.offset, p.length);
    eth.setDst(dstMac);
    eth.setSrc(this.mac);
    eth.setEthertype(EtherType.Arp);
    const r = this.outArpRepr;
    r.operation = op === ArpOperation.Reply ? ArpOperation.Reply : ArpOperation.Request;
    r.senderHardwareAddr.set(this.mac);
    r.senderProtocolAddr = this.ip;
    r.targetHardwareAddr.set(targetMac);
    r.targetProtocolAddr = targetIp;
    r.emit(this.outArp.wrap(p.bytes, eth.payloadOffset, r.bufferLen()));
    this.counters.arpOut++;
    this.transmit(p);
  }

  private static readonly ZERO_MAC = new Uint8Array(6);

  private sendArpRequest(target: Ipv4Address): void {
    this.sendArp(ArpOperation.Request, MAC_BROADCAST, target, Stack.ZERO_MAC);
  }

  /** Learn `ip → mac` (insert only if the ARP was for us), then flush packets waiting for it. */
  private arpLearn(ip: Ipv4Address, mac: Uint8Array, insert: boolean): void {
    const cache = this.arpCache;
    let i = cache.find(ip);
    if (i < 0) {
      if (!insert) return;
      i = cache.claim(ip);
      if (cache.evictedIp >= 0) this.arpDropQueued(cache.evictedIp);
    }
    cache.resolve(i, mac, 0, this.time + this.arpLifetime);
    if (this.pendingCount > 0) this.arpFlush(ip, i);
  }

  private arpQueue(p: Pbuf, nextHop: Ipv4Address): boolean {
    const cache = this.arpCache;
    let i = cache.find(nextHop);
    if (i < 0) {
      i = cache.claim(nextHop);
      if (cache.evictedIp >= 0) this.arpDropQueued(cache.evictedIp);
    }
    let queued = false;
    if (this.pendingCount < this.pendingPbufs.length) {
      for (let s = 0; s < this.pendingPbufs.length; s++) {
        if (this.pendingPbufs[s] === null) {
          this.pendingPbufs[s] = p;
          this.pendingIps[s] = nextHop;
          this.pendingCount++;
          queued = true;
          break;
        }
      }
    }
    if (!queued) {
      this.counters.txDrops.arpQueueFull++;
      this.device.releaseTx(p);
    }
    if (cache.states[i] === ArpState.Pending && cache.requests[i] === 0) {
      cache.requests[i] = 1;
      cache.deadlines[i] = this.time + this.arpInterval;
      this.sendArpRequest(nextHop);
    }
    return queued;
  }

  /** Send every packet queued for `ip` (cache entry `i` is resolved), oldest first. */
  private arpFlush(ip: Ipv4Address, i: number): void {
    const macs = this.arpCache.macs;
    for (let s = 0; s < this.pendingPbufs.length; s++) {
      const p = this.pendingPbufs[s];
      if (p && this.pendingIps[s] === ip) {
        this.pendingPbufs[s] = null;
        this.pendingCount--;
        for (let b = 0; b < 6; b++) p.bytes[p.offset + b] = macs[i * 6 + b]!;
        this.transmit(p);
      }
    }
  }

  private arpDropQueued(ip: Ipv4Address): void {
    for (let s = 0; s < this.pendingPbufs.length; s++) {
      const p = this.pendingPbufs[s];
      if (p && this.pendingIps[s] === ip) {
        this.pendingPbufs[s] = null;
        this.pendingCount--;
        this.counters.txDrops.arpUnresolved++;
        this.device.releaseTx(p);
      }
    }
  }

  private arpTimer(now: number): void {
    this.charge(CATEGORY_IP, this.costs.arpTimer);
    const cache = this.arpCache;
    for (let i = 0; i < cache.size; i++) {
      const s = cache.states[i];
      if (s === ArpState.Empty || cache.deadlines[i]! > now) continue;
      if (s === ArpState.Resolved) {
        cache.clear(i);
      } else if (cache.requests[i]! >= this.arpMaxRequests) {
        const ip = cache.ips[i]!;
        cache.clear(i);
        this.arpDropQueued(ip);
      } else {
        cache.requests[i] = cache.requests[i]! + 1;
        cache.deadlines[i] = now + this.arpInterval;
        this.sendArpRequest(cache.ips[i]!);
      }
    }
  }
}
