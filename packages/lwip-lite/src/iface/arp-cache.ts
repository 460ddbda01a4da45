/**
 * The ARP cache: a fixed table of `(IPv4 address → MAC)` entries that are empty, pending (a
 * request is out) or resolved (with an expiry). Preallocated typed arrays: lookups and updates
 * allocate nothing. Timing and the queue of packets awaiting resolution live in the stack.
 *
 * @module
 */
import type { Ipv4Address } from '../wire/address.js';

/** Tunables of ARP, in milliseconds of the stack's clock. Defaults follow lwIP's `etharp.c` spirit. */
export interface ArpOptions {
  /** Entries in the cache (default 16; lwIP `ARP_TABLE_SIZE` is 10). */
  readonly cacheSize?: number;
  /** Packets that may wait for resolution, over all destinations (default 16). */
  readonly queueLength?: number;
  /** Time between requests for a pending entry (default 1000 ms). */
  readonly requestIntervalMs?: number;
  /** Requests before giving up and dropping the queued packets (default 3). */
  readonly maxRequests?: number;
  /** Lifetime of a resolved entry (default 300 000 ms, lwIP's `ARP_MAXAGE` of 5 minutes). */
  readonly entryLifetimeMs?: number;
}

/** State of an ARP cache entry. */
export const ArpState = { Empty: 0, Pending: 1, Resolved: 2 } as const;
/** A numeric {@link ArpState}. */
export type ArpState = (typeof ArpState)[keyof typeof ArpState];

/** A snapshot of one entry (for inspection; allocates). */
export interface ArpEntry {
  /** The IPv4 address. */
  readonly ip: Ipv4Address;
  /** Pending or resolved. */
  readonly state: 'pending' | 'resolved';
  /** The MAC (zeros while pending). */
  readonly mac: Uint8Array;
  /** Expiry (resolved) or time of the next request (pending), in ms. */
  readonly deadline: number;
  /** Requests sent so far (pending). */
  readonly requests: number;
}

/** The table. */
export class ArpCache {
  /** Capacity. */
  readonly size: number;
  /** Addresses. */
  readonly ips: Uint32Array;
  /** MACs, six bytes per entry. */
  readonly macs: Uint8Array;
  /** {@link ArpState} per entry. */
  readonly states: Uint8Array;
  /** Expiry (resolved) or next request time (pending). */
  readonly deadlines: Float64Array;
  /** Requests sent (pending). */
  readonly requests: Uint8Array;

  /** @param size - number of entries */
  constructor(size: number) {
    this.size = size;
    this.ips = new Uint32Array(size);
    this.macs = new Uint8Array(size * 6);
    this.states = new Uint8Array(size);
    this.deadlines = new Float64Array(size);
    this.requests = new Uint8Array(size);
  }

  /** Index of the entry for `ip` (pending or resolved), or -1. */
  find(ip: Ipv4Address): number {
    for (let i = 0; i < this.size; i++) {
      if (this.states[i] !== ArpState.Empty && this.ips[i] === ip) return i;
    }
    return -1;
  }

  /** Index of a *resolved* entry for `ip`, or -1. */
  resolved(ip: Ipv4Address): number {
    const i = this.find(ip);
    return i >= 0 && this.states[i] === ArpState.Resolved ? i : -1;
  }

  /**
   * A slot for a new entry for `ip`: an empty one, else the resolved entry closest to expiry,
   * else the pending entry with the nearest deadline. Returns the index; the caller must handle
   * packets queued for an evicted pending entry (see {@link ArpCache.evictedIp}).
   */
  claim(ip: Ipv4Address): number {
    let victim = -1;
    for (let i = 0; i < this.size; i++)
      if (this.states[i] === ArpState.Empty) return this.reset(i, ip);
    for (let i = 0; i < this.size; i++) {
      if (this.states[i] === ArpState.Resolved) {
        if (victim < 0 || this.deadlines[i]! < this.deadlines[victim]!) victim = i;
      }
    }
    if (victim < 0) {
      for (let i = 0; i < this.size; i++) {
        if (victim < 0 || this.deadlines[i]! < this.deadlines[victim]!) victim = i;
      }
    }
    this.evictedIp = this.states[victim] === ArpState.Pending ? this.ips[victim]! : -1;
    return this.reset(victim, ip);
  }

  /** The address of the pending entry the last {@link ArpCache.claim} evicted, or -1. */
  evictedIp = -1;

  private reset(i: number, ip: Ipv4Address): number {
    if (this.states[i] === ArpState.Empty) this.evictedIp = -1;
    this.ips[i] = ip;
    this.states[i] = ArpState.Pending;
    this.requests[i] = 0;
    this.deadlines[i] = 0;
    this.macs.fill(0, i * 6, i * 6 + 6);
    return i;
  }

  /** Make entry `i` resolved to the MAC at `mac[macOffset..]`, expiring at `expires`. */
  resolve(i: number, mac: Uint8Array, macOffset: number, expires: number): void {
    for (let k = 0; k < 6; k++) this.macs[i * 6 + k] = mac[macOffset + k]!;
    this.states[i] = ArpState.Resolved;
    this.deadlines[i] = expires;
    this.requests[i] = 0;
  }

  /** Empty entry `i`. */
  clear(i: number): void {
    this.states[i] = ArpState.Empty;
  }

  /** Snapshot of the live entries. */
  entries(): ArpEntry[] {
    const out: ArpEntry[] = [];
    for (let i = 0; i < this.size; i++) {
      const s = this.states[i];
      if (s === ArpState.Empty) continue;
      out.push({
        ip: this.ips[i]!,
        state: s === ArpState.Resolved ? 'resolved' : 'pending',
        mac: this.macs.slice(i * 6, i * 6 + 6),
        deadline: this.deadlines[i]!,
        requests: this.requests[i]!,
      });
    }
    return out;
  }
}
