/**
 * ipbench benchmarks: probe packets generated + parsed per wall second by a SimClient against an
 * in-memory echo, the cost of the RTT statistics, and the two real-thread CPU meters (idle loop,
 * schedstat) side by side on a load of known duty cycle. Run: `node --import tsx bench/index.ts`.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DutyCycleLoad,
  EchoTarget,
  EventClock,
  IdleLoopCpuMeter,
  rttStats,
  SchedstatCpuMeter,
  SimClient,
} from '@udf/ipbench';

function clientAgainstEcho(packetSize: number, virtualSeconds: number): void {
  const clock = new EventClock();
  const echo = new EchoTarget({ clock, delayS: 10e-6, queueLimit: 4096 });
  const client = new SimClient({
    clock,
    mac: '02:00:00:00:00:01',
    ip: '10.0.0.1',
    targetMac: '02:00:00:00:00:fe',
    targetIp: '10.0.0.254',
    linkMbps: Number.POSITIVE_INFINITY,
  });
  client.attach(echo);
  echo.connect(client.mac, client);
  let result: Awaited<ReturnType<SimClient['start']>> | undefined;
  const rateMbps = (packetSize * 8 * 200_000) / 1e6; // 200 k packets per virtual second
  const t0 = performance.now();
  client
    .start({ rateMbps, packetSize, warmupS: 0, durationS: virtualSeconds, cooldownS: 0.001 })
    .then((r) => {
      result = r;
    });
  clock.runUntil(() => !client.running);
  const wall = (performance.now() - t0) / 1000;
  const packets = echo.counters.echoed;
  console.log(
    `client+echo  size ${String(packetSize).padStart(4)} B: ${packets} packets in ${wall.toFixed(3)} s wall = ${(packets / wall / 1e3).toFixed(0)} k packets/s (generated, checksummed, echoed, verified, timed)`,
  );
  void result;
}

function statsCost(n: number): void {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) samples[i] = 40 + ((i * 2654435761) % 1000) / 10;
  const t0 = performance.now();
  const s = rttStats(samples);
  const ms = performance.now() - t0;
  console.log(
    `rttStats     ${n} samples: ${ms.toFixed(1)} ms (${((ms * 1e6) / n).toFixed(0)} ns/sample), median ${s.median.toFixed(1)} µs`,
  );
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number, w: number): string => `${(x * 100).toFixed(1)}%`.padStart(w);
const pp = (x: number): string => `${x < 0 ? '−' : '+'}${Math.abs(x * 100).toFixed(1)}`;

/**
 * The issue's "show both and say how they agree": `domains` worker threads busy for d of every
 * 1 ms, each window measured at once by the idle-loop meter (one nice-19 loop per CPU, calibrated
 * on the unloaded machine) and by schedstat over the domains' threads only.
 */
async function cpuMetersAgree(windowMs: number, windows: number): Promise<void> {
  const cpus = availableParallelism();
  const idle = await IdleLoopCpuMeter.create({ calibrationMs: 1000 });
  console.log(
    `\ncpu meters   ${cpus} CPUs, ${windows} × ${windowMs} ms windows per row (means); idle loop calibrated at ${idle.calibration.map((c) => (c / 1e3).toFixed(0)).join(', ')} k loops/s`,
  );
  console.log(
    'expected = domains × duty / CPUs; schedstat = Σ run time of the domain threads / (wall × CPUs)',
  );
  console.log('domains  duty  expected  idle-loop  schedstat  idle−sched pp (window range)');
  try {
    for (const domains of [1, 2]) {
      const load = await DutyCycleLoad.create({ domains });
      const sched = new SchedstatCpuMeter({ threads: load.threadIds, cpus });
      try {
        for (const duty of [0, 0.25, 0.5, 0.75]) {
          load.setDuty(duty);
          await sleep(200); // let the domains settle into the new duty
          const idles: number[] = [];
          const scheds: number[] = [];
          for (let w = 0; w < windows; w++) {
            idle.start();
            sched.start();
            await sleep(windowMs);
            scheds.push(sched.stop().utilisation);
            idles.push(idle.stop().utilisation);
          }
          const diffs = idles.map((v, w) => v - scheds[w]!);
          const expected = (domains * duty) / cpus;
          console.log(
            `${String(domains).padStart(7)}  ${`${duty * 100}%`.padStart(4)}  ${pct(expected, 8)}  ${pct(mean(idles), 9)}  ${pct(mean(scheds), 9)}  ${pp(mean(diffs)).padStart(10)} (${pp(Math.min(...diffs))} … ${pp(Math.max(...diffs))})`,
          );
        }
      } finally {
        await load.close();
      }
    }
  } finally {
    await idle.close();
  }
}

for (const size of [64, 1024]) clientAgainstEcho(size, 1);
for (const n of [100_000, 1_000_000]) statsCost(n);
if (existsSync('/proc/thread-self/schedstat')) await cpuMetersAgree(1500, 3);
else console.log('cpu meters   skipped: needs Linux /proc/thread-self/schedstat');
