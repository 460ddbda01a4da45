import { loadSystem, runStep } from '/work/main/packages/system/src/index.ts';

const cfg = process.argv[2] ?? 'isolated';
const load = Number(process.argv[3] ?? 100);
const hold = Number(process.argv[4] ?? 100);
const sys = loadSystem(`/work/main/apps/${cfg}/system.yaml`);
const t = performance.now();
const r = await runStep(sys, {
  loadMbps: load,
  holdoffUs: hold,
  durationMs: 10,
  warmupMs: 3,
  packetSize: 1024,
  ipcScale: 1,
});
const { ipbench, counters, ...rest } = r;
console.log(JSON.stringify(rest));
console.log(
  Object.entries(counters)
    .filter(([k, v]) => v !== 0 && !/^kernel/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
console.log('wall', ((performance.now() - t) / 1000).toFixed(2));
