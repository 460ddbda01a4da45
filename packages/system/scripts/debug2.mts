import { assemble, loadSystem } from '../src/index.ts';

const sys = loadSystem(`/work/main/apps/isolated/system.yaml`);
const a = assemble(sys, {
  loadMbps: 100,
  holdoffUs: 100,
  durationMs: 10,
  warmupMs: 3,
  packetSize: 1024,
  ipcScale: 1,
});
a.sim.runFor(a.sim.machine.hz * 0.003);
a.checkStarted();
console.log(
  Object.entries(a.counters())
    .filter(([k]) => /driver|stack/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
