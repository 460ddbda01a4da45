import { assemble, loadSystem } from '../src/index.ts';

const sys = loadSystem(`/work/main/apps/${process.argv[2] ?? 'isolated'}/system.yaml`);
const a = assemble(sys, {
  loadMbps: 100,
  holdoffUs: 100,
  durationMs: 10,
  warmupMs: 3,
  packetSize: 1024,
  ipcScale: 1,
});
a.sim.runFor(a.sim.machine.hz * 0.002);
console.log('failures', a.sim.kernel.failures);
console.log(
  Object.entries(a.counters())
    .filter(([k, v]) => v !== 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
for (const t of [1, 2, 3, 4, 5, 6, 7, 8]) {
  try {
    console.log(a.sim.kernel.threadInfo(t));
  } catch (e) {}
}
