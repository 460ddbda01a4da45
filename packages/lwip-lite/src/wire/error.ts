/**
 * Why a byte buffer is not a valid packet: a value, never an exception.
 *
 * - `truncated`: the buffer is shorter than a header or a length field says.
 * - `bad-checksum`: a checksum does not verify.
 * - `malformed`: a field is impossible (IPv4 version 5, header length 12, UDP length 3).
 * - `unsupported`: valid but not something this stack handles (ARP for IPv6, ICMP redirect).
 *
 * @module
 */

/** A parse failure, returned in place of a representation. */
export type WireError = 'truncated' | 'bad-checksum' | 'malformed' | 'unsupported';

/** Every {@link WireError}, in a fixed order (for counters and tests). */
export const WIRE_ERRORS: readonly WireError[] = [
  'truncated',
  'bad-checksum',
  'malformed',
  'unsupported',
];

/** True if a parse result is a {@link WireError} rather than a representation. */
export function isWireError(value: unknown): value is WireError {
  return typeof value === 'string';
}
