/**
 * The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum of
 * the data taken as big-endian 16-bit words, plus the IPv4 pseudo-header sum that UDP and TCP
 * add (RFC 768). Sums are kept unfolded in a JS number (exact up to 2^53), folded once at the end.
 *
 * @module
 */
import type { Ipv4Address } from './address.js';

/**
 * Unfolded ones' complement sum of `length` bytes from `offset`, added to `initial`. An odd
 * trailing byte is padded with a zero on the right, as RFC 1071 prescribes. Bytes beyond the end
 * of `bytes` count as zero.
 */
export function sum16(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = Math.min(offset + length, bytes.length);
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Fold an unfolded sum to 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum of `length` bytes from `offset`, starting from an unfolded `initial` sum. */
export function internetChecksum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial = 0,
): number {
  return ~foldSum(sum16(bytes, offset, length, initial)) & 0xffff;
}

/** Unfolded sum of the IPv4 pseudo-header: source, destination, zero + protocol, length. */
export function pseudoHeaderSum(
  src: Ipv4Address,
  dst: Ipv4Address,
  protocol: number,
  length: number,
): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
