/**
 * pcapng capture files (tshark's and Wireshark's default output), read-only: Section Header,
 * Interface Description and Enhanced Packet blocks in either byte order, with each interface's
 * timestamp resolution (`if_tsresol`, decimal or binary) and offset (`if_tsoffset`); other blocks
 * are skipped and counted. Timestamps are exact integer nanoseconds (`bigint`). A file cut
 * mid-block returns every complete packet and flags the cut, as tshark does. {@link readCapture}
 * reads classic pcap or pcapng, whichever the magic says.
 *
 * @module
 */
import {
  type CaptureCut,
  type CaptureInput,
  captureBytes,
  PCAP_FLAG_CAPLEN_OVER_ORIGLEN,
  PCAP_FLAG_CAPLEN_OVER_SNAPLEN,
  PCAP_FLAG_ORIGLEN_RANGE,
  PCAP_MAX_RECORD,
  type PcapFile,
  readPcap,
} from './pcap.js';

/** Block type of a Section Header Block (also the file's magic). */
export const PCAPNG_SHB = 0x0a0d0d0a;
/** Block type of an Interface Description Block. */
export const PCAPNG_IDB = 0x00000001;
/** Block type of an Enhanced Packet Block. */
export const PCAPNG_EPB = 0x00000006;
/** The byte-order magic inside a Section Header Block. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** One interface of a pcapng section. */
export interface PcapngInterface {
  /** Link type (1 = Ethernet). */
  readonly linktype: number;
  /** Snap length (0 = none). */
  readonly snaplen: number;
  /** Timestamp units per second: 10^n or 2^n (`if_tsresol`; default 10^6). */
  readonly unitsPerSecond: bigint;
  /** Seconds added to every timestamp (`if_tsoffset`; default 0). */
  readonly offsetS: bigint;
}

/** One packet of a pcapng file. */
export interface PcapngPacket {
  /** Index of its interface in its section. */
  readonly interfaceId: number;
  /** Timestamp in nanoseconds since the epoch, exact (sub-ns resolutions truncate). */
  readonly timeNs: bigint;
  /** Original frame length. */
  readonly origLen: number;
  /** Captured bytes: a view into the input. */
  readonly data: Uint8Array;
  /** 0, or the `PCAP_FLAG_…` bits of a suspect header (the packet is kept). */
  readonly flags: number;
}

/** A parsed pcapng file. */
export interface PcapngFile {
  /** The interfaces of the last section. */
  readonly interfaces: readonly PcapngInterface[];
  /** Every complete packet, in file order. */
  readonly packets: readonly PcapngPacket[];
  /** Packets with non-zero flags. */
  readonly flagged: number;
  /** Blocks of other types (name resolution, statistics, simple packets, …), skipped. */
  readonly skippedBlocks: number;
  /** Set when the file ends mid-block or a block cannot be trusted. */
  readonly cut?: CaptureCut;
  /** True when reading stopped at `maxRecords`. */
  readonly limited: boolean;
}

const DEFAULT_UNITS = 1_000_000n;

/**
 * Parse a pcapng file. Returns a string if the input is not pcapng; a cut or corrupt block ends
 * the read with {@link PcapngFile.cut} set and every packet before it returned. Throws `LwipError`
 * (`CONFIG`) only for an input that is not bytes.
 */
export function readPcapng(
  input: CaptureInput,
  options: { readonly maxRecords?: number } = {},
): PcapngFile | string {
  const max = options.maxRecords ?? 1_000_000;
  const file = captureBytes(input);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 12 || v.getUint32(0, true) !== PCAPNG_SHB) return 'bad magic';
  let le = true;
  let interfaces: PcapngInterface[] = [];
  const packets: PcapngPacket[] = [];
  let flagged = 0;
  let skippedBlocks = 0;
  let limited = false;
  let cut: CaptureCut | undefined;
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length) {
      cut = { at, reason: 'truncated block header' };
      break;
    }
    let type = v.getUint32(at, le);
    if (v.getUint32(at, true) === PCAPNG_SHB) {
      // A new section: its byte-order magic decides how everything in it is read.
      const bom = v.getUint32(at + 8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (v.getUint32(at + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else {
        cut = { at, reason: 'bad byte-order magic' };
        break;
      }
      type = PCAPNG_SHB;
      interfaces = [];
    }
    const len = v.getUint32(at + 4, le);
    if (len < 12 || len % 4 !== 0) {
      cut = { at, reason: `bad block length ${len}` };
      break;
    }
    if (at + len > file.length) {
      cut = { at, reason: 'truncated block' };
      break;
    }
    if (v.getUint32(at + len - 4, le) !== len) {
      cut = { at, reason: 'block lengths disagree' };
      break;
    }
    const body = at + 8;
    const end = at + len - 4;
    if (type === PCAPNG_IDB) {
      if (end - body < 8) {
        cut = { at, reason: 'short interface block' };
        break;
      }
      interfaces.push(readInterface(v, le, body, end));
    } else if (type === PCAPNG_EPB) {
      if (packets.length === max) {
        limited = true;
        break;
      }
      if (end - body < 20) {
        cut = { at, reason: 'short packet block' };
        break;
      }
      const interfaceId = v.getUint32(body, le);
      const iface = interfaces[interfaceId];
      const caplen = v.getUint32(body + 12, le);
      const origLen = v.getUint32(body + 16, le);
      if (!iface || caplen > end - body - 20 || caplen > PCAP_MAX_RECORD) {
        cut = {
          at,
          reason: iface
            ? `captured length ${caplen} beyond its block`
            : `no interface ${interfaceId}`,
        };
        break;
      }
      const ts = (BigInt(v.getUint32(body + 4, le)) << 32n) | BigInt(v.getUint32(body + 8, le));
      let flags = 0;
      if (iface.snaplen > 0 && caplen > iface.snaplen) flags |= PCAP_FLAG_CAPLEN_OVER_SNAPLEN;
      if (caplen > origLen) flags |= PCAP_FLAG_CAPLEN_OVER_ORIGLEN;
      if (origLen > PCAP_MAX_RECORD) flags |= PCAP_FLAG_ORIGLEN_RANGE;
      if (flags !== 0) flagged++;
      packets.push({
        interfaceId,
        timeNs: iface.offsetS * 1_000_000_000n + (ts * 1_000_000_000n) / iface.unitsPerSecond,
        origLen,
        data: file.subarray(body + 20, body + 20 + caplen),
        flags,
      });
    } else if (type !== PCAPNG_SHB) {
      skippedBlocks++;
    }
    at += len;
  }
  return { interfaces, packets, flagged, skippedBlocks, limited, ...(cut ? { cut } : {}) };
}

function readInterface(v: DataView, le: boolean, body: number, end: number): PcapngInterface {
  let unitsPerSecond = DEFAULT_UNITS;
  let offsetS = 0n;
  let o = body + 8;
  while (o + 4 <= end) {
    const code = v.getUint16(o, le);
    const olen = v.getUint16(o + 2, le);
    const value = o + 4;
    if (code === 0 || value + olen > end) break; // opt_endofopt, or an option past the block
    if (code === 9 && olen >= 1) {
      const r = v.getUint8(value);
      const exp = BigInt(r & 0x7f);
      unitsPerSecond = r & 0x80 ? 1n << exp : 10n ** exp;
    } else if (code === 14 && olen >= 8) {
      offsetS = v.getBigInt64(value, le);
    }
    o = value + ((olen + 3) & ~3);
  }
  return {
    linktype: v.getUint16(body, le),
    snaplen: v.getUint32(body + 4, le),
    unitsPerSecond: unitsPerSecond === 0n ? DEFAULT_UNITS : unitsPerSecond,
    offsetS,
  };
}

/** A capture of either format, as {@link readCapture} returns it. */
export type Capture =
  | ({ readonly format: 'pcap' } & PcapFile)
  | ({ readonly format: 'pcapng' } & PcapngFile);

/** Reads classic pcap or pcapng, whichever the file's magic says; a string if neither. */
export function readCapture(
  input: CaptureInput,
  options: { readonly maxRecords?: number } = {},
): Capture | string {
  const file = captureBytes(input);
  if (
    file.length >= 4 &&
    new DataView(file.buffer, file.byteOffset, 4).getUint32(0, true) === PCAPNG_SHB
  ) {
    const ng = readPcapng(file, options);
    return typeof ng === 'string' ? ng : { format: 'pcapng', ...ng };
  }
  const p = readPcap(file, options);
  return typeof p === 'string' ? p : { format: 'pcap', ...p };
}
