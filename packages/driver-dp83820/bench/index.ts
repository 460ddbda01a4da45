/**
 * Benchmark: simulated packets per wall-clock second through the DP83820 model and its
 * user-level driver on the sim engine (a UDP-echo-like client that copies nothing and sends every
 * received frame back). Also prints the virtual-time outcome, so a change in the model's
 * mechanisms shows up next to its cost.
 *
 * A second table measures the IOMMU (`iommu` in `buildRig`): the same echo load with and
 * without it, interleaved (off, on, off, on, ...) in one run so host noise hits both alike. The
 * sim charges no cycles for the check (no published per-access IOTLB-hit cost to cite; see the
 * README), so the virtual-time columns must match exactly and the wall-clock columns show what
 * the check costs the model's host. A third line times `IommuTable.permits` alone.
 *
 * Last, `host-cpu.ts`: host CPU per frame of the device model alone; with `--baseline DIR` (an
 * earlier build's `dist/`, see that file) old and new side by side.
 *
 * Run: `pnpm --filter @udf/driver-dp83820 bench [-- --baseline bench/base/dist]` (or
 * `node --import tsx bench/index.ts`).
 */
import { IOMMU_READ, IOMMU_WRITE, IommuTable } from '@udf/dataspace';
import { makeFrame } from '../src/testing/frames.js';
import { buildRig } from '../src/testing/sim-rig.js';
import { hostCpuBench } from './host-cpu.js';

const MAC0 = [0x02, 0, 0, 0, 0, 0x10];
const PEER = [0x02, 0, 0, 0, 0, 0x99];

function run(frames: number, size: number, gapSeconds: number, holdoff: number, iommu = false) {
  const rig = buildRig({
    holdoff,
    iommu,
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
    bursts: rig.devices[0]!.bus.stats.bursts,
    iommuFaults: dev.iommuFaults,
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

// The IOMMU, side by side: the same load (1024-byte frames at 450 Mb/s offered, hold-off 100 µs).
const ROUNDS = 5;
const sides: Record<'off' | 'on', ReturnType<typeof run>[]> = { off: [], on: [] };
for (let i = 0; i < ROUNDS; i++) {
  sides.off.push(run(20_000, 1024, (1024 * 8) / 450e6, 1, false));
  sides.on.push(run(20_000, 1024, (1024 * 8) / 450e6, 1, true));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const iommuRows = (['off', 'on'] as const).map((side) => {
  const r = sides[side];
  const first = r[0]!;
  return {
    iommu: side,
    echoedMbps: first.echoedMbps,
    cpuPct: first.cpuPct,
    bursts: first.bursts,
    iommuFaults: first.iommuFaults,
    medianSimPacketsPerWallSecond: median(r.map((x) => x.simPacketsPerWallSecond)),
  };
});
const [off, on] = iommuRows as [(typeof iommuRows)[0], (typeof iommuRows)[0]];
console.log(`IOMMU check, same echo load, ${ROUNDS} interleaved rounds (median wall-clock rate):`);
console.table(iommuRows);
console.log(
  `virtual-time outcome identical: ${off.echoedMbps === on.echoedMbps && off.cpuPct === on.cpuPct && off.bursts === on.bursts}; ` +
    `host slowdown with the check: ${((1 - on.medianSimPacketsPerWallSecond / off.medianSimPacketsPerWallSecond) * 100).toFixed(1)}%`,
);

// The check alone: a 1514-byte receive burst set that straddles a page boundary half the time.
const frames = 8192;
const table = new IommuTable(new SharedArrayBuffer(IommuTable.bytesFor(frames)), 0, frames);
table.format();
table.grant(0, frames * 4096, IOMMU_READ | IOMMU_WRITE);
const N = 5_000_000;
let ok = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++)
  ok += table.permits((i * 2048) % (frames * 4096 - 4096), 512, true) ? 1 : 0;
const ns = ((performance.now() - t0) * 1e6) / N;
console.log(
  `IommuTable.permits (512-byte burst): ${ns.toFixed(1)} ns per check on this host (${ok === N ? 'all permitted' : 'MISMATCH'})`,
);

const baselineAt = process.argv.indexOf('--baseline');
await hostCpuBench({ baseline: baselineAt >= 0 ? process.argv[baselineAt + 1] : undefined });
