/**
 * libpcap capture files (the classic format, not pcapng), link type `LINKTYPE_ETHERNET` (1), so
 * any run can be opened in Wireshark or tcpdump.
 *
 * Format, little-endian as written by this module:
 * - global header, 24 bytes: magic `0xa1b23c4d` (nanosecond timestamps, the default) or
 *   `0xa1b2c3d4` (microsecond), version 2.4, thiszone 0, sigfigs 0, snaplen, network 1;
 * - per frame, a 16-byte record header (seconds, fraction in ns or µs, captured length, original
 *   length) followed by the captured bytes (at most snaplen).
 *
 * Time is kept as integers end to end: the writer takes nanoseconds as a `bigint` or an integer
 * `number` and splits them exactly; the reader returns the record's own seconds and fraction and
 * `timeNs` as a `bigint`. {@link readPcap} reads what tcpdump, tshark and scapy write in either
 * byte order and resolution, returns every complete record of a file cut short (flagging the cut),
 * validates every record header (see {@link PcapRecord.flags}) and bounds its memory
 * ({@link PcapReadOptions.maxRecords}, or {@link iteratePcap} for any size). pcapng (tshark's
 * default) is read by `readPcapng` / `readCapture`.
 *
 * {@link PcapWriter} is middleware-friendly: {@link PcapTap} records a frame stream between two
 * {@link FrameEndpoint}s, {@link PcapDevice} records what a stack receives and sends through a
 * {@link NetDevice}.
 *
 * @module
 */
import { LwipError } from '../error.js';
import type { Pbuf } from '../pbuf/pbuf.js';
import type { FrameEndpoint, NetDevice } from './device.js';

// pcapng support lives beside this module; re-exported so the package index reaches it.
export * from './pcapng.js';

/** Magic of a pcap file with microsecond timestamps. */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
/** Magic of a pcap file with nanosecond timestamps. */
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** `LINKTYPE_ETHERNET`. */
export const LINKTYPE_ETHERNET = 1;
/** Bytes of the global header. */
export const PCAP_HEADER_LEN = 24;
/** Bytes of a record header. */
export const PCAP_RECORD_HEADER_LEN = 16;

/** Timestamp resolution of a capture file. */
export type PcapResolution = 'nano' | 'micro';

/** Options of a {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** Timestamp resolution (default `'nano'`). */
  readonly resolution?: PcapResolution;
  /** Largest number of bytes kept per frame (default 65535). */
  readonly snaplen?: number;
  /**
   * Clock in nanoseconds since the epoch (or since the start of a simulation), as a `bigint` or an
   * integer `number` (a fractional one is rounded to the nearest ns). Default: the wall clock in
   * integer nanoseconds.
   */
  readonly clockNs?: () => number | bigint;
  /**
   * Called with each finished chunk (the header, then each record) — e.g. `fs.writeSync`. The
   * chunk is only valid during the call. Without a sink, the writer keeps everything in memory.
   */
  readonly sink?: (chunk: Uint8Array) => void;
}

const NS_PER_S = 1_000_000_000;

/** Splits integer nanoseconds into `[seconds, nanoseconds]` exactly (into `out`, no allocation). */
function splitNs(t: number | bigint, out: number[]): void {
  if (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0) {
    const ns = t % NS_PER_S; // exact: both operands are integers below 2^53
    out[0] = (t - ns) / NS_PER_S;
    out[1] = ns;
    return;
  }
  let big: bigint;
  if (typeof t === 'bigint') big = t;
  else if (Number.isFinite(t)) big = BigInt(Math.round(t));
  else throw new LwipError('CONFIG', `pcap timestamp must be finite, got ${t}`);
  if (big < 0n) throw new LwipError('CONFIG', `pcap timestamp must be non-negative, got ${big}`);
  out[0] = Number(big / 1_000_000_000n);
  out[1] = Number(big % 1_000_000_000n);
}

/** The wall clock in integer nanoseconds since the epoch. */
function wallClockNs(): () => bigint {
  const origin = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n; // µs → ns
  return () => origin + BigInt(Math.round(performance.now() * 1e6));
}

/** Writes a libpcap capture. */
export class PcapWriter {
  /** Timestamp resolution. */
  readonly resolution: PcapResolution;
  /** Snap length. */
  readonly snaplen: number;
  /** Frames recorded. */
  frames = 0;
  private readonly clockNs: () => number | bigint;
  private readonly sink: ((chunk: Uint8Array) => void) | undefined;
  private buf = new Uint8Array(64 * 1024);
  private used = 0;
  private readonly record = new Uint8Array(PCAP_RECORD_HEADER_LEN);
  private readonly recordView = new DataView(this.record.buffer);
  private readonly split = [0, 0];

  /** @param options - resolution, snap length, clock, sink */
  constructor(options: PcapWriterOptions = {}) {
    this.resolution = options.resolution ?? 'nano';
    this.snaplen = options.snaplen ?? 65535;
    this.clockNs = options.clockNs ?? wallClockNs();
    this.sink = options.sink;
    const h = new Uint8Array(PCAP_HEADER_LEN);
    const v = new DataView(h.buffer);
    v.setUint32(0, this.resolution === 'nano' ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.emit(h, 0, PCAP_HEADER_LEN);
  }

  /**
   * Record `length` bytes of `bytes` from `offset`, stamped `timeNs` (default: the clock):
   * nanoseconds as a `bigint` or a `number` (rounded to an integer), split into seconds and
   * fraction without floating-point error; micro-resolution files truncate to whole µs.
   */
  write(
    bytes: Uint8Array,
    offset = 0,
    length = bytes.length - offset,
    timeNs: number | bigint = this.clockNs(),
  ): void {
    const caplen = Math.min(length, this.snaplen);
    splitNs(timeNs, this.split);
    const sec = this.split[0]!;
    const ns = this.split[1]!;
    const r = this.recordView;
    r.setUint32(0, sec >>> 0, true);
    r.setUint32(4, this.resolution === 'nano' ? ns : Math.floor(ns / 1000), true);
    r.setUint32(8, caplen, true);
    r.setUint32(12, length, true);
    this.emit(this.record, 0, PCAP_RECORD_HEADER_LEN);
    this.emit(bytes, offset, caplen);
    this.frames++;
  }

  /** The capture so far (a copy). Empty after the header when a sink is used. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.used);
  }

  private emit(bytes: Uint8Array, offset: number, length: number): void {
    if (this.sink) {
      this.sink(bytes.subarray(offset, offset + length));
      return;
    }
    if (this.used + length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.used + length));
      next.set(this.buf.subarray(0, this.used));
      this.buf = next;
    }
    this.buf.set(bytes.subarray(offset, offset + length), this.used);
    this.used += length;
  }
}

/** Middleware on a frame stream: records every frame, then forwards it to `next`. */
export class PcapTap implements FrameEndpoint {
  /**
   * @param writer - where frames are recorded
   * @param next - where frames go afterwards
   */
  constructor(
    readonly writer: PcapWriter,
    private readonly next: FrameEndpoint,
  ) {}

  receive(frame: Uint8Array): void {
    this.writer.write(frame);
    this.next.receive(frame);
  }
}

/** Middleware on a {@link NetDevice}: records every frame the stack receives and transmits. */
export class PcapDevice implements NetDevice {
  /**
   * @param inner - the device that does the work
   * @param writer - where frames are recorded
   */
  constructor(
    private readonly inner: NetDevice,
    readonly writer: PcapWriter,
  ) {}

  get mtu(): number {
    return this.inner.mtu;
  }

  nextRx(): Pbuf | null {
    const p = this.inner.nextRx();
    if (p) this.writer.write(p.bytes, p.offset, p.length);
    return p;
  }

  releaseRx(pbuf: Pbuf): void {
    this.inner.releaseRx(pbuf);
  }

  allocTx(length: number): Pbuf | null {
    return this.inner.allocTx(length);
  }

  transmit(pbuf: Pbuf): boolean {
    this.writer.write(pbuf.bytes, pbuf.offset, pbuf.length);
    return this.inner.transmit(pbuf);
  }

  releaseTx(pbuf: Pbuf): void {
    this.inner.releaseTx(pbuf);
  }
}

/** Largest record a reader accepts (libpcap's `MAXIMUM_SNAPLEN`); a larger one ends the read. */
export const PCAP_MAX_RECORD = 262_144;

/** {@link PcapRecord.flags}: captured length above the file's snap length. */
export const PCAP_FLAG_CAPLEN_OVER_SNAPLEN = 1;
/** {@link PcapRecord.flags}: captured length above the original length. */
export const PCAP_FLAG_CAPLEN_OVER_ORIGLEN = 2;
/** {@link PcapRecord.flags}: original length above {@link PCAP_MAX_RECORD} (e.g. 0xffffffff). */
export const PCAP_FLAG_ORIGLEN_RANGE = 4;
/** {@link PcapRecord.flags}: fraction ≥ 10^9 (ns files) or ≥ 10^6 (µs files); not used in `timeNs`. */
export const PCAP_FLAG_FRACTION_RANGE = 8;

/** One record of a parsed capture. */
export interface PcapRecord {
  /** Seconds field as written. */
  readonly sec: number;
  /** Fraction field as written (ns or µs, per the file's resolution). */
  readonly frac: number;
  /**
   * Timestamp in nanoseconds, exact: `sec · 10^9 + fraction in ns` (a flagged out-of-range
   * fraction is left out).
   */
  readonly timeNs: bigint;
  /** Original frame length. */
  readonly origLen: number;
  /** Captured bytes: a view into the input (no copy; made when read). */
  readonly data: Uint8Array;
  /** 0 for a valid record header, else `PCAP_FLAG_…` bits: the record is kept but suspect. */
  readonly flags: number;
}

/** Where and why a capture stopped before its end. */
export interface CaptureCut {
  /** Byte offset of the first byte not read. */
  readonly at: number;
  /** What was wrong there (`truncated record data`, `record of … bytes`, …). */
  readonly reason: string;
}

/** A parsed capture file. */
export interface PcapFile {
  /** Timestamp resolution from the magic. */
  readonly resolution: PcapResolution;
  /** Snap length. */
  readonly snaplen: number;
  /** Link type (1 = Ethernet). */
  readonly linktype: number;
  /** Version major.minor. */
  readonly version: readonly [number, number];
  /** The records (every complete one before a cut). */
  readonly records: readonly PcapRecord[];
  /** Records with a non-zero {@link PcapRecord.flags}. */
  readonly flagged: number;
  /** Set when the file ends mid-record or a record header cannot be trusted. */
  readonly cut?: CaptureCut;
  /** True when reading stopped at {@link PcapReadOptions.maxRecords}. */
  readonly limited: boolean;
}

/** Options of {@link readPcap}. */
export interface PcapReadOptions {
  /** Records kept at most (default 1 000 000); use {@link iteratePcap} for more. */
  readonly maxRecords?: number;
}

/** Bytes of a capture: a `Uint8Array` (or any typed-array view) or an `ArrayBuffer` (shared or not). */
export type CaptureInput = ArrayBufferView | ArrayBufferLike;

/** Checks the input type (a typed error, never a `TypeError`) and views it as bytes. */
export function captureBytes(input: CaptureInput): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (
    input instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer)
  ) {
    return new Uint8Array(input);
  }
  if (ArrayBuffer.isView(input))
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new LwipError(
    'CONFIG',
    `a capture must be a Uint8Array or an ArrayBuffer, got ${input === null ? 'null' : typeof input}`,
  );
}

/** A record as a few numbers over the input; `data` and `timeNs` are made on demand. */
class PcapRecordView implements PcapRecord {
  constructor(
    private readonly file: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
    readonly sec: number,
    private readonly ns: number,
    readonly frac: number,
    readonly origLen: number,
    readonly flags: number,
  ) {}

  get data(): Uint8Array {
    return this.file.subarray(this.offset, this.offset + this.length);
  }

  get timeNs(): bigint {
    return BigInt(this.sec) * 1_000_000_000n + BigInt(Math.max(0, this.ns));
  }
}

interface PcapHeader {
  le: boolean;
  resolution: PcapResolution;
  snaplen: number;
  linktype: number;
  version: [number, number];
}

function pcapHeader(file: Uint8Array, v: DataView): PcapHeader | string {
  if (file.length < PCAP_HEADER_LEN) return 'truncated global header';
  let le = true;
  let magic = v.getUint32(0, true);
  if (magic !== PCAP_MAGIC_MICRO && magic !== PCAP_MAGIC_NANO) {
    le = false;
    magic = v.getUint32(0, false);
    if (magic !== PCAP_MAGIC_MICRO && magic !== PCAP_MAGIC_NANO) return 'bad magic';
  }
  return {
    le,
    resolution: magic === PCAP_MAGIC_NANO ? 'nano' : 'micro',
    snaplen: v.getUint32(16, le),
    linktype: v.getUint32(20, le),
    version: [v.getUint16(4, le), v.getUint16(6, le)],
  };
}

/**
 * The records of a classic pcap file one at a time, in constant memory (each `data` a view into
 * the input). Ends at the file's end or at a cut; the returned value is the cut, if any. Throws
 * `LwipError` (`CONFIG`) for an input that is not bytes; returns a string for a bad header.
 */
export function* iteratePcap(
  input: CaptureInput,
): Generator<PcapRecord, CaptureCut | string | undefined> {
  const file = captureBytes(input);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const h = pcapHeader(file, v);
  if (typeof h === 'string') return h;
  const { le, resolution, snaplen } = h;
  const fracLimit = resolution === 'nano' ? NS_PER_S : 1_000_000;
  const fracToNs = resolution === 'nano' ? 1 : 1000;
  let at = PCAP_HEADER_LEN;
  while (at < file.length) {
    if (at + PCAP_RECORD_HEADER_LEN > file.length) return { at, reason: 'truncated record header' };
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const incl = v.getUint32(at + 8, le);
    const orig = v.getUint32(at + 12, le);
    if (incl > PCAP_MAX_RECORD) {
      return { at, reason: `record of ${incl} bytes, above the ${PCAP_MAX_RECORD}-byte maximum` };
    }
    if (at + PCAP_RECORD_HEADER_LEN + incl > file.length) {
      return { at, reason: 'truncated record data' };
    }
    let flags = 0;
    if (snaplen > 0 && incl > snaplen) flags |= PCAP_FLAG_CAPLEN_OVER_SNAPLEN;
    if (incl > orig) flags |= PCAP_FLAG_CAPLEN_OVER_ORIGLEN;
    if (orig > PCAP_MAX_RECORD) flags |= PCAP_FLAG_ORIGLEN_RANGE;
    if (frac >= fracLimit) flags |= PCAP_FLAG_FRACTION_RANGE;
    yield new PcapRecordView(
      file,
      at + PCAP_RECORD_HEADER_LEN,
      incl,
      sec,
      frac < fracLimit ? frac * fracToNs : -1,
      frac,
      orig,
      flags,
    );
    at += PCAP_RECORD_HEADER_LEN + incl;
  }
  return undefined;
}

/**
 * Parse a classic pcap file (either byte order, µs or ns). Returns a string for a file that is
 * not pcap (bad magic, short global header); a file cut mid-record returns every complete record
 * with {@link PcapFile.cut} set, like tshark, tcpdump and scapy. Suspect record headers are kept
 * and flagged ({@link PcapRecord.flags}); a record longer than {@link PCAP_MAX_RECORD} ends the
 * read (`cut`), since nothing after it can be trusted. Throws `LwipError` (`CONFIG`) only for an
 * input that is not bytes. Records are views into `input` (no copies).
 */
export function readPcap(input: CaptureInput, options: PcapReadOptions = {}): PcapFile | string {
  const max = options.maxRecords ?? 1_000_000;
  const file = captureBytes(input);
  const h = pcapHeader(file, new DataView(file.buffer, file.byteOffset, file.byteLength));
  if (typeof h === 'string') return h;
  const records: PcapRecord[] = [];
  let flagged = 0;
  let limited = false;
  const it = iteratePcap(file);
  let cut: CaptureCut | undefined;
  for (;;) {
    const n = it.next();
    if (n.done) {
      if (typeof n.value === 'object') cut = n.value;
      break;
    }
    if (records.length === max) {
      limited = true;
      break;
    }
    if (n.value.flags !== 0) flagged++;
    records.push(n.value);
  }
  return {
    resolution: h.resolution,
    snaplen: h.snaplen,
    linktype: h.linktype,
    version: h.version,
    records,
    flagged,
    limited,
    ...(cut ? { cut } : {}),
  };
}
