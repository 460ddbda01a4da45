// The pin-time quota on threads (issue 16): an idle driver keeps its posted receive buffers
// pinned by design and is not disabled for it; a driver that keeps more pages pinned than its
// receive rings can hold is. Real workers; the quota is real time here.
import { resolve } from 'node:path';
import { ENTRY_VALID } from '@udf/dataspace';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { plan, postedReceivePages, type SystemPlan } from './plan.js';

import { realizeThreads } from './realize-threads.js';
import { startThreadsSystem } from './threads-runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Isolated with a 0.3 s pin-time quota and 8 receive descriptors (an allowance of 8 pages). */
function quick(): SystemPlan {
  const p = plan(loadSystem(resolve(apps, 'isolated', 'system.yaml')));
  return {
    ...p,
    components: p.components.map((c) =>
      c.kind === 'dataspace-manager'
        ? { ...c, maxPinSeconds: 0.3 }
        : c.kind === 'dp83820-driver'
          ? { ...c, devices: c.devices.map((d) => ({ ...d, rxDescriptors: 8 })) }
          : c,
    ),
  };
}

describe('the pin-time quota on threads', () => {
  it('an idle driver (its posted receive buffers pinned) is not disabled in 3 s, ten times its quota', async () => {
    const built = realizeThreads(quick(), { wire: { kind: 'load', via: 'in-process' } });
    try {
      await startThreadsSystem(built);
      await sleep(3000);
      const c = built.counters();
      expect(c['manager.driversDisabled']).toBe(0);
      expect(c['supervisor.driversDisabled']).toBe(0);
      expect(c['supervisor.driversRestarted']).toBe(0);
      expect(built.ready()).toBe(true);
    } finally {
      await built.stop();
    }
  }, 60_000);

  it('a driver that pins every page it can and keeps them is disabled and restarted (cause quota)', async () => {
    // the honest driver wrapped (a data: URL module the worker imports): once `abuse[0]` is 1,
    // at each kernel call it sets the pin bit of every valid entry of its translation table
    const abuse = new SharedArrayBuffer(4);
    const honest = new URL('./threads-components.ts', import.meta.url).href;
    const dataspace = import.meta.resolve('@udf/dataspace');
    const code = `import { dp83820DriverServer } from ${JSON.stringify(honest)};
import { TranslationTable } from ${JSON.stringify(dataspace)};
export function pinHog(config) {
  const inner = dp83820DriverServer(config);
  const flag = new Int32Array(config.abuse);
  const { vaddr, entries } = config.translationCache;
  return function* (sys) {
    let table = null;
    const it = inner(sys);
    let r = it.next();
    while (!r.done) {
      if (Atomics.load(flag, 0) === 1) {
        if (table === null) {
          const v = yield* sys.mem.access(vaddr, TranslationTable.bytesFor(entries), 'write');
          if ('buffer' in v) table = new TranslationTable(v.buffer, v.byteOffset, entries);
        }
        for (let e = 0; table !== null && e < entries; e++) if ((table.flags(e) & ${ENTRY_VALID}) !== 0) table.tryPin(e);
      }
      let v;
      try { v = yield r.value; } catch (e) { r = it.throw(e); continue; }
      r = it.next(v);
    }
  };
}`;
    const module = `data:text/javascript,${encodeURIComponent(code)}`;
    const p = quick();
    expect(postedReceivePages(p)).toBe(8);
    const built = realizeThreads(p, {
      wire: { kind: 'load', via: 'in-process' },
      substitute: (ref, c) =>
        c.kind === 'dp83820-driver'
          ? { module, export: 'pinHog', config: { ...(ref.config as object), abuse } }
          : ref,
    });
    try {
      await startThreadsSystem(built);
      // traffic, so the driver's table fills with translations of the client's buffers
      await Promise.all(
        built.clients.map((c) =>
          c.start({ rateMbps: 0.5, packetSize: 256, warmupS: 0, durationS: 0.5, cooldownS: 0.1 }),
        ),
      );
      Atomics.store(new Int32Array(abuse), 0, 1);
      const until = performance.now() + 30_000;
      while ((built.counters()['supervisor.driversDisabled'] ?? 0) < 1) {
        if (performance.now() > until) throw new Error('the pin hog was not disabled');
        // keep it making kernel calls (it re-pins at each)
        await Promise.all(
          built.clients.map((c) =>
            c.start({ rateMbps: 0.2, packetSize: 256, warmupS: 0, durationS: 0.2, cooldownS: 0 }),
          ),
        );
      }
      Atomics.store(new Int32Array(abuse), 0, 2); // the fresh driver is honest
      const c = built.counters();
      expect(c['manager.driversDisabled']).toBeGreaterThanOrEqual(1);
      expect(built.restart!.records()[0]?.cause).toBe('quota');
    } finally {
      await built.stop();
    }
  }, 90_000);
});
