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
 *
 * The value is exact after {@link foldSum}: `foldSum(sum16(...))` equals the fold of the plain
 * sum of big-endian words plus `initial`, for every input (zero only when both are zero).
 * Before folding, the number is a congruent sum (mod 0xffff) whose exact value may depend on the
 * buffer's alignment: runs of at least 32 bytes are summed as 32-bit
 * native-order words from a cached `Uint32Array` over the underlying buffer (no allocation per
 * call once the buffer is cached) and the folded result is byte-swapped where needed, RFC 1071
 * §2(B). Chain sums through `initial` or fold them; do not compare them unfolded.
 */
export function sum16(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  const end = Math.min(offset + length, bytes.length);
  // Short runs, odd arguments (negative or fractional offsets, NaN) and big-endian hosts: the
  // byte-wise loop, which defines the semantics.
  if (
    !LITTLE_ENDIAN ||
    end - offset < SUM16_WORDWISE_MIN ||
    (offset | 0) !== offset ||
    offset < 0 ||
    (end | 0) !== end
  )
    return sum16Bytewise(bytes, offset, end, initial);
  const words = wordsOf(bytes.buffer);
  if (words === null) return sum16Bytewise(bytes, offset, end, initial);
  return initial + sumWords(bytes, words, offset, end);
}

/**
 * Shortest run {@link sum16} sums word-wise; shorter runs (IPv4 headers, ICMP headers) go
 * byte by byte, where the head and tail handling would cost more than it saves.
 */
const SUM16_WORDWISE_MIN = 32;

/** The byte-wise loop over `[offset, end)` (end already clamped to the array). */
function sum16Bytewise(bytes: Uint8Array, offset: number, end: number, initial: number): number {
  let sum = initial;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** True on little-endian hosts (every platform Node ships for; the fallback covers the rest). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Words summed between partial folds: keeps the double accumulator far below 2^53. */
const CHUNK_WORDS = 1 << 20;

/**
 * Sum of `[offset, end)` (at least {@link SUM16_WORDWISE_MIN} bytes, integer bounds) folded to
 * 16 bits, in the byte order of the big-endian word sum. Every byte is weighted by the parity of
 * its absolute address in the buffer (even: ×1, odd: ×256, the native little-endian word
 * order); that is the big-endian weighting exactly when the run starts at an odd address, and
 * its byte swap when it starts at an even one (RFC 1071 §2(B)).
 */
function sumWords(bytes: Uint8Array, words: Uint32Array, offset: number, end: number): number {
  const base = bytes.byteOffset;
  let a = base + offset;
  const e = base + end;
  const swap = (a & 1) === 0;
  let s = 0;
  // Head: up to 3 bytes to reach a 4-byte boundary (the run is long enough to hold them).
  if ((a & 1) !== 0) {
    s += bytes[a - base]! << 8;
    a++;
  }
  if ((a & 2) !== 0) {
    s += bytes[a - base]! | (bytes[a + 1 - base]! << 8);
    a += 2;
  }
  let i = a >>> 2;
  const n = e >>> 2;
  while (i < n) {
    const stop = Math.min(n, i + CHUNK_WORDS);
    let t = 0;
    for (; i + 3 < stop; i += 4) {
      s += words[i]! + words[i + 1]!;
      t += words[i + 2]! + words[i + 3]!;
    }
    for (; i < stop; i++) s += words[i]!;
    s += t;
    s = (s % 0x10000) + Math.floor(s / 0x10000); // partial fold: congruent, zero only if zero
  }
  // Tail: up to 3 bytes from a 4-byte boundary.
  a = i << 2;
  if (a + 1 < e) {
    s += bytes[a - base]! | (bytes[a + 1 - base]! << 8);
    a += 2;
  }
  if (a < e) s += bytes[a - base]!;
  s = foldSum(s);
  return swap ? ((s & 0xff) << 8) | (s >>> 8) : s;
}

/** Buffers with a cached whole-buffer word view, most recently used first. */
const cachedBuffers: (ArrayBufferLike | null)[] = [null, null, null, null];
/** The views of {@link cachedBuffers}, index for index; `null` for a buffer that cannot have one. */
const cachedWords: (Uint32Array | null)[] = [null, null, null, null];

/**
 * A `Uint32Array` over all of `buffer` (its length rounded down to whole words), from a
 * four-entry cache: a stack touches one or a few buffers (its receive and transmit dataspaces),
 * so after the first packet no view is created. `null` for a resizable or growable buffer, whose
 * length a fixed view would not follow (those sum byte-wise). The cache keeps the last four
 * buffers reachable.
 */
function wordsOf(buffer: ArrayBufferLike): Uint32Array | null {
  if (cachedBuffers[0] === buffer) return cachedWords[0] ?? null;
  let k = 1;
  while (k < cachedBuffers.length && cachedBuffers[k] !== buffer) k++;
  let words: Uint32Array | null;
  if (k < cachedBuffers.length) {
    words = cachedWords[k] ?? null;
  } else {
    k = cachedBuffers.length - 1;
    const flexible = buffer as { resizable?: boolean; growable?: boolean };
    words =
      flexible.resizable === true || flexible.growable === true
        ? null
        : new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  // Move to the front.
  for (; k > 0; k--) {
    cachedBuffers[k] = cachedBuffers[k - 1] ?? null;
    cachedWords[k] = cachedWords[k - 1] ?? null;
  }
  cachedBuffers[0] = buffer;
  cachedWords[0] = words;
  return words;
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
