/**
 * `udf compare --engine threads` and `udf run --engine threads [--wire udp:HOST:PORT]`: the same
 * placements on real worker threads (`@udf/engine-threads`), measured with real load over a UDP
 * wire per NIC. The monolithic baseline is sim-only (see `MONOLITHIC_SIM_ONLY`).
 */
import {
  checkThreadsPlan,
  loadSystem,
  plan,
  realizeThreads,
  runThreadsRamp,
  type StepResult,
  type SystemDescription,
  startThreadsSystem,
  ThreadsPlacementError,
} from '@udf/system';
import { InputError, loadChecked } from './check.js';
import type { StepFailure } from './pool.js';
import { descriptionPath } from './steps.js';

/** The placements `udf compare --engine threads` runs by default. */
export const THREADS_DEFAULT_CONFIGS = ['isolated', 'clustered', 'embedded'] as const;

/** The default ramp on threads, Mb/s per NIC: short, so the default compare takes ≈ 30 s. */
export const THREADS_DEFAULT_LOADS = [20, 100, 200] as const;

/** Default real milliseconds measured per step on threads. */
export const THREADS_DEFAULT_DURATION_MS = 1000;

/** Default real milliseconds of warm-up per step on threads. */
export const THREADS_DEFAULT_WARMUP_MS = 300;

/** A parsed `--wire udp:HOST:PORT`. */
export interface WireOption {
  readonly address: string;
  readonly port: number;
}

/** What `--wire` says: the load's wire (`udp`, `in-process`), or serve on `udp:HOST:PORT`. */
export type WireChoice = { readonly via: 'udp' | 'in-process' } | { readonly serve: WireOption };

/** Parse `--wire`: `udp`, `in-process`, or `udp:HOST:PORT`. */
export function parseWireChoice(text: string): WireChoice {
  const t = text.trim();
  if (t === 'udp' || t === 'in-process') return { via: t };
  return { serve: parseWire(t) };
}

/** Parse `udp:HOST:PORT` (PORT 1-65535; NIC i binds PORT + i). */
export function parseWire(text: string): WireOption {
  const m = /^udp:([^:\s]+):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new InputError([
      `--wire ${JSON.stringify(text)}: expected udp, in-process, or udp:HOST:PORT (e.g. udp:127.0.0.1:5555; PORT 1-65535, NIC i binds PORT + i)`,
    ]);
  }
  return { address: m[1]!, port };
}

/**
 * Refuse what the threads engine cannot run: the monolithic baseline (a kernel domain, the echo
 * behind sockets), as the realiser would (`checkThreadsPlan`), but as bad input before any work.
 */
export function checkThreadsConfig(sys: SystemDescription): void {
  try {
    checkThreadsPlan(plan(sys));
  } catch (e) {
    if (e instanceof ThreadsPlacementError)
      throw new InputError([`--engine threads: ${e.message}`]);
    throw e;
  }
}

/** Options `udf compare`/`run` pass to the threads engine. */
export interface ThreadsRunOptions {
  readonly holdoffs?: readonly number[];
  readonly loads?: readonly number[];
  readonly durationMs?: number;
  readonly warmupMs?: number;
  readonly packetSize?: number;
  /** The load's wire (default the NICs' UDP wires). */
  readonly via?: 'udp' | 'in-process';
  readonly onStep?: (r: StepResult) => void;
}

/**
 * Run every description × hold-off as one ramp on the threads engine, one after the other (each
 * placement gets the machine to itself). A placement that fails is recorded for each of its steps.
 */
export async function runThreadsConfigs(
  files: readonly string[],
  options: ThreadsRunOptions,
): Promise<{ results: StepResult[]; failures: StepFailure[] }> {
  const results: StepResult[] = [];
  const failures: StepFailure[] = [];
  const loads = options.loads ?? THREADS_DEFAULT_LOADS;
  let index = 0;
  for (const file of files) {
    const sys = loadChecked(file);
    checkThreadsConfig(sys);
    for (const holdoffUs of options.holdoffs ?? [sys.nics[0]!.holdoffUs]) {
      const first = index;
      index += loads.length;
      try {
        const rs = await runThreadsRamp(loadSystem(file), {
          loadsMbps: loads,
          holdoffUs,
          durationMs: options.durationMs ?? THREADS_DEFAULT_DURATION_MS,
          warmupMs: options.warmupMs ?? THREADS_DEFAULT_WARMUP_MS,
          ...(options.packetSize !== undefined ? { packetSize: options.packetSize } : {}),
          ...(options.via !== undefined ? { via: options.via } : {}),
          onStep: (r) => options.onStep?.(r),
        });
        results.push(...rs);
      } catch (e) {
        const err = e as Error;
        const line = `${err.name}: ${String(err.message).split('\n')[0]}`;
        loads.forEach((loadMbps, i) => {
          failures.push({ index: first + i, config: sys.name, holdoffUs, loadMbps, error: line });
        });
      }
    }
  }
  return { results, failures };
}

/**
 * `udf run CONFIG --engine threads --wire udp:HOST:PORT`: build the placement, bind NIC i's wire
 * to PORT + i, print where to send frames, and serve until SIGINT/SIGTERM; then print counters.
 */
export async function serveThreads(description: string, wire: WireOption): Promise<void> {
  const sys = loadChecked(descriptionPath(description));
  checkThreadsConfig(sys);
  // An idle NIC keeps its posted receive buffers pinned: the manager allows a driver that many
  // long pins (postedReceivePages), so a server waiting for a user's frames keeps the quota.
  const p = plan(sys);
  const built = realizeThreads(p, { wire: { kind: 'udp', bind: wire } });
  try {
    await startThreadsSystem(built);
  } catch (e) {
    await built.stop();
    throw e;
  }
  const addrs = built.wires();
  console.log(`${sys.name} serving on the threads engine (one Ethernet frame per UDP datagram):`);
  for (const dev of p.devices) {
    const a = addrs[dev.name];
    console.log(
      `  ${dev.name}: udp ${a?.address}:${a?.port}, MAC ${dev.mac}, stack ${dev.targetIps.join(', ')}, UDP echo port ${p.load.echoPort} (ARP and ICMP echo answered)`,
    );
  }
  console.log('press Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  const counters = built.counters();
  await built.stop();
  const interesting = Object.entries(counters).filter(
    ([k, v]) => v !== 0 && /(rx|tx|Frames|drops|icmp|echo)/i.test(k),
  );
  for (const [k, v] of interesting) console.log(`  ${k} ${v}`);
}
