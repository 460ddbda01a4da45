/**
 * The Internet checksum side by side in one run: the byte-wise loop `sum16` used to be (the
 * reference) against today's word-wise `sum16`, over 1032-byte UDP datagrams (8-byte header and
 * a 1024-byte payload) in a SharedArrayBuffer, as frames sit on the threads engine. Rounds
 * alternate the two so that load on a shared machine hits both alike; the ratio is of the
 * medians. Both results are checked equal after folding.
 */
import { foldSum, sum16 } from '../src/wire/checksum.js';

/** The byte-wise loop, as `sum16` was before the word-wise path. */
function sum16Reference(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = Math.min(offset + length, bytes.length);
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Result of {@link benchChecksum}: nanoseconds per 1032-byte sum, median over rounds. */
export interface ChecksumBenchResult {
  /** The case: where the datagram starts relative to a 4-byte boundary. */
  label: string;
  referenceNs: number;
  wordwiseNs: number;
  /** referenceNs / wordwiseNs. */
  speedup: number;
}

const DATAGRAM = 1032;
const FRAMES = 64;
const SLOT = 2048;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Sum `FRAMES` datagrams at `shift` bytes past a 2048-byte slot boundary (34: after the Ethernet
 * and IPv4 headers of a frame at the slot start), `rounds` × `perRound` sums for each variant.
 */
export function benchChecksum(
  label: string,
  shift: number,
  rounds = 15,
  perRound = 100_000,
): ChecksumBenchResult {
  const bytes = new Uint8Array(new SharedArrayBuffer(FRAMES * SLOT + 64));
  let x = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  for (let f = 0; f < FRAMES; f++) {
    const at = f * SLOT + shift;
    if (foldSum(sum16(bytes, at, DATAGRAM, f)) !== foldSum(sum16Reference(bytes, at, DATAGRAM, f)))
      throw new Error(`sum16 differs from the reference at frame ${f} (${label})`);
  }
  const run = (fn: typeof sum16): number => {
    let sink = 0;
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < perRound; k++) sink += fn(bytes, (k % FRAMES) * SLOT + shift, DATAGRAM, k);
    const ns = Number(process.hrtime.bigint() - t0) / perRound;
    if (sink < 0) throw new Error('unreachable');
    return ns;
  };
  run(sum16Reference); // warm up both
  run(sum16);
  const ref: number[] = [];
  const word: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      ref.push(run(sum16Reference));
      word.push(run(sum16));
    } else {
      word.push(run(sum16));
      ref.push(run(sum16Reference));
    }
  }
  const referenceNs = median(ref);
  const wordwiseNs = median(word);
  return { label, referenceNs, wordwiseNs, speedup: referenceNs / wordwiseNs };
}
