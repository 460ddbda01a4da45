// Profile one bench target: the same closed-loop echo as the bench, against one target only, for
// a fixed time, printing echo/s and CPU µs per echo by thread. Run it under `--cpu-prof` to get
// a .cpuprofile of the main thread and of every worker (they inherit the flag), then summarise
// them with `node bench/cpuprofile-summary.mjs DIR`:
//
//   cd packages/system && node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx \
//     bench/profile.ts -- --target isolated --seconds 10
//
// Not a measurement of record (the bench's interleaved rounds are): a profiler slows every
// thread it samples.
import { setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import { detectCpuSource } from '@udf/system';
import { ClosedLoop } from './closed-loop.js';
import { sampleThreads, threadDeltas } from './proc.js';
import { appSystem, benchSystem, type EchoTarget, startPlainEcho, startUdf } from './targets.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    target: { type: 'string', default: 'isolated' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '32' },
    size: { type: 'string', default: '1024' },
    'loadgen-nice': { type: 'string' },
    /** Print the per-echo delta of every component counter whose name contains this text. */
    counters: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const WINDOW = Number(args.window);
const SIZE = Number(args.size);
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

const name = args.target;
const t: EchoTarget =
  name === 'plain'
    ? await startPlainEcho('plain')
    : await startUdf(name, benchSystem(appSystem(name), name), SIZE);
try {
  const source = detectCpuSource(Object.values(t.threads()));
  if (source === 'none') throw new Error('no per-thread CPU times (Linux /proc)');
  if (args['loadgen-nice'] !== undefined) setPriority(0, Number(args['loadgen-nice']));
  const loop = new ClosedLoop(t.address, t.framing, SIZE, WINDOW);
  await loop.open();
  loop.start();
  console.log(`threads: ${JSON.stringify(t.threads())} (pid ${process.pid})`);
  await sleep(1.5);
  const c0 = t.counters();
  const s0 = sampleThreads(t.threads(), source);
  const m0 = loop.mark();
  await sleep(SECONDS);
  const m1 = loop.mark();
  const s1 = sampleThreads(t.threads(), source);
  const c1 = t.counters();
  await loop.close();
  const echoed = m1.echoed - m0.echoed;
  const secs = (m1.at - m0.at) / 1000;
  const d = threadDeltas(s0, s1);
  let total = 0;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    total += v.runNs;
    parts.push(
      `${k} ${(v.runNs / 1000 / echoed).toFixed(1)} µs (${(v.voluntary / echoed).toFixed(2)} sleeps, ${(v.involuntary / echoed).toFixed(2)} preemptions)`,
    );
  }
  console.log(
    `${name}: ${(echoed / secs).toFixed(0)} echo/s, CPU ${(total / 1000 / echoed).toFixed(1)} µs/echo, median RTT ${loop.medianRttUs(m0, m1).toFixed(0)} µs, lost ${m1.lost - m0.lost}`,
  );
  console.log(`  per echo: ${parts.join('; ')}`);
  if (args.counters !== undefined) {
    const f = args.counters;
    const per = Object.entries(c1)
      .filter(([k, v]) => k.includes(f) && v !== (c0[k] ?? 0))
      .map(([k, v]) => `${k} ${((v - (c0[k] ?? 0)) / echoed).toFixed(3)}`);
    console.log(`  counters per echo: ${per.join(', ')}`);
  }
  const restarts = t.restarts?.() ?? [];
  await t.stop();
  if (restarts.length > 0) console.log(`  DRIVER RESTARTS: ${restarts.join(' ')}`);
  const dc = t.deviceCounters();
  if (dc !== null) {
    const total = m1.echoed + m1.lost;
    console.log(
      `  device worker over its life, per echo: ${Object.entries(dc)
        .map(([k, v]) => `${k} ${(v / total).toFixed(2)}`)
        .join(', ')}`,
    );
  }
} catch (e) {
  await t.stop();
  throw e;
}
