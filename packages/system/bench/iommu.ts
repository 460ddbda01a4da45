// What the IOMMU check costs on the threads engine (issue 18, "An IOMMU model"): the isolated
// placement with `iommu: false` and `iommu: true` on its NIC, both started once, loaded in turn
// by the same closed-loop echo (1024-byte payloads over the NIC's UDP wire), rounds interleaved
// with the order reversed every round, so a change in the machine's load hits both alike. With
// the IOMMU on, every DMA burst of the NIC model in the device worker is checked against the
// driver's IOMMU table, and the dataspace manager enters and removes the frames it installs in
// the driver's translation caches. Reports echoes/s and CPU per echo (all the system's threads)
// per row, and the median of the per-round ratios on/off. Nothing is asserted.
//
// Run: pnpm --filter @udf/system build && node --import tsx packages/system/bench/iommu.ts
//        [--rounds N --seconds S --warmup S --window W --size B]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { detectCpuSource, parseSystem } from '@udf/system';
import { ClosedLoop } from './closed-loop.js';
import { sampleThreads, threadDeltas } from './proc.js';
import { appSystem, benchSystem, type EchoTarget, startUdf } from './targets.js';

const ARGV = process.argv.slice(2).filter((a) => a !== '--');
const { values: args } = parseArgs({
  args: ARGV,
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    window: { type: 'string', default: '32' },
    size: { type: 'string', default: '1024' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const WINDOW = Number(args.window);
const SIZE = Number(args.size);
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

function withIommu(iommu: boolean) {
  const sys = benchSystem(appSystem('isolated'), iommu ? 'isolated-iommu' : 'isolated');
  return parseSystem({ ...sys, nics: sys.nics.map((n) => ({ ...n, iommu })) });
}

interface Sample {
  readonly echoesPerSecond: number;
  readonly cpuUsPerEcho: number;
  readonly lost: number;
}

let cpuSource: 'schedstat' | 'stat' = 'schedstat';

async function measure(t: EchoTarget): Promise<Sample> {
  const loop = new ClosedLoop(t.address, t.framing, SIZE, WINDOW);
  await loop.open();
  loop.start();
  await sleep(WARMUP);
  const s0 = sampleThreads(t.threads(), cpuSource);
  const m0 = loop.mark();
  await sleep(SECONDS);
  const m1 = loop.mark();
  const s1 = sampleThreads(t.threads(), cpuSource);
  await loop.close();
  const echoed = m1.echoed - m0.echoed;
  let runNs = 0;
  for (const d of Object.values(threadDeltas(s0, s1))) runNs += d.runNs;
  return {
    echoesPerSecond: echoed / ((m1.at - m0.at) / 1000),
    cpuUsPerEcho: echoed > 0 ? runNs / 1000 / echoed : Number.NaN,
    lost: m1.lost - m0.lost,
  };
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const load0 = loadavg();
const off = await startUdf('iommu off', withIommu(false), SIZE);
const on = await startUdf('iommu on', withIommu(true), SIZE);
const targets = [off, on];
const rows = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
try {
  const source = detectCpuSource(Object.values(off.threads()));
  if (source === 'none') throw new Error('no per-thread CPU times on this machine (Linux /proc)');
  cpuSource = source;
  // untimed: V8 compiles the packet path of both before the first round
  for (const t of targets) {
    const loop = new ClosedLoop(t.address, t.framing, SIZE, WINDOW);
    await loop.open();
    loop.start();
    await sleep(1.5);
    await loop.close();
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const s = await measure(t);
      rows.get(t.name)!.push(s);
      console.log(
        `round ${round + 1} ${t.name.padEnd(9)} ${s.echoesPerSecond.toFixed(0).padStart(7)} echoes/s  ${s.cpuUsPerEcho.toFixed(1).padStart(6)} µs CPU/echo  lost ${s.lost}`,
      );
    }
  }
  const c = on.counters();
  const faults = Object.entries(c)
    .filter(([k]) => k.endsWith('iommuFaults'))
    .map(([k, v]) => `${k}=${v}`);
  const restarts = (t: EchoTarget) => t.counters()['supervisor.driversRestarted'] ?? 0;
  const offS = rows.get(off.name)!;
  const onS = rows.get(on.name)!;
  const ratio = (f: (s: Sample) => number) => median(onS.map((s, i) => f(s) / f(offS[i]!)));
  console.log(
    `\nmedians over ${ROUNDS} interleaved rounds of ${SECONDS} s (window ${WINDOW}, ${SIZE} B):`,
  );
  for (const t of targets) {
    const ss = rows.get(t.name)!;
    console.log(
      `  ${t.name.padEnd(9)} ${median(ss.map((s) => s.echoesPerSecond)).toFixed(0)} echoes/s, ${median(ss.map((s) => s.cpuUsPerEcho)).toFixed(1)} µs CPU per echo, driver restarts ${restarts(t)}`,
    );
  }
  console.log(
    `  on/off (median of per-round ratios): echoes/s ${ratio((s) => s.echoesPerSecond).toFixed(3)}, CPU per echo ${ratio((s) => s.cpuUsPerEcho).toFixed(3)}`,
  );
  console.log(
    `  iommu counters: ${faults.join(' ')}; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at end`,
  );
} finally {
  for (const t of targets) await t.stop();
}
