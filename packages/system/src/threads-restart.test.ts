// Driver restart on the threads engine (issue 18): the same recovery as on the sim, with real
// workers — a driver killed with worker.terminate() or hung under an echo load is restarted
// with the same thread id, and its client keeps its state. No timed assertions: the figures
// are printed (docs/restart.md, "On the threads engine").
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem } from './load.js';
import { plan } from './plan.js';
import { realizeThreads, type ThreadsSystem } from './realize-threads.js';
import { ThreadCpuMeter } from './threads-cpu.js';
import { driversRestartable, THREADS_MIN_HEARTBEAT_SECONDS } from './threads-restart.js';
import { faultUnderLoad } from './threads-restart-measure.js';
import { primeThreadsSystem, startThreadsSystem } from './threads-runner.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const system = (name: string) => plan(loadSystem(resolve(apps, name, 'system.yaml')));

/**
 * The plan with a long pin-time quota: on threads the quota is real time, and an idle NIC keeps
 * its posted receive buffers pinned, so the default 1 s would have the manager disable (and the
 * supervisor restart) an idle driver between the test's phases.
 */
function longQuota(name: string, heartbeatSeconds?: number) {
  const p = system(name);
  return {
    ...p,
    components: p.components.map((c) =>
      c.kind === 'dataspace-manager'
        ? { ...c, maxPinSeconds: 600 }
        : c.kind === 'dp83820-driver' && heartbeatSeconds !== undefined
          ? { ...c, heartbeatSeconds }
          : c,
    ),
  };
}

/** Wait (real time) until the system is quiet: no change of `key` for a while. */
async function settle(built: ThreadsSystem, key: string, quietMs = 300): Promise<number> {
  let last = built.counters()[key];
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = built.counters()[key];
    if (now === last) return now ?? 0;
    last = now;
  }
}

/**
 * A started, primed system. `heartbeatSeconds`: the drivers' check period — the kill tests use
 * a long one, so that a worker the (loaded) machine leaves unscheduled for a while is not also
 * restarted as hung (see THREADS_MIN_HEARTBEAT_SECONDS).
 */
/** Wait (real time, generously) until the supervisor's `n`th restart has its fresh worker running. */
async function restarted(built: ThreadsSystem, n: number): Promise<void> {
  const until = performance.now() + 60_000;
  while (built.restart!.restarter.stats.restarted < n) {
    if (performance.now() > until) throw new Error('the fresh driver worker did not start');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A light load after the restart (as realize-threads' echo tests): every probe comes back. */
async function echoesAfter(built: ThreadsSystem): Promise<void> {
  const results = await Promise.all(
    built.clients.map((c) =>
      c.start({ rateMbps: 0.5, packetSize: 256, warmupS: 0.05, durationS: 0.5, cooldownS: 0.3 }),
    ),
  );
  for (const r of results) {
    expect(r.recvs).toBeGreaterThan(5);
    expect(r.lost, 'every probe after the restart came back').toBe(0);
  }
}

async function started(name: string, heartbeatSeconds?: number): Promise<ThreadsSystem> {
  const built = realizeThreads(longQuota(name, heartbeatSeconds), {
    wire: { kind: 'load', via: 'in-process' },
  });
  await startThreadsSystem(built);
  await primeThreadsSystem(built);
  return built;
}

describe('driver restart on the threads engine (issue 18)', () => {
  it('isolated and clustered restart their drivers; embedded (driver and stack in one worker) does not', () => {
    expect(driversRestartable(system('isolated'))).toBe(true);
    expect(driversRestartable(system('clustered'))).toBe(true);
    expect(driversRestartable(system('embedded'))).toBe(false);
    const embedded = realizeThreads(system('embedded'));
    expect(embedded.restart).toBe(null);
    expect(realizeThreads(system('isolated')).restart).not.toBe(null);
    expect(realizeThreads(system('isolated'), { restart: false }).restart).toBe(null);
  });

  it('a driver killed with worker.terminate() under an echo load is restarted with the same thread id; the stack keeps its ARP entry, session and counters; no pin leaks', async () => {
    const built = await started('isolated', 5);
    try {
      const { engine } = built;
      const driver = built.restart!.drivers[0]!;
      const name = engine.threadInfo(driver)!.name;
      const free = await settle(built, 'manager.freeFrames');
      const before = built.counters();
      expect(before['stack0.0.arpOut']).toBeGreaterThan(0);
      // CPU per domain across the restart: a meter window open over it, the driver's old worker
      const meter = new ThreadCpuMeter(built.cpu);
      const space = built.plan.components.find((c) => c.kind === 'dp83820-driver')!.space;
      const oldTid = built.threadIds()[space]!;
      const ranBefore = built.cpu.runNs(space);
      meter.start();
      const { record } = await faultUnderLoad(built, { kind: 'kill', rateMbps: 0.5 });
      console.log('threads restart (kill, isolated):', JSON.stringify(record));
      await restarted(built, 1);
      await echoesAfter(built);
      const cpu = meter.stop();
      const after = built.counters();
      if (process.platform === 'linux') {
        // the meter follows the fresh worker: a live thread of this process, not the dead one
        const newTid = built.threadIds()[space]!;
        expect(newTid).not.toBe(oldTid);
        expect(existsSync(`/proc/self/task/${newTid}`)).toBe(true);
        expect(existsSync(`/proc/self/task/${oldTid}`)).toBe(false);
        expect(built.restart!.restarter.stats.workersFollowed).toBe(1);
        // and the domain's total kept the dead worker's time: it never dropped
        const ranAfter = built.cpu.runNs(space)!;
        expect(ranAfter).toBeGreaterThan(ranBefore!);
        expect(cpu.perThread?.[space]).toBeGreaterThan(0);
        console.log(
          `driver domain CPU: ${(ranBefore! / 1e6).toFixed(1)} ms before (tid ${oldTid}), ${(ranAfter / 1e6).toFixed(1)} ms after (tid ${newTid}); window share ${cpu.perThread?.[space]?.toFixed(4)}`,
        );
      }
      // detected by the engine's exit notice; the run went on
      expect(engine.failures).toEqual([]);
      expect(engine.supervisedFailures.length).toBe(1);
      expect(after['supervisor.exitsNotified']).toBe(1);
      expect(after['supervisor.driversRestarted']).toBe(1);
      expect(built.restart!.records().map((r) => [r.thread, r.cause])).toEqual([
        [driver, 'failed'],
      ]);
      // the same thread id, alive in a fresh worker
      expect(engine.threadInfo(driver)!.name).toBe(name);
      expect(engine.threadInfo(driver)!.state).not.toBe('dead');
      expect(engine.restartStats.threadsRestarted).toBe(1);
      // the NIC was reset and the manager recovered what the dead driver had pinned
      expect(after['supervisor.devicesReset']).toBe(1);
      expect(after['manager.pinsRecovered']).toBe(after['supervisor.pinsRecovered']);
      expect(after['manager.pinsRecovered']).toBeGreaterThan(0);
      // the client saw one new epoch, took back what the driver held, and carries on
      expect(after['stack0.0.session.restarts']).toBe(1);
      expect(after['stack0.0.session.corrupt']).toBe(0);
      // its ARP cache survived (no new resolution); its counters went on from where they were
      expect(after['stack0.0.arpOut']).toBe(before['stack0.0.arpOut']);
      for (const k of Object.keys(before)) {
        if (k.startsWith('stack0.0.') && k.endsWith('Received'))
          expect(after[k]!, k).toBeGreaterThanOrEqual(before[k]!);
      }
      // no leaked pin: once quiet, the manager has as many free frames as before the fault
      expect(await settle(built, 'manager.freeFrames')).toBe(free);
      expect(built.restart!.restarter.errors).toEqual([]);
    } finally {
      await built.stop();
    }
  }, 90_000);

  it('a hung driver (its heartbeat stops) is detected and restarted; the load carries on', async () => {
    // a 0.5 s period: a worker the loaded machine leaves unscheduled that long is rare
    const built = await started('isolated', 0.5);
    try {
      const { record } = await faultUnderLoad(built, {
        kind: 'hang',
        rateMbps: 0.5,
        durationS: 3,
      });
      console.log('threads restart (hang, isolated):', JSON.stringify(record));
      await restarted(built, built.restart!.records().length);
      await echoesAfter(built);
      const c = built.counters();
      // (on a loaded machine the supervisor may also have found a driver the OS left
      // unscheduled for two periods hung: every restart is a hang's)
      const n = built.restart!.records().length;
      expect(c['supervisor.hangsDetected']).toBe(n);
      expect(c['supervisor.exitsNotified']).toBe(0);
      expect(c['supervisor.driversRestarted']).toBe(n);
      expect(c['stack0.0.session.restarts']).toBe(n);
      expect(built.restart!.records().map((x) => x.cause)).toEqual(Array(n).fill('hung'));
      expect(built.engine.restartStats.workersTerminated).toBe(n);
      expect(built.engine.failures).toEqual([]);
      // detected after at least one heartbeat period (never before the driver could have beaten)
      const heartbeat = built.plan.components.find((x) => x.kind === 'dp83820-driver');
      const period = heartbeat?.kind === 'dp83820-driver' ? heartbeat.heartbeatSeconds : 0;
      expect(record.detectSeconds).toBeGreaterThan(
        0.9 * Math.max(THREADS_MIN_HEARTBEAT_SECONDS, period),
      );
    } finally {
      await built.stop();
    }
  }, 90_000);

  it('a clustered driver serving two sessions: killed, restarted once, both sessions get the new epoch and carry on', async () => {
    const built = await started('clustered', 5);
    try {
      const { record } = await faultUnderLoad(built, { kind: 'kill', rateMbps: 0.5 });
      console.log('threads restart (kill, clustered):', JSON.stringify(record));
      await restarted(built, 1);
      await echoesAfter(built);
      const c = built.counters();
      expect(c['supervisor.driversRestarted']).toBe(1);
      const restarts = Object.entries(c).filter(([key]) => key.endsWith('.session.restarts'));
      expect(restarts.length).toBe(2);
      for (const [, n] of restarts) expect(n).toBe(1);
      const tx = Object.entries(c).filter(([key]) => /^nic\d\.txSent$/.test(key));
      expect(tx.length).toBe(2);
      expect(built.engine.failures).toEqual([]);
    } finally {
      await built.stop();
    }
  }, 90_000);
});
