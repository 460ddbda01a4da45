/**
 * Byte vectors from RFCs and real captures, shared by the tests. Hex bytes of real packets are
 * facts; each says where it was found. Not part of the public API.
 *
 * @module
 */

/** Bytes from a hex string (whitespace ignored). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** RFC 1071 section 3, "Numerical Examples": the eight bytes whose ones' complement sum is ddf2. */
export const RFC1071_EXAMPLE = hex('00 01 f2 03 f4 f5 f6 f7');

/**
 * A real IPv4 header with checksum b861 (the example of Wikipedia's "IPv4 header checksum"
 * article), as used by google/gopacket layers/ip4_test.go ("wikipedia case").
 */
export const WIKIPEDIA_IPV4_HEADER = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

/**
 * A header whose sum needs two end-around carries (checksum field ffff, result fffe), from
 * google/gopacket layers/ip4_test.go ("sum has two carries").
 */
export const TWO_CARRIES_IPV4_HEADER = hex('4540 0058 0000 0000 ff11 ffff 0aeb 1d07 0aed 8877');

/**
 * An IPv4 header with IHL 8 (12 bytes of options: a 130 "security" option of length 11 and an
 * end-of-list), total length 40, of which only the 32 header bytes are present. From
 * google/gopacket layers/ip4_test.go (TestIPv4Options, first packet).
 */
export const IPV4_WITH_OPTIONS_HEADER = hex(
  '4800 0028 0304 0000 fe01 c1e0 af2d b000 95ab 7e0b 820b 0000 0000 0000 0000 0000',
);

/**
 * Real Wireshark captures from the Drexel CS472 "hw1-pdu-c" assignment, file
 * `src/hw1-pdu-c/testframes.h` of github.com/JaredChan0/CS472-Dev (commit 07aa71ac), which keeps
 * each frame's hex dump next to Wireshark's decode.
 *
 * Frame 78: ARP request, who has 192.168.50.99? tell 192.168.50.1 (a0:36:bc:62:ed:50), sent to
 * c8:89:f3:ea:93:14, padded to 60 bytes.
 */
export const CAPTURE_ARP_REQUEST = hex(`
  c8 89 f3 ea 93 14 a0 36 bc 62 ed 50 08 06 00 01
  08 00 06 04 00 01 a0 36 bc 62 ed 50 c0 a8 32 01
  00 00 00 00 00 00 c0 a8 32 63 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00`);

/** Same file, "my_raw_arp_frame" (Frame 3): an ARP probe (sender IP 0.0.0.0) for 208.54.16.227, broadcast, 52 bytes. */
export const CAPTURE_ARP_PROBE = hex(`
  ff ff ff ff ff ff 5a 59 6b 05 d1 63 08 06 00 01
  08 00 06 04 00 01 5a 59 6b 05 d1 63 00 00 00 00
  00 00 00 00 00 00 d0 36 10 e3 00 00 00 00 00 00
  00 00 00 00`);

/**
 * Same file, Frame 362: ICMP echo request 192.168.50.99 → 144.118.67.10, ident 0x4859, seq 0,
 * IPv4 checksum 0x8931, ICMP checksum 0x7bda, 56 data bytes (timestamp + 08..37), 98 bytes.
 */
export const CAPTURE_PING_REQUEST = hex(`
  a0 36 bc 62 ed 50 c8 89 f3 ea 93 14 08 00 45 00
  00 54 2a ec 00 00 40 01 89 31 c0 a8 32 63 90 76
  43 0a 08 00 7b da 48 59 00 00 65 0e 01 ee 00 00
  e1 cc 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15
  16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25
  26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35
  36 37`);

/**
 * Same file, Frame 553: ICMP echo request 192.168.1.235 → 8.8.8.8, ident 2, seq 16, TTL 128.
 * Its IPv4 header verifies, but its ICMP checksum (0x43ff) does not match the dumped bytes
 * (they sum to 0x732b, not 0xffff): the dump was edited after capture. Only the IPv4 header is
 * used as a vector; the ICMP message serves as a known-bad checksum.
 */
export const CAPTURE_PING_553 = hex(`
  b8 f8 53 55 a8 1a 84 fd d1 ca 8f 3c 08 00 45 00
  00 54 08 fa 00 00 80 01 5f 0c c0 a8 01 eb 08 08
  08 08 08 00 43 ff 00 02 00 10 67 9a 63 2d 00 00
  00 00 b5 28 02 00 00 00 00 00 10 11 12 13 14 15
  16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25
  26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35
  36 37`);

/** Same file, Frame 554: the echo reply to frame 553 from 8.8.8.8 (TTL 119, DSCP 0x60); as for 553, only its IPv4 header verifies. */
export const CAPTURE_PONG_554 = hex(`
  84 fd d1 ca 8f 3c b8 f8 53 55 a8 1a 08 00 45 60
  00 54 00 00 00 00 77 01 70 a6 08 08 08 08 c0 a8
  01 eb 00 00 4b ff 00 02 00 10 67 9a 63 2d 00 00
  00 00 b5 28 02 00 00 00 00 00 10 11 12 13 14 15
  16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25
  26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35
  36 37`);

/**
 * Same file, Frame 198: ICMP time exceeded from 192.168.50.1 quoting a whole traceroute UDP
 * datagram 192.168.50.99:59962 → 144.118.67.10:33435, UDP length 32, checksum 0xcc4b, 24 zero
 * bytes of data (94 bytes in all). The quoted datagram starts at byte 42 (its UDP header at 62).
 */
export const CAPTURE_TIME_EXCEEDED = hex(`
  c8 89 f3 ea 93 14 a0 36 bc 62 ed 50 08 00 45 c0
  00 50 a8 fa 00 00 40 01 eb 3d c0 a8 32 01 c0 a8
  32 63 0b 00 bb bd 00 00 00 00 45 00 00 34 ea 3b
  00 00 01 11 08 f2 c0 a8 32 63 90 76 43 0a ea 3a
  82 9b 00 20 cc 4b 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00`);

/**
 * smoltcp's UDP test vector (smoltcp-rs/smoltcp `src/wire/udp.rs`, `PACKET_BYTES`):
 * 192.168.1.1:48896 → 192.168.1.2:53, length 12, checksum 0x124d, payload aa 00 00 ff.
 */
export const SMOLTCP_UDP = hex('bf 00 00 35 00 0c 12 4d aa 00 00 ff');

/**
 * smoltcp's IPv4 representation vector (smoltcp-rs/smoltcp `src/wire/ipv4.rs`,
 * `REPR_PACKET_BYTES`): 17.18.19.20 → 33.34.35.36, ICMP, DF, TTL 64, checksum 0xd279, 4 bytes payload.
 */
export const SMOLTCP_IPV4_REPR = hex(
  '45 00 00 18 00 00 40 00 40 01 d2 79 11 12 13 14 21 22 23 24 aa 00 00 ff',
);
