// Interrupts per received packet and CPU under each interrupt policy, for each placement, at the
// paper's 450 Mb/s per NIC and 0 / 100 µs hold-off (issue 13, item 1).
// Run: pnpm --filter @udf/system exec node --conditions=@udf/source --import tsx scripts/interrupts.mts
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSystem, runStep, type SystemDescription } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const configs = (process.argv[2] ?? 'isolated,monolithic').split(',');
const withPolicy = (sys: SystemDescription, policy: 'ns83820' | 'prime'): SystemDescription => ({
  ...sys,
  domains: sys.domains.map((d) => ({
    ...d,
    components: d.components.map((c) =>
      c.kind === 'dp83820-driver' ? { ...c, interruptPolicy: policy } : c,
    ),
  })),
});
for (const config of configs) {
  const base = loadSystem(resolve(here, `../../../apps/${config}/system.yaml`));
  for (const policy of ['ns83820', 'prime'] as const) {
    for (const holdoffUs of [0, 100]) {
      const r = await runStep(withPolicy(base, policy), { loadMbps: 450, holdoffUs });
      let irqs = 0;
      let rx = 0;
      for (const [k, v] of Object.entries(r.counters)) {
        if (/^nic\d+\.interrupts$/.test(k)) irqs += v;
        if (/^nic\d+\.rxDelivered$/.test(k)) rx += v;
      }
      console.log(
        `${config} ${policy} ${holdoffUs} µs: ${(irqs / rx).toFixed(2)} interrupts/packet, cpu ${r.cpuPercent.toFixed(1)} %, ${r.achievedMbps.toFixed(0)} Mb/s`,
      );
    }
  }
}
