/**
 * Benchmark: simulated packets per wall-clock second through the DP83820 model and its
 * user-level driver on the sim engine (a UDP-echo-like client that copies nothing and sends every
 * received frame back). Also prints the virtual-time outcome, so a change in the model's
 * mechanisms shows up next to its cost.
 *
 * Run: `pnpm --filter @udf/driver-dp83820 bench` (or `node --import tsx bench/index.ts`).
 */
import { makeFrame } from '../src/testing/frames.js';
import { buildRig } from '../src/testing/sim-rig.js';

const MAC0 = [0x02, 0, 0, 0, 0, 0x10];
const PEER = [0x02, 0, 0, 0, 0, 0x99];

function run(frames: number, size: number, gapSeconds: number, holdoff: number) {
  const rig = buildRig({
    holdoff,
    keepFrames: false,
    hooks: [{ onRx: (len, _s, bytes) => bytes.subarray(0, len) }],
  });
  const hz = rig.sim.machine.hz;
  rig.sim.runFor(hz * 0.001);
  const pool = Array.from({ length: 64 }, (_, i) => makeFrame(MAC0, PEER, size, i));
  const input = Array.from({ length: frames }, (_, i) => pool[i % pool.length]!);
  rig.peers[0]!.send(rig.devices[0]!.port, input, gapSeconds);
  const before = rig.sim.accounting.snapshot();
  const virtualSeconds = frames * gapSeconds + 0.002;
  const t0 = performance.now();
  rig.sim.runFor(hz * virtualSeconds);
  const wall = (performance.now() - t0) / 1000;
  const w = rig.sim.accounting.window(before);
  const dev = rig.devices[0]!.stats;
  const packets = dev.rxDelivered + dev.txSent;
  const idle = ((w.byCategory.Idle ?? 0) / w.total) * 100;
  return {
    size,
    offeredMbps: ((size * 8) / gapSeconds / 1e6).toFixed(0),
    echoedMbps: ((rig.peers[0]!.count * size * 8) / (frames * gapSeconds) / 1e6).toFixed(0),
    holdoffUs: holdoff * 100,
    cpuPct: (100 - idle).toFixed(1),
    interrupts: rig.driver.stats.interrupts,
    overruns: dev.rxOverruns,
    busUtilPct: ((rig.devices[0]!.bus.stats.busyCycles / w.total) * 100).toFixed(1),
    simPacketsPerWallSecond: Math.round(packets / wall),
    wallSeconds: wall.toFixed(2),
  };
}

const rows = [
  run(20_000, 1024, (1024 * 8) / 300e6, 1),
  run(20_000, 1024, (1024 * 8) / 450e6, 1),
  run(20_000, 1024, (1024 * 8) / 450e6, 0),
  run(20_000, 1024, ((1024 + 24) * 8) / 1e9, 1),
];
console.table(rows);
