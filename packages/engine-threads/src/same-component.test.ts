import { INTERRUPT_LABEL, SimEngine } from '@udf/l4-kernel';
import { describe, expect, it } from 'vitest';
import { collector, probe, silent } from '../test/components.js';
import { irqProbe } from '../test/irq-components.js';
import { ThreadsEngine } from './engine.js';

// The same component generator, unchanged, on both engines: the IPC results it observes
// (error code, phase and partner of each operation) must agree. Durations are not compared.
const HZ = 1e9;
const MS = 1e6;
type Op = Parameters<typeof probe>[0]['ops'][number];

function ops(silentId: number, selfId: number, collectorId: number): Op[] {
  return [
    { op: 'receive', from: silentId, timeout: 0 },
    { op: 'receive', from: silentId, timeout: 5 * MS },
    { op: 'send', to: silentId, timeout: 0 },
    { op: 'send', to: silentId, timeout: 5 * MS },
    { op: 'call', to: silentId, timeout: 5 * MS },
    { op: 'call', to: collectorId, timeout: 0 }, // delivered; a zero receive phase fails at once
    { op: 'call', to: collectorId, timeout: 5 * MS }, // delivered; never answered
    { op: 'sleep', cycles: 2 * MS },
    { op: 'receive', from: 0, timeout: 2 * MS },
    { op: 'replyWait', to: 0, timeout: 2 * MS }, // X.2: a nil reply target only receives
    { op: 'send', to: 999 },
    { op: 'send', to: selfId },
    { op: 'receive', from: 999 },
    { op: 'call', to: -7 },
    // (An oversized message overflows at transfer time on both engines, reported to both
    // partners: the conformance suite's message-size case covers it.)
    { op: 'self' },
  ];
}

/** [code, partner named relative to the engine's own ids] per op. */
function observed(
  buf: SharedArrayBuffer,
  n: number,
  silentId: number,
  selfId: number,
): [number, string][] {
  const r = new Float64Array(buf);
  expect(r[0]).toBe(1);
  const rows: [number, string][] = [];
  for (let i = 0; i < n; i++) {
    const from = r[3 * i + 2]!;
    const name =
      from === silentId
        ? 'silent'
        : from === selfId
          ? 'self'
          : from === selfId + 1
            ? 'collector'
            : String(from);
    rows.push([r[3 * i + 1]!, name]);
  }
  return rows;
}

describe('an unchanged component on the sim engine and on the threads engine', () => {
  it('observes the same IPC results', { timeout: 30_000 }, async () => {
    // sim
    const sim = new SimEngine({ hz: HZ });
    const space = sim.kernel.createSpace('app');
    const sSilent = sim.kernel.createThread({ name: 'silent', space, body: silent });
    const simOut = new SharedArrayBuffer(8 * 64);
    const sProbeId = sSilent + 1;
    const simOps = ops(sSilent, sProbeId, sProbeId + 1);
    const sProbe = sim.kernel.createThread({
      name: 'probe',
      space,
      body: probe({ out: simOut, ops: simOps }),
    });
    expect(sProbe).toBe(sProbeId);
    // a receiver that runs first (same space, higher priority) and never replies
    const collected = new SharedArrayBuffer(64);
    sim.kernel.createThread({
      name: 'collector',
      space,
      priority: 200,
      body: collector({ count: 3, out: collected }),
    });
    sim.runFor(100 * MS);
    // threads
    const engine = new ThreadsEngine({ hz: HZ });
    const a = engine.createDomain('a');
    const b = engine.createDomain('b');
    const module = new URL('../test/components.ts', import.meta.url).href;
    const tSilent = engine.createThread({
      domain: b,
      name: 'silent',
      component: { module, export: 'silent' },
    });
    const thrOut = new SharedArrayBuffer(8 * 64);
    const tProbe = engine.createThread({
      domain: a,
      name: 'probe',
      component: {
        module,
        export: 'probe',
        config: { out: thrOut, ops: ops(tSilent, tSilent + 1, tSilent + 2) },
      },
    });
    expect(tProbe).toBe(tSilent + 1);
    engine.createThread({
      domain: a,
      name: 'collector',
      priority: 200,
      component: {
        module,
        export: 'collector',
        config: { count: 3, out: new SharedArrayBuffer(64) },
      },
    });
    await engine.start();
    try {
      await engine.join([tProbe], 20_000);
    } finally {
      await engine.stop();
    }
    const onSim = observed(simOut, simOps.length, sSilent, sProbe);
    const onThreads = observed(thrOut, simOps.length, tSilent, tProbe);
    expect(onThreads).toEqual(onSim);
    expect(onSim.at(-1)).toEqual([0, 'self']);
    // both calls were delivered and failed in the receive phase (zero / expired timeout)
    expect(onSim.slice(5, 7)).toEqual([
      [101, 'collector'],
      [101, 'collector'],
    ]);
  });

  it('observes the same interrupt protocol results', { timeout: 30_000 }, async () => {
    const line = 6;
    const steps = 9;
    const read = (buf: SharedArrayBuffer) => {
      const r = new Float64Array(buf);
      expect(r[0]).toBe(steps);
      return Array.from({ length: steps }, (_, i) => [r[2 * i + 1], r[2 * i + 2]]);
    };
    // sim: run until the probe waits for the interrupt, raise the line, run on
    const sim = new SimEngine({ hz: HZ });
    const space = sim.kernel.createSpace('drv');
    const simOut = new SharedArrayBuffer(8 * 32);
    sim.kernel.createThread({ name: 'probe', space, body: irqProbe({ line, out: simOut }) });
    sim.runFor(1 * MS);
    expect(new Float64Array(simOut)[20]).toBe(1);
    sim.machine.irq(line).raise();
    sim.runFor(100 * MS);
    // threads: the same, with the line raised from the main thread
    const engine = new ThreadsEngine({ hz: HZ, interruptLines: 8 });
    const d = engine.createDomain('drv');
    const thrOut = new SharedArrayBuffer(8 * 32);
    const t = engine.createThread({
      domain: d,
      name: 'probe',
      component: {
        module: new URL('../test/irq-components.ts', import.meta.url).href,
        export: 'irqProbe',
        config: { line, out: thrOut },
      },
    });
    await engine.start();
    try {
      const o = new Float64Array(thrOut);
      for (let i = 0; i < 5000 && o[20] !== 1; i++) await new Promise((r) => setTimeout(r, 2));
      engine.interruptLine(line).raise();
      await engine.join([t], 20_000);
    } finally {
      await engine.stop();
    }
    const onSim = read(simOut);
    expect(read(thrOut)).toEqual(onSim);
    // and what they agree on is the documented protocol
    expect(onSim.map((x) => x[0])).toEqual([1, 0, 2, 0, 0, 2, 0, 2, 102]);
    expect(onSim[3]![1]).toBe(INTERRUPT_LABEL * 1000 + line + 0.5);
  });
});
