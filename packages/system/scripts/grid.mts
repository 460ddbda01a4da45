import { loadSystem, runStep } from '../src/index.ts';

const configs = (process.argv[2] ?? 'isolated,monolithic,embedded,clustered').split(',');
const loads = (process.argv[3] ?? '100,450,900').split(',').map(Number);
const holds = (process.argv[4] ?? '0,100').split(',').map(Number);
for (const c of configs)
  for (const h of holds)
    for (const l of loads) {
      const sys = loadSystem(`/work/main/apps/${c}/system.yaml`);
      const r = await runStep(sys, {
        loadMbps: l,
        holdoffUs: h,
        durationMs: Number(process.env.DUR ?? 10),
        warmupMs: 3,
        packetSize: 1024,
        ipcScale: Number(process.env.IPC ?? 1),
      });
      const busy = 100 - r.profile.Idle!;
      const p = Object.entries(r.profile)
        .filter(([k, v]) => k !== 'Idle' && v > 0)
        .map(([k, v]) => `${k}:${((100 * v) / busy).toFixed(0)}`)
        .join(' ');
      console.log(
        `${c.padEnd(10)} ${String(h).padStart(3)}us ${String(r.requestedMbps).padStart(5)} -> ${r.achievedMbps.toFixed(1).padStart(6)} cpu ${r.cpuPercent.toFixed(1).padStart(5)}% rtt ${r.rttUs.avg.toFixed(0).padStart(5)} lost ${r.lostPackets} wall ${r.wallSeconds}s | ${p}`,
      );
    }
