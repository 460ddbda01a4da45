/**
 * One driver fault under an echo load on the threads engine, measured in real time: the
 * threads counterpart of one `udf chaos` record. The load runs from the system's ipbench
 * clients; at `faultAtS` into it the driver's worker is killed (`worker.terminate()`, a crash:
 * the supervisor gets the exit notice) or hung (its scheduler blocks for good: only the
 * heartbeat tells); the main thread then watches, at event-loop granularity (about a
 * millisecond), for the supervisor's restart record, the fresh worker and the first echo frame
 * leaving the NIC again.
 *
 * @module
 */
import type { ClientResult } from '@udf/ipbench';
import { AssemblyError } from './errors.js';
import { loadSystem } from './load.js';
import { plan, type SystemPlan } from './plan.js';
import { realizeThreads, type ThreadsSystem } from './realize-threads.js';
import { primeThreadsSystem, startThreadsSystem } from './threads-runner.js';

/** Options of {@link faultUnderLoad}. */
export interface ThreadsFaultOptions {
  /** `kill`: terminate the driver's worker (a crash); `hang`: block it for good. */
  readonly kind: 'kill' | 'hang';
  /** Offered load per client, Mb/s (default 2). */
  readonly rateMbps?: number;
  /** Probe size in bytes (default 256). */
  readonly packetSize?: number;
  /** Length of the measured load, seconds (default 2). */
  readonly durationS?: number;
  /** When the fault is injected, seconds into the load (default 0.6). */
  readonly faultAtS?: number;
  /** Which supervised driver (index into `system.restart.drivers`, default 0). */
  readonly driver?: number;
}

/** What {@link faultUnderLoad} measured. */
export interface ThreadsFaultRecord {
  /** The fault injected. */
  readonly kind: 'kill' | 'hang';
  /** The offered load per client, Mb/s. */
  readonly rateMbps: number;
  /** From the fault to the supervisor's detection (its restart record), seconds. */
  readonly detectSeconds: number;
  /** From the detection to the fresh driver worker running, seconds. */
  readonly restartSeconds: number;
  /** From the fault to the first echo leaving the NIC after the restart, seconds. */
  readonly outageSeconds: number;
  /**
   * From the fault until echoes leave the NICs at 90 % of the offered rate again (over 50 ms),
   * seconds: a fresh worker's code starts cold (V8 compiles it again), so the first echo is not
   * yet full service. NaN if that did not happen before the load ended.
   */
  readonly recoveredSeconds: number;
  /** Probes the clients sent in the measured window. */
  readonly sent: number;
  /** Of those, never echoed. */
  readonly lostPackets: number;
  /** The losses as seconds of the offered load (`lostPackets` / offered probes per second). */
  readonly lostLoadSeconds: number;
  /**
   * Restarts in the run other than the one the fault caused: a driver the supervisor found
   * hung without a fault (its heartbeat stood still for two periods while work was pending —
   * on a machine with fewer CPUs than busy threads, a worker the OS did not schedule for that
   * long).
   */
  readonly spuriousRestarts: number;
  /**
   * Probes lost in a run of the same load on the same system just before, without a fault
   * ({@link threadsRestartRuns} only; NaN otherwise): what the load loses anyway.
   */
  readonly baselineLost: number;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Sum of the echo frames that have left every NIC (the wire links' receive counters). */
function echoesOut(system: ThreadsSystem): number {
  let n = 0;
  for (const [k, v] of Object.entries(system.counters())) {
    if (k.endsWith('.link.received')) n += v;
  }
  return n;
}

/**
 * Run the system's clients for `durationS` with one driver fault at `faultAtS` (see the module
 * comment). The system must be started and primed (ARP resolved), and restartable
 * (`system.restart` not null).
 *
 * @throws AssemblyError if the system cannot restart drivers or no restart happened by the end
 */
export async function faultUnderLoad(
  system: ThreadsSystem,
  options: ThreadsFaultOptions,
): Promise<{ record: ThreadsFaultRecord; results: ClientResult[] }> {
  const restart = system.restart;
  if (restart === null) throw new AssemblyError('this placement does not restart its drivers');
  const driver = restart.drivers[options.driver ?? 0];
  if (driver === undefined) throw new AssemblyError(`no supervised driver ${options.driver}`);
  const rateMbps = options.rateMbps ?? 2;
  const durationS = options.durationS ?? 2;
  const faultAtS = options.faultAtS ?? 0.6;
  const packetSize = options.packetSize ?? 256;
  // probes per second offered by all clients (each a UDP payload of packetSize)
  const offeredPps = (system.clients.length * rateMbps * 1e6) / (8 * packetSize);
  const { engine } = system;
  const hz = engine.hz;
  const runs = Promise.all(
    system.clients.map((c) =>
      c.start({
        rateMbps,
        packetSize,
        warmupS: 0,
        durationS,
        cooldownS: 0.3,
      }),
    ),
  );
  const recordsAtStart = restart.records().length;
  await new Promise((r) => setTimeout(r, faultAtS * 1000));
  const records = restart.records().length;
  const restarted = restart.restarter.stats.restarted;
  const faultAt = engine.now();
  const faultMs = performance.now();
  if (options.kind === 'kill') void engine.killWorker(driver);
  else engine.injectHang(driver);
  let runningMs = Number.NaN;
  let outageMs = Number.NaN;
  let recoveredMs = Number.NaN;
  let echoes = -1;
  const samples: { t: number; n: number }[] = [];
  const windowMs = 50;
  const limitMs = faultMs + (durationS - faultAtS) * 1000;
  while (performance.now() < limitMs && Number.isNaN(recoveredMs)) {
    await tick();
    if (restart.records().length === records) continue;
    if (Number.isNaN(runningMs)) {
      if (restart.restarter.stats.restarted === restarted) continue;
      runningMs = performance.now();
      echoes = echoesOut(system);
      continue;
    }
    const t = performance.now();
    const n = echoesOut(system);
    if (Number.isNaN(outageMs)) {
      if (n > echoes) outageMs = t;
      else continue;
    }
    samples.push({ t, n });
    while (samples.length > 1 && samples[0]!.t < t - windowMs) samples.shift();
    const first = samples[0]!;
    if (t - first.t >= 0.8 * windowMs && n - first.n >= (0.9 * offeredPps * (t - first.t)) / 1000)
      recoveredMs = first.t;
  }
  const results = await runs;
  const rec = restart.records()[records];
  if (rec === undefined) throw new AssemblyError('the driver was not restarted');
  const detectSeconds = (rec.detectedAt - faultAt) / hz;
  const lost = results.reduce((n, r) => n + r.lost, 0);
  return {
    record: {
      kind: options.kind,
      rateMbps,
      detectSeconds,
      restartSeconds: (runningMs - faultMs) / 1000 - detectSeconds,
      outageSeconds: (outageMs - faultMs) / 1000,
      recoveredSeconds: (recoveredMs - faultMs) / 1000,
      sent: results.reduce((n, r) => n + r.sends, 0),
      lostPackets: lost,
      lostLoadSeconds: lost / offeredPps,
      spuriousRestarts: restart.records().length - recordsAtStart - 1,
      baselineLost: Number.NaN,
    },
    results,
  };
}

/** Options of {@link threadsRestartRuns}. */
export interface ThreadsRestartRunsOptions extends Omit<ThreadsFaultOptions, 'driver'> {
  /** Path of the system description (`system.yaml`): a placement with restartable drivers. */
  readonly system: string;
  /** How many systems to build, each measured once (default 3). */
  readonly runs?: number;
}

/**
 * Measure {@link faultUnderLoad} on `runs` fresh systems from one description: each is started
 * on the in-process wire, primed (ARP, then one second of the load to compile the packet path),
 * run for three seconds without a fault (the baseline), then faulted once after one second of
 * load (three seconds measured) and stopped. The manager's
 * pin-time quota is raised to ten minutes (on threads it is real time, and an idle NIC's posted
 * buffers stay pinned). The records of `docs/restart.md`, "On the threads engine".
 */
export async function threadsRestartRuns(
  options: ThreadsRestartRunsOptions,
): Promise<ThreadsFaultRecord[]> {
  const out: ThreadsFaultRecord[] = [];
  const rateMbps = options.rateMbps ?? 2;
  for (let i = 0; i < (options.runs ?? 3); i++) {
    const p = plan(loadSystem(options.system));
    const long: SystemPlan = {
      ...p,
      components: p.components.map((c) =>
        c.kind === 'dataspace-manager' ? { ...c, maxPinSeconds: 600 } : c,
      ),
    };
    const built = realizeThreads(long, { wire: { kind: 'load', via: 'in-process' } });
    try {
      await startThreadsSystem(built);
      await primeThreadsSystem(built, {
        warmSeconds: 1,
        rateMbps,
        packetSize: options.packetSize ?? 256,
      });
      // the same load without a fault first: what it loses anyway
      const baseline = await Promise.all(
        built.clients.map((c) =>
          c.start({
            rateMbps,
            packetSize: options.packetSize ?? 256,
            warmupS: 0,
            durationS: 3,
            cooldownS: 0.3,
          }),
        ),
      );
      const { record } = await faultUnderLoad(built, {
        durationS: 3,
        faultAtS: 1,
        ...options,
        rateMbps,
      });
      out.push({ ...record, baselineLost: baseline.reduce((n, r) => n + r.lost, 0) });
    } finally {
      await built.stop();
    }
  }
  return out;
}
