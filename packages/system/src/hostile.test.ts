/**
 * Hostile domains on the sim engine (issue 18): a client or a driver that writes garbage into
 * the session rings, corrupts the ring indices it owns, or floods its peer with wake-ups harms
 * only itself. The placement is a clustered driver (one driver domain, two NICs) serving two
 * stack domains, one per NIC: the hostile one on nic0, an honest one on nic1. The hostile
 * behaviours are components named by plain data (`hostile-components.ts`), put in place by
 * `realizeSim`'s `substitute`.
 */
import type { ClientResult } from '@udf/ipbench';
import { describe, expect, it } from 'vitest';
import {
  HOSTILE_CASES,
  hostileReport,
  hostileSubstitute,
  runHostile,
  HOSTILE_PLACEMENT as TWO_CLIENTS,
} from './hostile.js';
import type { HostileBehaviour } from './hostile-components.js';
import { plan } from './plan.js';
import { type AssembledSystem, realizeSim } from './realize-sim.js';
import { startUp } from './runner.js';

const MBPS = 100;

interface Run {
  readonly built: AssembledSystem;
  readonly results: Record<string, ClientResult[]>;
  readonly c: Record<string, number>;
}

async function run(hostile: { stack?: HostileBehaviour; driver?: HostileBehaviour }): Promise<Run> {
  const r = await runHostile({ ...hostile, mbps: MBPS, seconds: 0.03 });
  return { built: r.built, results: r.results, c: r.counters };
}

const lost = (rs: ClientResult[]) => rs.reduce((n, r) => n + r.lost, 0);
const sends = (rs: ClientResult[]) => rs.reduce((n, r) => n + r.sends, 0);
const bad = (rs: ClientResult[]) => rs.reduce((n, r) => n + r.bad, 0);

/** Nothing went wrong beyond the hostile domain: no failure, no restart. */
function contained(r: Run): void {
  expect(r.built.sim.kernel.failures).toEqual([]);
  expect(r.built.sim.kernel.supervisedFailures).toEqual([]);
  expect(r.c['supervisor.driversRestarted']).toBe(0);
  expect(r.c['supervisor.hangsDetected']).toBe(0);
}

const DRV = 'drivers.driver';

describe('a hostile client of a clustered driver (issue 18)', () => {
  it('garbage descriptors: each counted on its own session, typed; the other session and its own valid frames lose nothing', async () => {
    const r = await run({
      stack: { startSeconds: 0.005, everySeconds: 0.002, acts: 10, garbage: 16 },
    });
    contained(r);
    const written = r.c['stack0.hostile.garbageWritten']!;
    expect(written).toBeGreaterThan(100);
    // The driver took every one, rejected it before the device saw it, and said why.
    const s0 = (k: string) => r.c[`${DRV}.sessions.0.${k}`]!;
    expect(s0('rxRejected') + s0('txRejected')).toBe(written);
    expect(s0('foreignDataspace') + s0('outOfRange') + s0('badLength')).toBe(written);
    expect(s0('foreignDataspace')).toBeGreaterThan(0);
    expect(s0('outOfRange')).toBeGreaterThan(0);
    expect(s0('badLength')).toBeGreaterThan(0);
    // The honest session's counters are clean.
    for (const k of ['rxRejected', 'txRejected', 'foreignDataspace', 'outOfRange', 'badLength'])
      expect(r.c[`${DRV}.sessions.1.${k}`], k).toBe(0);
    // The rejected descriptors came back to the hostile client, which dropped them as not its own.
    expect(r.c['stack0.0.session.corrupt']).toBe(written);
    expect(r.c['stack1.0.session.corrupt']).toBe(0);
    // Nothing valid lost, on either NIC.
    expect(sends(r.results.nic1!)).toBeGreaterThan(0);
    expect(lost(r.results.nic1!)).toBe(0);
    expect(lost(r.results.nic0!)).toBe(0);
    expect(bad(r.results.nic0!) + bad(r.results.nic1!)).toBe(0);
  });

  it('corrupt ring indices: every corrupt read counted on its own session; the other session loses nothing, its own frames flow again once restored', async () => {
    const r = await run({
      stack: { startSeconds: 0.005, everySeconds: 0.005, acts: 3, glitchSeconds: 0.0005 },
    });
    contained(r);
    expect(r.c['stack0.hostile.glitches']).toBe(3);
    expect(r.c[`${DRV}.sessions.0.corruptReads`]).toBeGreaterThan(0);
    expect(r.c[`${DRV}.sessions.1.corruptReads`]).toBe(0);
    expect(r.c[`${DRV}.sessionCorruptions`]).toBe(r.c[`${DRV}.sessions.0.corruptReads`]);
    expect(lost(r.results.nic1!)).toBe(0);
    // The hostile client hurt itself while its indices were garbage, and only then.
    const nic0 = r.results.nic0!;
    expect(lost(nic0)).toBeLessThan(0.2 * sends(nic0));
    expect(r.c['stack0.0.session.rxFrames']).toBeGreaterThan(0.8 * sends(nic0));
  });

  it('random words over its whole session region: no exception escapes, counted on its session, the other session loses nothing', async () => {
    const r = await run({
      stack: { startSeconds: 0.005, everySeconds: 0.003, acts: 5, scribble: true },
    });
    contained(r);
    expect(r.c['stack0.hostile.wordsScribbled']).toBeGreaterThan(1000);
    const s0 = (k: string) => r.c[`${DRV}.sessions.0.${k}`]!;
    const s1 = (k: string) => r.c[`${DRV}.sessions.1.${k}`]!;
    expect(s0('corruptReads') + s0('rxRejected') + s0('txRejected')).toBeGreaterThan(0);
    for (const k of ['corruptReads', 'rxRejected', 'txRejected']) expect(s1(k), k).toBe(0);
    expect(r.c['stack1.0.session.corrupt']).toBe(0);
    expect(lost(r.results.nic1!)).toBe(0);
    expect(bad(r.results.nic1!)).toBe(0);
  });

  it('a wake-up flood: counted on its session, idle wake-ups counted, the other session loses nothing', async () => {
    const r = await run({
      stack: {
        startSeconds: 0.005,
        everySeconds: 0.01,
        acts: 2,
        flood: { burst: 4, periodSeconds: 5e-6 },
      },
    });
    contained(r);
    const delivered = r.c['stack0.hostile.floodDelivered']!;
    expect(r.c['stack0.hostile.floodSent']).toBeGreaterThan(1000);
    expect(delivered).toBeGreaterThan(100);
    expect(r.c[`${DRV}.sessions.0.notifications`]).toBeGreaterThanOrEqual(delivered);
    expect(r.c[`${DRV}.idleWakeups`]).toBeGreaterThan(delivered / 2);
    expect(lost(r.results.nic1!)).toBe(0);
    expect(lost(r.results.nic0!)).toBe(0);
  });
});

describe('a client that fakes pending work for the supervisor (issue 18)', () => {
  it('writes "awake" into the idle driver’s bit: the supervisor probes instead of restarting, and the other session is served', async () => {
    const built = realizeSim(plan(TWO_CLIENTS, { durationMs: 4, warmupMs: 1 }), {
      substitute: hostileSubstitute({
        stack: { startSeconds: 0.001, everySeconds: 0.004, acts: 50, fakeAwake: true },
      }),
    });
    startUp(built);
    const { sim } = built;
    // No load: the driver sleeps, and its bit says it is awake with nothing moving.
    sim.runFor(0.2 * sim.machine.hz);
    const c = built.counters();
    expect(c['stack0.hostile.fakedAwake']).toBeGreaterThan(40);
    expect(c['supervisor.hangsDetected']).toBe(0);
    expect(c['supervisor.driversRestarted']).toBe(0);
    expect(c['supervisor.probesAnswered']).toBeGreaterThan(3);
    expect(sim.kernel.failures).toEqual([]);
    // The honest session still echoes.
    const nic1 = built.clients.slice(built.plan.devices[0]!.clients.length);
    const runs = nic1.map((client) =>
      client.start({ rateMbps: MBPS, warmupS: 0.001, durationS: 0.01, cooldownS: 0.005 }),
    );
    while (nic1.some((x) => x.running)) {
      sim.runFor(sim.machine.hz / 1000);
      await Promise.resolve();
    }
    const results = await Promise.all(runs);
    expect(sends(results)).toBeGreaterThan(0);
    expect(lost(results)).toBe(0);
  });
});

describe('a hostile driver (issue 18)', () => {
  it('garbage in the return rings: counted and dropped by every client, nothing valid lost', async () => {
    const r = await run({
      driver: { startSeconds: 0.005, everySeconds: 0.002, acts: 10, garbage: 8 },
    });
    contained(r);
    const written = r.c[`${DRV}.hostile.garbageWritten`]!;
    expect(written).toBeGreaterThan(100);
    expect(r.c['stack0.0.session.corrupt']! + r.c['stack1.0.session.corrupt']!).toBe(written);
    expect(lost(r.results.nic0!) + lost(r.results.nic1!)).toBe(0);
  });

  it('corrupt ring indices: counted by every client on its counters page, nothing valid lost once restored', async () => {
    // The flood wakes the clients while the indices are garbage, so they read them.
    const r = await run({
      driver: {
        startSeconds: 0.005,
        everySeconds: 0.005,
        acts: 3,
        glitchSeconds: 0.001,
        flood: { burst: 1, periodSeconds: 50e-6 },
      },
    });
    contained(r);
    expect(r.c[`${DRV}.hostile.glitches`]).toBe(3);
    expect(r.c['stack0.0.session.sessionCorruptions']).toBeGreaterThan(0);
    expect(r.c['stack1.0.session.sessionCorruptions']).toBeGreaterThan(0);
    for (const nic of ['nic0', 'nic1']) {
      const rs = r.results[nic]!;
      expect(lost(rs), nic).toBeLessThan(0.2 * sends(rs));
    }
  });

  it('a wake-up flood of its clients: counted as idle wake-ups by them, nothing valid lost', async () => {
    const r = await run({
      driver: {
        startSeconds: 0.005,
        everySeconds: 0.01,
        acts: 2,
        flood: { burst: 4, periodSeconds: 5e-6 },
      },
    });
    contained(r);
    const delivered = r.c[`${DRV}.hostile.floodDelivered`]!;
    expect(delivered).toBeGreaterThan(100);
    expect(r.c['stack0.thread.idleWakeups']! + r.c['stack1.thread.idleWakeups']!).toBeGreaterThan(
      delivered / 2,
    );
    expect(lost(r.results.nic0!) + lost(r.results.nic1!)).toBe(0);
  });
});

describe('a client that never acknowledges a driver restart (issue 18)', () => {
  it('a hung client does not hold up the restarted driver: the other session is served again', async () => {
    const built = realizeSim(plan(TWO_CLIENTS, { durationMs: 4, warmupMs: 1 }));
    startUp(built);
    const { sim } = built;
    const k = sim.kernel;
    const hz = sim.machine.hz;
    const thread = (name: string) => k.allThreads().find((t) => t.name === name)!.id;
    sim.runFor(0.002 * hz);
    // Stack A stops for good, then the driver both stacks use crashes.
    k.injectHang(thread('stack-a/ip-stack'));
    sim.runFor(0.001 * hz);
    k.injectFailure(thread('drivers/dp83820'), new Error('driver bug'));
    sim.runFor(0.005 * hz);
    expect(built.counters()['supervisor.driversRestarted']).toBe(1);
    const nic1 = built.clients.slice(built.plan.devices[0]!.clients.length);
    const runs = nic1.map((client) =>
      client.start({ rateMbps: MBPS, warmupS: 0.001, durationS: 0.01, cooldownS: 0.005 }),
    );
    while (nic1.some((x) => x.running)) {
      sim.runFor(hz / 1000);
      await Promise.resolve();
    }
    const results = await Promise.all(runs);
    const c = built.counters();
    expect(c['stack1.0.session.restarts']).toBe(1);
    expect(c['stack0.0.session.restarts']).toBe(0);
    expect(sends(results)).toBeGreaterThan(0);
    expect(lost(results)).toBe(0);
    expect(c['supervisor.driversRestarted']).toBe(1);
  });
});

describe('hostileReport', () => {
  it('runs every case: one line each, no restart, nothing lost on the honest NIC', async () => {
    const text = await hostileReport();
    const lines = text.split('\n').slice(2);
    expect(lines.map((l) => l.slice(0, 30).trim())).toEqual(Object.keys(HOSTILE_CASES));
    for (const l of lines) {
      expect(l).toMatch(/restarts 0$/);
      // nic1 sent/lost: the second column
      expect(l.slice(46, 62).trim()).toMatch(/^\d+\/0$/);
    }
  });
});
