/**
 * Cycle costs the stack charges per packet on the sim engine, as one exported table.
 *
 * Status: **uncalibrated placeholders**. They are order-of-magnitude guesses for a small
 * lwIP-like stack on a 2.66 GHz Pentium 4 (a few hundred cycles per header processed, about
 * half a cycle per byte for checksumming and copying, which a P4 streams at several bytes per
 * cycle from cache but less from memory). The lead calibrates them once against the paper's
 * execution profile (Figure 1(a), 450 Mb/s, 1024-byte UDP echo, 100 µs hold-off, "IP" and
 * "Buffer" shares) and records the calibration; until then no figure derived from them is a
 * result. Override any entry with `new Stack({ costs: { ... } })`.
 *
 * Categories: every entry is charged to `'IP'` except {@link LwipCosts.pbufAlloc} and
 * {@link LwipCosts.pbufFree}, which are charged to `'Buffer'` (the paper's buffer-management
 * category).
 *
 * @module
 */

/** Cycle costs of the stack's per-packet work. */
export interface LwipCosts {
  /** Ethernet input: destination filter and EtherType dispatch, per received frame. */
  readonly ethernetInput: number;
  /** ARP input: parse, cache update, reply construction (the reply's output costs are extra). */
  readonly arpInput: number;
  /** IPv4 input: header validation (checksum bytes extra), address filter, protocol dispatch. */
  readonly ipv4Input: number;
  /** ICMP input: echo request recognition and reply header (checksum bytes extra). */
  readonly icmpInput: number;
  /** UDP input: header validation, socket lookup (PCB demux) and delivery to the socket. */
  readonly udpInput: number;
  /** UDP output: header construction (checksum bytes extra). */
  readonly udpOutput: number;
  /** IPv4 output: header construction and header checksum, routing to the next hop. */
  readonly ipv4Output: number;
  /** Ethernet output: ARP cache lookup, header write, hand-off to the device. */
  readonly ethernetOutput: number;
  /** ARP timer work per {@link Stack.poll} (entry ageing and request retries). */
  readonly arpTimer: number;
  /** Per byte checksummed (IPv4 header, ICMP message, UDP datagram + pseudo-header). */
  readonly perByteChecksum: number;
  /** Per byte copied (the echo's one copy of the payload into the reply buffer). */
  readonly perByteCopy: number;
  /** Buffer management: taking a pbuf (rx hand-over or tx allocation). Category `'Buffer'`. */
  readonly pbufAlloc: number;
  /** Buffer management: returning a pbuf to its pool or the device. Category `'Buffer'`. */
  readonly pbufFree: number;
}

/** The default cost table (uncalibrated placeholders; see the module comment). */
export const LWIP_COSTS: LwipCosts = Object.freeze({
  ethernetInput: 150,
  arpInput: 400,
  ipv4Input: 350,
  icmpInput: 250,
  udpInput: 400,
  udpOutput: 300,
  ipv4Output: 350,
  ethernetOutput: 200,
  arpTimer: 50,
  perByteChecksum: 0.5,
  perByteCopy: 0.5,
  pbufAlloc: 100,
  pbufFree: 80,
});

/** Accounting category of protocol processing (the paper's "IP"). */
export const CATEGORY_IP = 'IP';
/** Accounting category of buffer management (the paper's "Buffer"). */
export const CATEGORY_BUFFER = 'Buffer';

/** A cycle-accounting hook, e.g. `sys.charge` of `@udf/l4-kernel`. */
export type ChargeFn = (category: string, cycles: number) => void;
