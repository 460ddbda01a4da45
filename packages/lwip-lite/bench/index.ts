/**
 * `pnpm bench` for @udf/lwip-lite: the Internet checksum, byte-wise vs word-wise side by side;
 * UDP echo throughput of the stack alone (1024-byte payload); and the ≥ 1M-frame fuzz run. Run with `node --import tsx bench/index.ts`.
 */
import { benchChecksum } from './checksum.js';
import { benchEcho } from './echo.js';
import { runFuzz } from './fuzz.js';

console.log('Internet checksum of a 1032-byte UDP datagram in shared memory (median ns per sum)');
for (const [label, shift] of [
  ['after Ethernet+IPv4 headers (offset 2 mod 4)', 34],
  ['4-byte aligned', 0],
  ['odd address', 35],
] as const) {
  const r = benchChecksum(label, shift);
  console.log(
    `  ${r.label}: byte-wise ${r.referenceNs.toFixed(0)} ns, word-wise ${r.wordwiseNs.toFixed(0)} ns: ` +
      `${r.speedup.toFixed(2)}x faster`,
  );
}

const echo = benchEcho(1_000_000);
console.log('UDP echo through the stack alone, 1024-byte payload');
console.log(
  `  ${echo.echoes} echoes in ${echo.seconds.toFixed(2)} s: ${(echo.perSecond / 1e3).toFixed(0)} k echoes/s, ` +
    `${((echo.perSecond * 1024 * 8) / 1e9).toFixed(2)} Gb/s of payload, ` +
    `${echo.copiesPerEcho} copy per echo, ${echo.gcs} GCs during the run`,
);

const fuzz = runFuzz(1_000_000);
console.log('Fuzz: random, mutated and captured frames through the full input path');
console.log(
  `  ${fuzz.frames} frames in ${fuzz.seconds.toFixed(2)} s (${(fuzz.perSecond / 1e3).toFixed(0)} k frames/s), ` +
    `all accounted for; ${fuzz.delivered} reached ARP/ICMP/UDP, drops: ${JSON.stringify(fuzz.dropped)}`,
);
