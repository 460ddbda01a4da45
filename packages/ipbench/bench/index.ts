/**
 * ipbench benchmarks: probe packets generated + parsed per wall second by a SimClient against an
 * in-memory echo, and the cost of the RTT statistics. Run: `node --import tsx bench/index.ts`.
 */
import { EchoTarget, EventClock, rttStats, SimClient } from '@udf/ipbench';

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

for (const size of [64, 1024]) clientAgainstEcho(size, 1);
for (const n of [100_000, 1_000_000]) statsCost(n);
