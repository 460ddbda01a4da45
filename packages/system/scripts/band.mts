// Figure 1(b) across the cited bus configurations (issue 13, item 2): throughput and CPU of each
// configuration at each load, for each placement and hold-off.
// Run: pnpm --filter @udf/system band [configs] [loads]
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSystem, runBusBand } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const configs = (process.argv[2] ?? 'isolated,monolithic').split(',');
const loads = (process.argv[3] ?? '300,450,600,800,1000').split(',').map(Number);
for (const config of configs) {
  const sys = loadSystem(resolve(here, `../../../apps/${config}/system.yaml`));
  for (const holdoffUs of [0, 100]) {
    for (const loadMbps of loads) {
      const band = await runBusBand(sys, { loadMbps, holdoffUs, warmupMs: 5, durationMs: 30 });
      console.log(
        `${config} ${holdoffUs} µs ${loadMbps} Mb/s: ${band
          .map(
            (b) =>
              `${b.bus.name} ${b.result.achievedMbps.toFixed(0)} Mb/s ${b.result.cpuPercent.toFixed(0)} %`,
          )
          .join(' | ')}`,
      );
    }
  }
}
