/**
 * The probe payload every ipbench packet carries.
 *
 * @remarks Layout (little-endian, as ipbench's `latency-check` writes host-order words on x86):
 * bytes 0–7 sequence number; bytes 8–15 sequence number + 1 (latency-check's integrity word: an
 * echo whose second word is not the first plus one is a *bad packet*); bytes 16–23 the send
 * timestamp in clock cycles (integer). The rest is padding up to the packet size.
 */

/** Bytes of probe header at the start of each payload; the smallest usable packet size. */
export const PROBE_HEADER_LEN = 24;

const TWO32 = 0x1_0000_0000;

function writeU64LE(buf: Uint8Array, off: number, value: number): void {
  const lo = value >>> 0;
  const hi = Math.floor(value / TWO32) >>> 0;
  buf[off] = lo & 0xff;
  buf[off + 1] = (lo >>> 8) & 0xff;
  buf[off + 2] = (lo >>> 16) & 0xff;
  buf[off + 3] = lo >>> 24;
  buf[off + 4] = hi & 0xff;
  buf[off + 5] = (hi >>> 8) & 0xff;
  buf[off + 6] = (hi >>> 16) & 0xff;
  buf[off + 7] = hi >>> 24;
}

function readU64LE(buf: Uint8Array, off: number): number {
  const lo =
    (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
  const hi =
    (buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16) | (buf[off + 7]! << 24)) >>> 0;
  return hi * TWO32 + lo;
}

/** Writes seq, seq+1 and the timestamp at `off`. */
export function writeProbe(buf: Uint8Array, off: number, seq: number, timestamp: number): void {
  writeU64LE(buf, off, seq);
  writeU64LE(buf, off + 8, seq + 1);
  writeU64LE(buf, off + 16, Math.max(0, Math.round(timestamp)));
}

/** Sequence number of the probe at `off`. */
export function probeSeq(buf: Uint8Array, off: number): number {
  return readU64LE(buf, off);
}

/** True if the integrity word equals the sequence number plus one. */
export function probeIntact(buf: Uint8Array, off: number): boolean {
  return readU64LE(buf, off + 8) === readU64LE(buf, off) + 1;
}

/** Send timestamp (cycles, rounded) of the probe at `off`. */
export function probeTimestamp(buf: Uint8Array, off: number): number {
  return readU64LE(buf, off + 16);
}
