import { describe, expect, it } from 'vitest';
import {
  hex,
  RFC1071_EXAMPLE,
  TWO_CARRIES_IPV4_HEADER,
  WIKIPEDIA_IPV4_HEADER,
} from '../testing/vectors.js';
import { ipv4 } from './address.js';
import { foldSum, internetChecksum, pseudoHeaderSum, sum16 } from './checksum.js';

describe('Internet checksum (RFC 1071)', () => {
  it('sums the RFC 1071 example to ddf2 and complements it to 220d', () => {
    expect(sum16(RFC1071_EXAMPLE, 0, 8)).toBe(0x2ddf0);
    expect(foldSum(sum16(RFC1071_EXAMPLE, 0, 8))).toBe(0xddf2);
    expect(internetChecksum(RFC1071_EXAMPLE, 0, 8)).toBe(0x220d);
  });

  it('is byte-order independent in the sense of RFC 1071 §2(B): swapped input, swapped sum', () => {
    const swapped = hex('01 00 03 f2 f5 f4 f7 f6');
    expect(foldSum(sum16(swapped, 0, 8))).toBe(0xf2dd);
  });

  it('pads an odd trailing byte with zero on the right', () => {
    expect(sum16(hex('01 02 03'), 0, 3)).toBe(0x0102 + 0x0300);
  });

  it('verifies a real IPv4 header to zero and recomputes its checksum b861', () => {
    expect(internetChecksum(WIKIPEDIA_IPV4_HEADER, 0, 20)).toBe(0);
    const h = WIKIPEDIA_IPV4_HEADER.slice();
    h[10] = 0;
    h[11] = 0;
    expect(internetChecksum(h, 0, 20)).toBe(0xb861);
  });

  it('folds a sum that needs two end-around carries', () => {
    expect(internetChecksum(TWO_CARRIES_IPV4_HEADER, 0, 20)).toBe(0xfffe);
  });

  it('adds the UDP pseudo-header as four address words, the protocol and the length', () => {
    expect(pseudoHeaderSum(ipv4(192, 168, 1, 1), ipv4(192, 168, 1, 2), 17, 12)).toBe(
      0xc0a8 + 0x0101 + 0xc0a8 + 0x0102 + 17 + 12,
    );
  });

  it('treats bytes past the buffer as zero instead of throwing', () => {
    expect(sum16(hex('ff ff'), 0, 100)).toBe(0xffff);
  });
});
