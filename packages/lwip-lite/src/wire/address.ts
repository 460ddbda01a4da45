/**
 * Link and network addresses. An IPv4 address is an unsigned 32-bit number (host order of the
 * dotted quad, `10.0.0.1` is `0x0a000001`) so that the hot path compares numbers and never
 * allocates; a MAC address is six bytes.
 *
 * @module
 */
import { LwipError } from '../error.js';

/** An IPv4 address as an unsigned 32-bit integer, most significant byte first on the wire. */
export type Ipv4Address = number;

/** A 48-bit Ethernet (MAC) address: exactly six bytes. */
export type MacAddress = Uint8Array;

/** The limited broadcast address `255.255.255.255`. */
export const IPV4_BROADCAST: Ipv4Address = 0xffffffff;
/** The unspecified address `0.0.0.0`. */
export const IPV4_UNSPECIFIED: Ipv4Address = 0;

/** Build an IPv4 address from its four octets. */
export function ipv4(a: number, b: number, c: number, d: number): Ipv4Address {
  return (((a & 0xff) << 24) | ((b & 0xff) << 16) | ((c & 0xff) << 8) | (d & 0xff)) >>> 0;
}

/** Parse a dotted quad (`'10.0.0.1'`); throws {@link LwipError} `ADDRESS` on anything else. */
export function parseIpv4(text: string): Ipv4Address {
  const parts = text.split('.');
  if (parts.length !== 4) throw new LwipError('ADDRESS', `not an IPv4 address: '${text}'`);
  let addr = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) {
      throw new LwipError('ADDRESS', `not an IPv4 address: '${text}'`);
    }
    addr = addr * 256 + Number(p);
  }
  return addr >>> 0;
}

/** Format an IPv4 address as a dotted quad. */
export function formatIpv4(addr: Ipv4Address): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** True for `224.0.0.0/4`. */
export function isIpv4Multicast(addr: Ipv4Address): boolean {
  return addr >>> 28 === 0xe;
}

/** The Ethernet broadcast address `ff:ff:ff:ff:ff:ff` (treat as read-only). */
export const MAC_BROADCAST: MacAddress = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Parse `'02:00:00:00:00:01'` (or with `-`); throws {@link LwipError} `ADDRESS` otherwise. */
export function parseMac(text: string): MacAddress {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new LwipError('ADDRESS', `not a MAC address: '${text}'`);
  }
  return new Uint8Array(parts.map((p) => Number.parseInt(p, 16)));
}

/** Format a MAC address as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push((mac[i] ?? 0).toString(16).padStart(2, '0'));
  return out.join(':');
}

/** True if six bytes at `bytes[offset..]` equal `mac`. */
export function macEquals(bytes: Uint8Array, offset: number, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (bytes[offset + i] !== mac[i]) return false;
  return true;
}

/** True if six bytes at `bytes[offset..]` are all `0xff`. */
export function isMacBroadcast(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 6; i++) if (bytes[offset + i] !== 0xff) return false;
  return true;
}
