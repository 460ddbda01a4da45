// The calibration spread (issue 13, item 5): each paper target moved by ±1 point, the factors
// refitted, and the paper's four Figure 1(b) points at 450 Mb/s re-measured.
// Run: node --conditions=@udf/source --import tsx scripts/spread.mts   (from packages/system)
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrationSpread, loadSystem } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const load = (n: string) => loadSystem(resolve(here, `../../../apps/${n}/system.yaml`));
const rows = await calibrationSpread({
  isolated: load('isolated'),
  monolithic: load('monolithic'),
});
for (const r of rows) {
  const moved = Object.entries(r.moved)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  console.log(
    `${r.point.config} ${r.point.holdoffUs} µs ${r.point.loadMbps} Mb/s: ${r.cpuPercent.toFixed(1)} % (${r.min.toFixed(1)}–${r.max.toFixed(1)}), ${r.achievedMbps.toFixed(0)} Mb/s; ${moved}`,
  );
}
