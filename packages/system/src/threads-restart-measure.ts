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
import type { ThreadsSystem } from './realize-threads.js';

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
  /** Probes the clients sent in the measured window. */
  readonly sent: number;
  /** Of those, never echoed. */
  readonly lostPackets: number;
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
  const { engine } = system;
  const hz = engine.hz;
  const runs = Promise.all(
    system.clients.map((c) =>
      c.start({
        rateMbps,
        packetSize: options.packetSize ?? 256,
        warmupS: 0,
        durationS,
        cooldownS: 0.3,
      }),
    ),
  );
  const records = restart.records().length;
  const restarted = restart.restarter.stats.restarted;
  await new Promise((r) => setTimeout(r, faultAtS * 1000));
  const faultAt = engine.now();
  const faultMs = performance.now();
  if (options.kind === 'kill') void engine.killWorker(driver);
  else engine.injectHang(driver);
  let runningMs = Number.NaN;
  let outageMs = Number.NaN;
  let echoes = -1;
  const limitMs = faultMs + (durationS - faultAtS) * 1000;
  while (performance.now() < limitMs && Number.isNaN(outageMs)) {
    await tick();
    if (restart.records().length === records) continue;
    if (Number.isNaN(runningMs)) {
      if (restart.restarter.stats.restarted === restarted) continue;
      runningMs = performance.now();
      echoes = echoesOut(system);
      continue;
    }
    if (echoesOut(system) > echoes) outageMs = performance.now();
  }
  const results = await runs;
  const rec = restart.records()[records];
  if (rec === undefined) throw new AssemblyError('the driver was not restarted');
  const detectSeconds = (rec.detectedAt - faultAt) / hz;
  return {
    record: {
      kind: options.kind,
      rateMbps,
      detectSeconds,
      restartSeconds: (runningMs - faultMs) / 1000 - detectSeconds,
      outageSeconds: (outageMs - faultMs) / 1000,
      sent: results.reduce((n, r) => n + r.sends, 0),
      lostPackets: results.reduce((n, r) => n + r.lost, 0),
    },
    results,
  };
}
