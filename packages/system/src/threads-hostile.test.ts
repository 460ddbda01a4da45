// Hostile domains on the threads engine (issue 18), with real workers: the sim's hostile
// behaviours (`hostile-components.ts`, engine-agnostic) put in place by `realizeThreads`'
// `substitute`, in the clustered placement of `hostile.ts` (one driver domain, two NICs, a stack
// domain per NIC: the hostile client on nic0, an honest one on nic1). No timed assertions: the
// acts run on real time, and the checks are on what was counted.
import type { ClientResult } from '@udf/ipbench';
import { describe, expect, it } from 'vitest';
import { HOSTILE_PLACEMENT, hostileSubstitute } from './hostile.js';
import type { HostileBehaviour } from './hostile-components.js';
import { plan } from './plan.js';
import { realizeThreads, type ThreadsSystem } from './realize-threads.js';
import { THREADS_OWN_COMPONENTS, threadsComponentRef } from './threads-hostile.js';
import { primeThreadsSystem, startThreadsSystem } from './threads-runner.js';

const DRV = 'drivers.driver';
const lost = (rs: ClientResult[]) => rs.reduce((n, r) => n + r.lost, 0);
const sends = (rs: ClientResult[]) => rs.reduce((n, r) => n + r.sends, 0);
const bad = (rs: ClientResult[]) => rs.reduce((n, r) => n + r.bad, 0);

/** The placement with a long pin-time quota (real time on threads; NICs idle between phases). */
function hostilePlan() {
  const p = plan(HOSTILE_PLACEMENT);
  return {
    ...p,
    components: p.components.map((c) =>
      c.kind === 'dataspace-manager' ? { ...c, maxPinSeconds: 600 } : c,
    ),
  };
}

/** `seconds` of echo on both NICs, results by NIC. */
async function echo(
  built: ThreadsSystem,
  seconds: number,
): Promise<Record<string, ClientResult[]>> {
  const results: Record<string, ClientResult[]> = {};
  let at = 0;
  const runs: Promise<void>[] = [];
  for (const d of built.plan.devices) {
    const mine: ClientResult[] = [];
    results[d.name] = mine;
    for (let j = 0; j < d.clients.length; j++) {
      runs.push(
        built.clients[at++]!.start({
          rateMbps: 0.5,
          packetSize: 256,
          warmupS: 0.05,
          durationS: seconds,
          // a probe not back by the end of the cooldown counts as lost (ipbench's rule), and on
          // a 2-CPU machine running other test files' workers an echo can be late by more than
          // 0.3 s: these tests assert that nothing is lost, not how fast, so allow 1 s
          cooldownS: 1,
        }).then((r) => {
          mine.push(r);
        }),
      );
    }
  }
  await Promise.all(runs);
  return results;
}

/**
 * Start with the hostile components in place; prime (ARP); echo on both NICs for `seconds`
 * while the hostile end acts; once it has done all its acts, a short echo more (it wakes the
 * driver, which then takes what the last acts left in the rings). Results of both, by NIC.
 */
async function runHostileThreads(
  hostile: { stack?: HostileBehaviour; driver?: HostileBehaviour },
  seconds: number,
): Promise<{ built: ThreadsSystem; results: Record<string, ClientResult[]> }> {
  const built = realizeThreads(hostilePlan(), {
    wire: { kind: 'load', via: 'in-process' },
    substitute: hostileSubstitute(hostile),
  });
  await startThreadsSystem(built);
  await primeThreadsSystem(built);
  const during = await echo(built, seconds);
  const acts = (hostile.stack ?? hostile.driver)!.acts;
  const key = hostile.stack ? 'stack0.hostile.acts' : `${DRV}.hostile.acts`;
  const end = performance.now() + 60_000;
  while ((built.counters()[key] ?? 0) < acts) {
    if (performance.now() > end) throw new Error('the hostile end did not finish its acts');
    await new Promise((r) => setTimeout(r, 20));
  }
  const after = await echo(built, 0.3);
  const results: Record<string, ClientResult[]> = {};
  for (const k of Object.keys(during)) results[k] = [...during[k]!, ...after[k]!];
  return { built, results };
}

describe('hostile domains on the threads engine', () => {
  it('a substitute naming @udf/system components is pointed at the module the workers import', () => {
    const ref = { module: '@udf/system', export: 'hostileStackServer', config: { a: 1 } };
    expect(threadsComponentRef(ref, 'file:///x.js')).toEqual({ ...ref, module: 'file:///x.js' });
    const other = { module: '@udf/system', export: 'nothingOfOurs', config: {} };
    expect(threadsComponentRef(other, 'file:///x.js')).toBe(other);
    expect(THREADS_OWN_COMPONENTS).toEqual(['hostileStackServer', 'hostileDriverServer']);
  });

  it('a client writing garbage descriptors: each counted by the driver on its own session; the honest session keeps serving; nothing valid lost; no exception escapes', async () => {
    // Acts from 0.3 s after the stack starts, every 50 ms, 20 times: they overlap the load.
    const { built, results } = await runHostileThreads(
      { stack: { startSeconds: 0.3, everySeconds: 0.05, acts: 20, garbage: 16 } },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      expect(c['supervisor.driversRestarted']).toBe(0);
      const written = c['stack0.hostile.garbageWritten']!;
      console.log(
        'threads hostile client (garbage):',
        JSON.stringify({
          acts: c['stack0.hostile.acts'],
          written,
          nic0: { sends: sends(results.nic0!), lost: lost(results.nic0!) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
        }),
      );
      expect(written).toBeGreaterThan(100);
      // The driver took every one, rejected it before the device saw it, and said why.
      const s0 = (k: string) => c[`${DRV}.sessions.0.${k}`]!;
      expect(s0('rxRejected') + s0('txRejected')).toBe(written);
      expect(s0('foreignDataspace') + s0('outOfRange') + s0('badLength')).toBe(written);
      expect(s0('foreignDataspace')).toBeGreaterThan(0);
      expect(s0('outOfRange')).toBeGreaterThan(0);
      expect(s0('badLength')).toBeGreaterThan(0);
      // The honest session's counters are clean.
      for (const k of ['rxRejected', 'txRejected', 'foreignDataspace', 'outOfRange', 'badLength'])
        expect(c[`${DRV}.sessions.1.${k}`], k).toBe(0);
      // The rejected descriptors came back to the hostile client, which dropped them.
      expect(c['stack0.0.session.corrupt']).toBe(written);
      expect(c['stack1.0.session.corrupt']).toBe(0);
      // Nothing valid lost, on either NIC.
      expect(sends(results.nic1!)).toBeGreaterThan(0);
      expect(lost(results.nic1!)).toBe(0);
      expect(lost(results.nic0!)).toBe(0);
      expect(bad(results.nic0!) + bad(results.nic1!)).toBe(0);
    } finally {
      await built.stop();
    }
  }, 90_000);
  it('a driver writing garbage into its clients\u2019 return rings: counted and dropped by every client, nothing valid lost', async () => {
    const { built, results } = await runHostileThreads(
      { driver: { startSeconds: 0.3, everySeconds: 0.05, acts: 20, garbage: 8 } },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      const written = c[`${DRV}.hostile.garbageWritten`]!;
      console.log(
        'threads hostile driver (garbage):',
        JSON.stringify({
          written,
          corrupt: [c['stack0.0.session.corrupt'], c['stack1.0.session.corrupt']],
          nic0: { sends: sends(results.nic0!), lost: lost(results.nic0!) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
          restarts: c['supervisor.driversRestarted'],
        }),
      );
      expect(written).toBeGreaterThan(100);
      expect(c['stack0.0.session.corrupt']! + c['stack1.0.session.corrupt']!).toBe(written);
      expect(c['stack0.0.session.corrupt']).toBeGreaterThan(0);
      expect(c['stack1.0.session.corrupt']).toBeGreaterThan(0);
      expect(c['supervisor.driversRestarted']).toBe(0);
      expect(lost(results.nic0!) + lost(results.nic1!)).toBe(0);
      expect(bad(results.nic0!) + bad(results.nic1!)).toBe(0);
    } finally {
      await built.stop();
    }
  }, 90_000);

  it('a client flooding its driver with wake-ups: counted on its session, the other session loses nothing', async () => {
    const { built, results } = await runHostileThreads(
      {
        stack: {
          startSeconds: 0.3,
          everySeconds: 0.5,
          acts: 2,
          flood: { burst: 4, periodSeconds: 1e-4 },
        },
      },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      const delivered = c['stack0.hostile.floodDelivered']!;
      console.log(
        'threads hostile client (flood):',
        JSON.stringify({
          sent: c['stack0.hostile.floodSent'],
          delivered,
          notifications: [
            c[`${DRV}.sessions.0.notifications`],
            c[`${DRV}.sessions.1.notifications`],
          ],
          idleWakeups: c[`${DRV}.idleWakeups`],
          nic0: { sends: sends(results.nic0!), lost: lost(results.nic0!) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
        }),
      );
      expect(delivered).toBeGreaterThan(100);
      expect(c[`${DRV}.sessions.0.notifications`]).toBeGreaterThanOrEqual(delivered);
      expect(c['supervisor.driversRestarted']).toBe(0);
      expect(lost(results.nic1!)).toBe(0);
      expect(bad(results.nic0!) + bad(results.nic1!)).toBe(0);
    } finally {
      await built.stop();
    }
  }, 90_000);
  it('a client corrupting its ring indices for a while: every corrupt read counted on its own session; the other session loses nothing; its own frames flow again once restored', async () => {
    const { built, results } = await runHostileThreads(
      { stack: { startSeconds: 0.3, everySeconds: 0.3, acts: 3, glitchSeconds: 0.05 } },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      const nic0 = results.nic0!;
      console.log(
        'threads hostile client (ring indices):',
        JSON.stringify({
          glitches: c['stack0.hostile.glitches'],
          corruptReads: [c[`${DRV}.sessions.0.corruptReads`], c[`${DRV}.sessions.1.corruptReads`]],
          nic0: { sends: sends(nic0), lost: lost(nic0) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
          restarts: c['supervisor.driversRestarted'],
        }),
      );
      expect(c['stack0.hostile.glitches']).toBe(3);
      expect(c[`${DRV}.sessions.0.corruptReads`]).toBeGreaterThan(0);
      expect(c[`${DRV}.sessions.1.corruptReads`]).toBe(0);
      expect(c[`${DRV}.sessionCorruptions`]).toBe(c[`${DRV}.sessions.0.corruptReads`]);
      expect(lost(results.nic1!)).toBe(0);
      // the hostile client hurt itself while its indices were garbage (3 × 50 ms), and only then
      expect(lost(nic0)).toBeLessThan(0.3 * sends(nic0));
      expect(c['stack0.0.session.rxFrames']).toBeGreaterThan(0.7 * sends(nic0));
    } finally {
      await built.stop();
    }
  }, 90_000);

  it('a client writing random words over its whole session region: no exception escapes, counted on its session, the other session loses nothing', async () => {
    const { built, results } = await runHostileThreads(
      { stack: { startSeconds: 0.3, everySeconds: 0.2, acts: 5, scribble: true } },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      const s0 = (k: string) => c[`${DRV}.sessions.0.${k}`]!;
      const s1 = (k: string) => c[`${DRV}.sessions.1.${k}`]!;
      console.log(
        'threads hostile client (scribble):',
        JSON.stringify({
          words: c['stack0.hostile.wordsScribbled'],
          session0: [s0('corruptReads'), s0('rxRejected'), s0('txRejected')],
          nic0: { sends: sends(results.nic0!), lost: lost(results.nic0!) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
          restarts: c['supervisor.driversRestarted'],
        }),
      );
      expect(c['stack0.hostile.wordsScribbled']).toBeGreaterThan(1000);
      expect(s0('corruptReads') + s0('rxRejected') + s0('txRejected')).toBeGreaterThan(0);
      for (const k of ['corruptReads', 'rxRejected', 'txRejected']) expect(s1(k), k).toBe(0);
      expect(c['stack1.0.session.corrupt']).toBe(0);
      expect(lost(results.nic1!)).toBe(0);
      expect(bad(results.nic1!)).toBe(0);
    } finally {
      await built.stop();
    }
  }, 90_000);
  it('a client writing "awake" into its idle driver\u2019s bit: the supervisor probes instead of restarting, and the other session is served', async () => {
    const p = hostilePlan();
    const built = realizeThreads(
      {
        ...p,
        // a 200 ms heartbeat: several checks in the run, and time for the driver to answer
        components: p.components.map((c) =>
          c.kind === 'dp83820-driver' ? { ...c, heartbeatSeconds: 0.2 } : c,
        ),
      },
      {
        wire: { kind: 'load', via: 'in-process' },
        substitute: hostileSubstitute({
          stack: { startSeconds: 0.3, everySeconds: 0.05, acts: 30, fakeAwake: true },
        }),
      },
    );
    try {
      await startThreadsSystem(built);
      await primeThreadsSystem(built);
      // No load: the driver sleeps, and its bit says it is awake with nothing moving.
      const end = performance.now() + 60_000;
      while ((built.counters()['stack0.hostile.fakedAwake'] ?? 0) < 30) {
        if (performance.now() > end) throw new Error('the hostile client did not finish');
        await new Promise((r) => setTimeout(r, 20));
      }
      const c = built.counters();
      console.log(
        'threads hostile client (fake awake):',
        JSON.stringify({
          fakedAwake: c['stack0.hostile.fakedAwake'],
          heartbeatChecks: c['supervisor.heartbeatChecks'],
          probesAnswered: c['supervisor.probesAnswered'],
          hangsDetected: c['supervisor.hangsDetected'],
        }),
      );
      expect(built.engine.failures).toEqual([]);
      expect(c['supervisor.hangsDetected']).toBe(0);
      expect(c['supervisor.driversRestarted']).toBe(0);
      expect(c['supervisor.probesAnswered']).toBeGreaterThan(0);
      // the honest session still echoes
      const nic1 = built.clients.slice(built.plan.devices[0]!.clients.length);
      const rs = await Promise.all(
        nic1.map((x) =>
          x.start({
            rateMbps: 0.5,
            packetSize: 256,
            warmupS: 0.05,
            durationS: 0.5,
            cooldownS: 0.3,
          }),
        ),
      );
      expect(sends(rs)).toBeGreaterThan(0);
      expect(lost(rs)).toBe(0);
    } finally {
      await built.stop();
    }
  }, 90_000);
  it('a driver corrupting its ring indices for a while: counted by every client, nothing valid lost once restored', async () => {
    // The flood wakes the clients while the indices are garbage, so they read them.
    const { built, results } = await runHostileThreads(
      {
        driver: {
          startSeconds: 0.3,
          everySeconds: 0.3,
          acts: 3,
          glitchSeconds: 0.05,
          flood: { burst: 1, periodSeconds: 1e-3 },
        },
      },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      console.log(
        'threads hostile driver (ring indices):',
        JSON.stringify({
          glitches: c[`${DRV}.hostile.glitches`],
          corruptions: [
            c['stack0.0.session.sessionCorruptions'],
            c['stack1.0.session.sessionCorruptions'],
          ],
          nic0: { sends: sends(results.nic0!), lost: lost(results.nic0!) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
          restarts: c['supervisor.driversRestarted'],
        }),
      );
      expect(c[`${DRV}.hostile.glitches`]).toBe(3);
      expect(c['stack0.0.session.sessionCorruptions']).toBeGreaterThan(0);
      expect(c['stack1.0.session.sessionCorruptions']).toBeGreaterThan(0);
      for (const nic of ['nic0', 'nic1']) {
        const rs = results[nic]!;
        expect(lost(rs), nic).toBeLessThan(0.3 * sends(rs));
      }
    } finally {
      await built.stop();
    }
  }, 90_000);

  it('a driver flooding its clients with wake-ups: counted as idle wake-ups by them, nothing valid lost', async () => {
    const { built, results } = await runHostileThreads(
      {
        driver: {
          startSeconds: 0.3,
          everySeconds: 0.5,
          acts: 2,
          flood: { burst: 4, periodSeconds: 1e-4 },
        },
      },
      1.5,
    );
    try {
      const c = built.counters();
      expect(built.engine.failures).toEqual([]);
      expect(built.engine.supervisedFailures).toEqual([]);
      const delivered = c[`${DRV}.hostile.floodDelivered`]!;
      const idle = c['stack0.thread.idleWakeups']! + c['stack1.thread.idleWakeups']!;
      console.log(
        'threads hostile driver (flood):',
        JSON.stringify({
          sent: c[`${DRV}.hostile.floodSent`],
          delivered,
          idleWakeups: idle,
          nic0: { sends: sends(results.nic0!), lost: lost(results.nic0!) },
          nic1: { sends: sends(results.nic1!), lost: lost(results.nic1!) },
        }),
      );
      expect(delivered).toBeGreaterThan(100);
      expect(idle).toBeGreaterThan(delivered / 2);
      expect(c['supervisor.driversRestarted']).toBe(0);
      expect(lost(results.nic0!) + lost(results.nic1!)).toBe(0);
    } finally {
      await built.stop();
    }
  }, 90_000);
});
