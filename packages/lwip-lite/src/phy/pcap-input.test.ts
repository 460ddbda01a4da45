// Issue 15.7/15.8 and 17.6: integer timestamps end to end, cut files, hostile record headers,
// non-byte inputs and bounded memory.
import { describe, expect, it } from 'vitest';
import { LwipError } from '../error.js';
import {
  iteratePcap,
  PCAP_FLAG_CAPLEN_OVER_ORIGLEN,
  PCAP_FLAG_CAPLEN_OVER_SNAPLEN,
  PCAP_FLAG_FRACTION_RANGE,
  PCAP_FLAG_ORIGLEN_RANGE,
  PCAP_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  type PcapFile,
  PcapWriter,
  readPcap,
} from './pcap.js';

function parsed(bytes: Uint8Array | ArrayBuffer): PcapFile {
  const f = readPcap(bytes);
  if (typeof f === 'string') throw new Error(f);
  return f;
}

function capture(frames: number, resolution: 'nano' | 'micro' = 'nano', snaplen = 65535) {
  let t = 1_700_000_000_000_000_000n;
  const clockNs = (): bigint => {
    t += 1_000_123n;
    return t;
  };
  const w = new PcapWriter({ resolution, snaplen, clockNs });
  for (let i = 0; i < frames; i++) w.write(new Uint8Array(60).fill(i));
  return w.bytes();
}

describe('pcap timestamps are integers end to end (issue 15.7)', () => {
  it('steps of 1 000 123 ns at today’s epoch are written and read back exactly', () => {
    const f = parsed(capture(50));
    const times = f.records.map((r) => r.timeNs);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1_000_123n);
    expect(times[0]).toBe(1_700_000_000_001_000_123n);
    expect(f.records[0]!.sec).toBe(1_700_000_000);
    expect(f.records[0]!.frac).toBe(1_000_123);
  });

  it('integer numbers are split exactly too; the default clock is integer ns', () => {
    const w = new PcapWriter();
    w.write(new Uint8Array(10), 0, 10, 4_000_000_999);
    w.write(new Uint8Array(10), 0, 10, 2 ** 53 - 1);
    w.write(new Uint8Array(10));
    const f = parsed(w.bytes());
    expect(f.records[0]!.timeNs).toBe(4_000_000_999n);
    expect(f.records[1]!.timeNs).toBe(BigInt(2 ** 53 - 1));
    expect(f.records[2]!.timeNs).toBeGreaterThan(1_600_000_000_000_000_000n);
  });

  it('reads the largest nanosecond timestamp of a file without rounding', () => {
    const bytes = capture(1);
    const v = new DataView(bytes.buffer);
    v.setUint32(PCAP_HEADER_LEN, 0xffffffff, true);
    v.setUint32(PCAP_HEADER_LEN + 4, 999_999_999, true);
    expect(parsed(bytes).records[0]!.timeNs).toBe(4_294_967_295_999_999_999n);
  });

  it('micro files: whole µs written, ×1000 read', () => {
    const f = parsed(capture(3, 'micro'));
    expect(f.records[0]!.timeNs).toBe(1_700_000_000_001_000_000n);
    expect(f.records[0]!.frac).toBe(1000);
  });
});

describe('a cut file (issue 15.8)', () => {
  it('returns every complete record and flags the cut (mid-data and mid-header)', () => {
    const bytes = capture(3);
    const third = PCAP_HEADER_LEN + 2 * (PCAP_RECORD_HEADER_LEN + 60);
    const f = parsed(bytes.subarray(0, bytes.length - 7));
    expect(f.records).toHaveLength(2);
    expect(f.cut).toEqual({ at: third, reason: 'truncated record data' });
    const g = parsed(bytes.subarray(0, third + 5));
    expect(g.records).toHaveLength(2);
    expect(g.cut).toEqual({ at: third, reason: 'truncated record header' });
    expect(parsed(bytes).cut).toBeUndefined();
  });
});

describe('hostile record headers (issue 17.6)', () => {
  const at = PCAP_HEADER_LEN;
  const patch = (f: (v: DataView) => void, resolution: 'nano' | 'micro' = 'nano') => {
    const bytes = capture(2, resolution, 100);
    f(new DataView(bytes.buffer));
    return parsed(bytes);
  };

  it('caplen > snaplen and caplen > origlen are flagged, not trusted silently', () => {
    const a = patch((v) => v.setUint32(16, 40, true)); // snaplen 40 < caplen 60
    expect(a.records[0]!.flags & PCAP_FLAG_CAPLEN_OVER_SNAPLEN).toBeTruthy();
    expect(a.flagged).toBe(2);
    const b = patch((v) => v.setUint32(at + 12, 20, true)); // origlen 20 < caplen 60
    expect(b.records[0]!.flags).toBe(PCAP_FLAG_CAPLEN_OVER_ORIGLEN);
    expect(b.records[1]!.flags).toBe(0);
    expect(b.flagged).toBe(1);
  });

  it('an origlen of 0xffffffff is flagged', () => {
    const f = patch((v) => v.setUint32(at + 12, 0xffffffff, true));
    expect(f.records[0]!.flags).toBe(PCAP_FLAG_ORIGLEN_RANGE);
    expect(f.records[0]!.origLen).toBe(0xffffffff);
  });

  it('a fraction ≥ 10^9 (ns) or ≥ 10^6 (µs) is flagged and does not move the timestamp', () => {
    const f = patch((v) => v.setUint32(at + 4, 1_500_000_000, true));
    expect(f.records[0]!.flags).toBe(PCAP_FLAG_FRACTION_RANGE);
    expect(f.records[0]!.timeNs).toBe(1_700_000_000_000_000_000n); // whole seconds only
    const g = patch((v) => v.setUint32(at + 4, 1_000_000, true), 'micro');
    expect(g.records[0]!.flags).toBe(PCAP_FLAG_FRACTION_RANGE);
  });

  it('a captured length beyond any real snap length ends the read with a cut', () => {
    const f = patch((v) => v.setUint32(at + 8, 0xffffffff, true));
    expect(f.records).toHaveLength(0);
    expect(f.cut?.reason).toMatch(/record of 4294967295 bytes/);
  });

  it('null and other non-bytes are a typed error, never a TypeError; ArrayBuffer works', () => {
    for (const bad of [null, undefined, 'pcap', 42, {}]) {
      let caught: unknown;
      try {
        readPcap(bad as unknown as Uint8Array);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(LwipError);
      expect((caught as LwipError).code).toBe('CONFIG');
    }
    const bytes = capture(2);
    expect(parsed(bytes.slice().buffer).records).toHaveLength(2);
    expect(parsed(new Uint8Array(bytes.slice().buffer)).records).toHaveLength(2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect((readPcap(view) as PcapFile).records).toHaveLength(2);
  });

  it('memory is bounded: maxRecords stops a read; iteratePcap streams 2 M empty records', () => {
    const n = 2_000_000;
    const bytes = new Uint8Array(PCAP_HEADER_LEN + n * PCAP_RECORD_HEADER_LEN);
    bytes.set(capture(0));
    const limited = readPcap(bytes, { maxRecords: 1000 }) as PcapFile;
    expect(limited.records).toHaveLength(1000);
    expect(limited.limited).toBe(true);
    let count = 0;
    for (const r of iteratePcap(bytes)) {
      if (r.data.length === 0) count++;
    }
    expect(count).toBe(n);
    const all = readPcap(bytes) as PcapFile;
    expect(all.records).toHaveLength(1_000_000); // the default limit
    expect(all.limited).toBe(true);
  });
});
