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
 * {@link PcapWriter} is middleware-friendly: {@link PcapTap} records a frame stream between two
 * {@link FrameEndpoint}s, {@link PcapDevice} records what a stack receives and sends through a
 * {@link NetDevice}.
 *
 * @module
 */
import type { Pbuf } from '../pbuf/pbuf.js';
import type { FrameEndpoint, NetDevice } from './device.js';

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
  /** Clock in nanoseconds since the epoch (or since the start of a simulation). Default: wall clock. */
  readonly clockNs?: () => number;
  /**
   * Called with each finished chunk (the header, then each record) — e.g. `fs.writeSync`. The
   * chunk is only valid during the call. Without a sink, the writer keeps everything in memory.
   */
  readonly sink?: (chunk: Uint8Array) => void;
}

/** Writes a libpcap capture. */
export class PcapWriter {
  /** Timestamp resolution. */
  readonly resolution: PcapResolution;
  /** Snap length. */
  readonly snaplen: number;
  /** Frames recorded. */
  frames = 0;
  private readonly clockNs: () => number;
  private readonly sink: ((chunk: Uint8Array) => void) | undefined;
  private buf = new Uint8Array(64 * 1024);
  private used = 0;
  private readonly record = new Uint8Array(PCAP_RECORD_HEADER_LEN);
  private readonly recordView = new DataView(this.record.buffer);

  /** @param options - resolution, snap length, clock, sink */
  constructor(options: PcapWriterOptions = {}) {
    this.resolution = options.resolution ?? 'nano';
    this.snaplen = options.snaplen ?? 65535;
    this.clockNs = options.clockNs ?? (() => (performance.timeOrigin + performance.now()) * 1e6);
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

  /** Record `length` bytes of `bytes` from `offset`, stamped `timeNs` (default: the clock). */
  write(
    bytes: Uint8Array,
    offset = 0,
    length = bytes.length - offset,
    timeNs = this.clockNs(),
  ): void {
    const caplen = Math.min(length, this.snaplen);
    const sec = Math.floor(timeNs / 1e9);
    const ns = Math.floor(timeNs - sec * 1e9);
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

/** One record of a parsed capture. */
export interface PcapRecord {
  /** Timestamp in nanoseconds. */
  readonly timeNs: number;
  /** Original frame length. */
  readonly origLen: number;
  /** Captured bytes. */
  readonly data: Uint8Array;
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
  /** The records. */
  readonly records: readonly PcapRecord[];
}

/**
 * Parse a classic pcap file (either byte order, µs or ns). Returns a string describing the first
 * problem instead of throwing, for a file that is not pcap or is cut short.
 */
export function readPcap(file: Uint8Array): PcapFile | string {
  if (file.length < PCAP_HEADER_LEN) return 'truncated global header';
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let le = true;
  let magic = v.getUint32(0, true);
  if (magic !== PCAP_MAGIC_MICRO && magic !== PCAP_MAGIC_NANO) {
    le = false;
    magic = v.getUint32(0, false);
    if (magic !== PCAP_MAGIC_MICRO && magic !== PCAP_MAGIC_NANO) return 'bad magic';
  }
  const resolution: PcapResolution = magic === PCAP_MAGIC_NANO ? 'nano' : 'micro';
  const records: PcapRecord[] = [];
  let at = PCAP_HEADER_LEN;
  while (at < file.length) {
    if (at + PCAP_RECORD_HEADER_LEN > file.length) return `truncated record header at ${at}`;
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const incl = v.getUint32(at + 8, le);
    const orig = v.getUint32(at + 12, le);
    at += PCAP_RECORD_HEADER_LEN;
    if (at + incl > file.length) return `truncated record data at ${at}`;
    records.push({
      timeNs: sec * 1e9 + (resolution === 'nano' ? frac : frac * 1000),
      origLen: orig,
      data: file.slice(at, at + incl),
    });
    at += incl;
  }
  return {
    resolution,
    snaplen: v.getUint32(16, le),
    linktype: v.getUint32(20, le),
    version: [v.getUint16(4, le), v.getUint16(6, le)],
    records,
  };
}
