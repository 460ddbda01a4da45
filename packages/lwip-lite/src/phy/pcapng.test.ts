import { describe, expect, it } from 'vitest';
import { PcapWriter } from './pcap.js';
import { readCapture, readPcapng } from './pcapng.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Fixed vectors as tshark writes them: SHB, IDB (Ethernet, snaplen 262144), one unknown block
// (type 4, skipped), two EPBs (4 bytes, then 5 bytes of a 60-byte frame, padded to 8).
// Little-endian, if_tsresol = 9 (ns): packets at 1 700 000 000 000 123 456 ns and 1 000 123 ns later.
const LE = hex(`
0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c00000001000000
2000000001000000000004000900010009000000000000002000000004000000
100000000000000010000000060000002400000000000000fe9c971740e22b36
0400000004000000deadbeef24000000060000002800000000000000fe9c9717
fb243b36050000003c000000010203040500000028000000`);
// Big-endian, no if_tsresol (µs): packets at 1 700 000 000 000 123 µs and 1000 µs later.
const BE = hex(`
0a0d0d0a0000001c1a2b3c4d00010000ffffffffffffffff0000001c00000001
0000001800010000000400000000000000000018000000040000001000000000
0000001000000006000000240000000000060a24181e407b0000000400000004
deadbeef0000002400000006000000280000000000060a24181e446300000005
0000003c010203040500000000000028`);

// Real tshark 4.0.17 output (`tshark -r udf.pcap -c 2 -w t2.pcapng`): SHB with an shb_userappl
// option, IDB (snaplen 65535, if_tsresol 9), two 60-byte EPBs; tshark shows the frames at
// 1700000000.001000123 and 1700000000.002000246.
const TSHARK = hex(`
0a0d0d0a680000004d3c2b1a01000000ffffffffffffffff0400440054536861
726b202857697265736861726b2920342e302e313720284769742076342e302e
3137207061636b6167656420617320342e302e31372d302b6465623132753329
0000000068000000010000002000000001000000ffff00000900010009000000
0000000020000000060000005c00000000000000fe9c9717bb4239363c000000
3c000000ffffffffffff02000000000188b50000000000000000000000000000
0000000000000000000000000000000000000000000000000000000000000000
5c000000060000005c00000000000000fe9c9717768548363c0000003c000000
ffffffffffff02000000000188b5010101010101010101010101010101010101
010101010101010101010101010101010101010101010101010101015c000000`);

describe('readPcapng', () => {
  it('reads tshark’s own output to the nanosecond', () => {
    const f = readPcapng(TSHARK);
    if (typeof f === 'string') throw new Error(f);
    expect(f.interfaces[0]).toMatchObject({ linktype: 1, snaplen: 65535 });
    expect(f.packets.map((p) => p.timeNs)).toEqual([
      1_700_000_000_001_000_123n,
      1_700_000_000_002_000_246n,
    ]);
    expect(f.packets.map((p) => p.data.length)).toEqual([60, 60]);
    expect(f.packets[1]!.data[14]).toBe(1);
    expect(f.cut).toBeUndefined();
    // Cut like `head -c 300`: tshark then shows one packet and says it was cut short.
    const cut = readPcapng(TSHARK.subarray(0, 300));
    if (typeof cut === 'string') throw new Error(cut);
    expect(cut.packets).toHaveLength(1);
    expect(cut.cut?.reason).toBe('truncated block');
  });

  it('reads a little-endian nanosecond file exactly', () => {
    const f = readPcapng(LE);
    if (typeof f === 'string') throw new Error(f);
    expect(f.interfaces).toEqual([
      { linktype: 1, snaplen: 262144, unitsPerSecond: 1_000_000_000n, offsetS: 0n },
    ]);
    expect(f.skippedBlocks).toBe(1);
    expect(f.cut).toBeUndefined();
    expect(f.packets.map((p) => p.timeNs)).toEqual([
      1_700_000_000_000_123_456n,
      1_700_000_000_001_123_579n,
    ]);
    expect(f.packets[1]!.timeNs - f.packets[0]!.timeNs).toBe(1_000_123n);
    expect(Buffer.from(f.packets[0]!.data).toString('hex')).toBe('deadbeef');
    expect(Buffer.from(f.packets[1]!.data).toString('hex')).toBe('0102030405');
    expect(f.packets.map((p) => p.origLen)).toEqual([4, 60]);
    expect(f.flagged).toBe(0);
  });

  it('reads a big-endian microsecond file', () => {
    const f = readPcapng(BE);
    if (typeof f === 'string') throw new Error(f);
    expect(f.interfaces[0]!.unitsPerSecond).toBe(1_000_000n);
    expect(f.packets.map((p) => p.timeNs)).toEqual([
      1_700_000_000_000_123_000n,
      1_700_000_000_001_123_000n,
    ]);
    expect(Buffer.from(f.packets[1]!.data).toString('hex')).toBe('0102030405');
  });

  it('returns every complete packet of a file cut mid-block and flags the cut', () => {
    const f = readPcapng(LE.subarray(0, LE.length - 10));
    if (typeof f === 'string') throw new Error(f);
    expect(f.packets).toHaveLength(1);
    expect(f.cut).toEqual({ at: 112, reason: 'truncated block' });
  });

  it('flags suspect packets and refuses to trust a packet longer than its block', () => {
    const bad = LE.slice();
    const v = new DataView(bad.buffer);
    v.setUint32(112 + 8 + 16, 1, true); // second packet: origLen 1 < caplen 5
    const f = readPcapng(bad);
    if (typeof f === 'string') throw new Error(f);
    expect(f.packets[1]!.flags).not.toBe(0);
    expect(f.flagged).toBe(1);
    v.setUint32(112 + 8 + 12, 0xffffffff, true); // caplen beyond the block
    const g = readPcapng(bad);
    if (typeof g === 'string') throw new Error(g);
    expect(g.packets).toHaveLength(1);
    expect(g.cut?.reason).toMatch(/beyond its block/);
  });

  it('readCapture picks the format from the magic; a string for neither', () => {
    const ng = readCapture(LE);
    expect(typeof ng !== 'string' && ng.format).toBe('pcapng');
    const w = new PcapWriter({ clockNs: () => 0 });
    w.write(new Uint8Array(60));
    const classic = readCapture(w.bytes().buffer);
    expect(typeof classic !== 'string' && classic.format).toBe('pcap');
    expect(readCapture(new Uint8Array(40))).toBe('bad magic');
  });
});
