/**
 * `pnpm bench` for @udf/lwip-lite: UDP echo throughput of the stack alone (1024-byte payload)
 * and the ≥ 1M-frame fuzz run. Run with `node --import tsx bench/index.ts`.
 */
import { benchEcho } from './echo.js';
import { runFuzz } from './fuzz.js';

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
