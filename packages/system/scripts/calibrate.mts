// Finds the three component-cost factors (work, framework, overhead) that make the isolated
// placement at 450 Mb/s / 100 µs / 1024 B reproduce the paper's profile: 32 % CPU, 65 % of
// non-idle time in Kernel+Driver+IP, 23 % in Buffer+Translation, 12 % in Notification+IPC+Interrupt.
// Kernel costs are fixed (cited), so the Kernel and IPC shares are measured, not fitted.
// Run: pnpm --filter @udf/system calibrate   (prints the factors to paste into calibration.ts)
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrate, loadSystem } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const sys = loadSystem(resolve(here, '../../../apps/isolated/system.yaml'));
const f = await calibrate(sys, undefined, {
  onIteration: (i, factors, cpu) =>
    console.log(`iteration ${i}: cpu ${cpu.toFixed(2)} % -> factors ${JSON.stringify(factors)}`),
});
console.log(`CALIBRATION = ${JSON.stringify(f)}`);
