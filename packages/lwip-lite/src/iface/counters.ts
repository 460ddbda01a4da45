/**
 * Counters of a stack: packets in and out per layer, the outcome of every received frame, output
 * drops, and the copies made. Every received frame ends in exactly one *outcome* counter: one of
 * `arpHandled`, `icmpHandled`, `udpDelivered`, or one field of `drops` — so
 * `ethernetIn === inputOutcomes(c)` always holds ({@link inputOutcomes}).
 *
 * @module
 */

/** Why a received frame was dropped. */
export interface InputDrops {
  /** Shorter than a header or than a length field says. */
  truncated: number;
  /** An IPv4 header, ICMP or UDP checksum failed. */
  badChecksum: number;
  /** An impossible field (IP version, header length, UDP length, broadcast source). */
  malformed: number;
  /** Valid but not handled: other EtherTypes, IP protocols, ARP kinds, ICMP messages. */
  unsupported: number;
  /** Addressed to another host (MAC or IP), or an ARP not about us. */
  notForUs: number;
  /** An IPv4 fragment: this stack does not reassemble (lwIP with `IP_REASSEMBLY 0`). */
  fragment: number;
  /** UDP to a port nobody bound (no ICMP port unreachable is sent). */
  noSocket: number;
  /** The socket's receive queue was full. */
  queueFull: number;
  /** ICMP echo request to a broadcast address (ignored, as lwIP and Linux do by default). */
  broadcastEcho: number;
}

/** Why an outgoing packet was dropped. */
export interface OutputDrops {
  /** ARP gave up on the next hop (no reply after the retries); queued packets dropped. */
  arpUnresolved: number;
  /** The queue of packets awaiting ARP resolution was full. */
  arpQueueFull: number;
  /** No transmit buffer. */
  noBuffer: number;
  /** The device refused the frame (transmit ring full). */
  deviceFull: number;
  /** Off-link destination and no gateway. */
  noRoute: number;
  /** Larger than the device MTU (this stack does not fragment). */
  tooBig: number;
}

/** All counters of a stack. Fields only grow. */
export interface StackCounters {
  /** Frames taken from the device. */
  ethernetIn: number;
  /** Frames handed to the device. */
  ethernetOut: number;
  /** Frames with EtherType ARP. */
  arpIn: number;
  /** ARP requests and replies sent. */
  arpOut: number;
  /** Frames with EtherType IPv4. */
  ipv4In: number;
  /** IPv4 packets sent. */
  ipv4Out: number;
  /** IPv4 packets for us with protocol ICMP. */
  icmpIn: number;
  /** ICMP messages sent (echo replies and requests). */
  icmpOut: number;
  /** IPv4 packets for us with protocol UDP. */
  udpIn: number;
  /** UDP datagrams sent. */
  udpOut: number;
  /** Outcome: an ARP request for us (answered) or a reply to us (learned). */
  arpHandled: number;
  /** Outcome: an ICMP echo request (answered) or echo reply (reported). */
  icmpHandled: number;
  /** Outcome: a UDP datagram delivered to a socket. */
  udpDelivered: number;
  /** Outcome: dropped, by reason. */
  readonly drops: InputDrops;
  /** Outgoing packets dropped, by reason. */
  readonly txDrops: OutputDrops;
  /** Payload copies made (the echo's one copy per reply). */
  copyOps: number;
  /** Bytes copied. */
  copyBytes: number;
}

/** Fresh zeroed counters. */
export function createCounters(): StackCounters {
  return {
    ethernetIn: 0,
    ethernetOut: 0,
    arpIn: 0,
    arpOut: 0,
    ipv4In: 0,
    ipv4Out: 0,
    icmpIn: 0,
    icmpOut: 0,
    udpIn: 0,
    udpOut: 0,
    arpHandled: 0,
    icmpHandled: 0,
    udpDelivered: 0,
    drops: {
      truncated: 0,
      badChecksum: 0,
      malformed: 0,
      unsupported: 0,
      notForUs: 0,
      fragment: 0,
      noSocket: 0,
      queueFull: 0,
      broadcastEcho: 0,
    },
    txDrops: {
      arpUnresolved: 0,
      arpQueueFull: 0,
      noBuffer: 0,
      deviceFull: 0,
      noRoute: 0,
      tooBig: 0,
    },
    copyOps: 0,
    copyBytes: 0,
  };
}

/** Sum of the input drops. */
export function totalInputDrops(c: StackCounters): number {
  let n = 0;
  for (const v of Object.values(c.drops)) n += v;
  return n;
}

/** Sum of every input outcome; equals `c.ethernetIn` when the stack is idle. */
export function inputOutcomes(c: StackCounters): number {
  return c.arpHandled + c.icmpHandled + c.udpDelivered + totalInputDrops(c);
}

/** A deep copy of the counters (for reports and comparisons). */
export function snapshotCounters(c: StackCounters): StackCounters {
  return { ...c, drops: { ...c.drops }, txDrops: { ...c.txDrops } };
}
