import type { Clock, Scheduled } from './clock.js';
import type { CpuReading, TargetCpuMeter } from './cpu/meter.js';
import { checkNumber, IpbenchError } from './errors.js';
import { type ClientResult, type LoadClient, RUN_DEFAULTS } from './load.js';
import {
  type IpbenchRttStats,
  ipbenchRttStats,
  poolSamples,
  type RttStats,
  rttStats,
} from './stats.js';

/** The paper-style ramp of total offered load in Mb/s: 10, 20, 50, 100, 200, 300, …, 1000. */
export const DEFAULT_LOADS_MBPS: readonly number[] = Object.freeze([
  10, 20, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
]);

/** One client's numbers in a step (its RTT samples folded into `rtt`). */
export type ClientSummary = Omit<ClientResult, 'rttUs'> & {
  /** This client's RTT statistics (µs). */
  rtt: RttStats;
};

/** The result of one offered-load level, summed over clients like ipbench's `latency_output`. */
export interface RampStep {
  /** Total offered load in Mb/s (the ramp level). */
  offeredMbps: number;
  /** Σ requested bits/s. */
  requestedBps: number;
  /** Σ achieved bits/s. */
  achievedBps: number;
  /** Σ sent bits/s. */
  sentBps: number;
  /** UDP payload bytes per packet. */
  size: number;
  /** RTT statistics over every client's samples pooled (µs). */
  rtt: RttStats;
  /** Σ bad packets. */
  bad: number;
  /** Σ lost packets. */
  lost: number;
  /** Σ late echoes. */
  late: number;
  /** Σ packets sent in the window. */
  sends: number;
  /** Σ echoes received in the window. */
  recvs: number;
  /** Target CPU over the measurement window, if a meter was given. */
  cpu?: CpuReading;
  /** Per-client detail. */
  clients: ClientSummary[];
  /**
   * RTT statistics as the original ipbench controller computes them (integer µs, integer
   * variance), for {@link toIpbenchOutput}.
   */
  ipbenchRtt: IpbenchRttStats;
  /** Why this step failed (a client or the CPU meter); its numbers are then partial or zero. */
  error?: string;
}

/** A finished ramp for one configuration. */
export interface RampResult {
  /** Configuration name (e.g. `Prime 100us`). */
  label: string;
  /** Number of clients. */
  clients: number;
  /** UDP payload bytes per packet. */
  packetSize: number;
  /** One entry per offered-load level, in ramp order. */
  steps: RampStep[];
}

/** Options of a {@link Ramp}. */
export interface RampOptions {
  /** The clock the clients pace on (schedules the CPU meter's window). */
  clock: Clock;
  /** The load clients; each offers `load / clients.length`. The paper used four. */
  clients: readonly LoadClient[];
  /** Total offered loads in Mb/s. Default {@link DEFAULT_LOADS_MBPS}. */
  loadsMbps?: readonly number[];
  /** UDP payload bytes (default 1024, the paper's). */
  packetSize?: number;
  /** Warm-up seconds per step. */
  warmupS?: number;
  /** Measurement seconds per step. */
  durationS?: number;
  /** Cool-down seconds per step. */
  cooldownS?: number;
  /** End each step's measurement after this many echoes per client (ipbench `samples`). */
  samples?: number;
  /** The target's CPU meter; its window is the measurement window. */
  cpuMeter?: TargetCpuMeter;
  /** Configuration name for reports and charts. Default `udf`. */
  label?: string;
  /**
   * Advances a virtual clock until `isDone()` (the sim engine: run the machine's event loop).
   * Omit for real time.
   */
  drive?: (isDone: () => boolean) => void | Promise<void>;
  /** Called after each step, e.g. to advance a progress bar. */
  onStep?: (step: RampStep, index: number, total: number) => void;
  /** Stop the ramp after the first failed step (default: record it as a failed row, go on). */
  stopOnError?: boolean;
}

/**
 * The controller: runs every client at each offered load in turn, measures the target's CPU
 * over the measurement window and reports per step.
 *
 * @example
 * ```ts
 * const ramp = new Ramp({ clock, clients, cpuMeter, drive: (done) => clock.runUntil(done),
 *   onStep: (s, i, n) => console.log(`${i + 1}/${n}`, s.offeredMbps, s.achievedBps / 1e6) });
 * const result = await ramp.run();
 * ```
 */
export class Ramp {
  readonly #o: RampOptions;

  /** @param options - clients, clock, loads and run settings */
  constructor(options: RampOptions) {
    if (options.clients.length === 0) {
      throw new IpbenchError('IPBENCH_BAD_CONFIG', 'a ramp needs at least one client');
    }
    for (const l of options.loadsMbps ?? []) {
      checkNumber('loadsMbps[]', l, (v) => v > 0, 'a positive number');
    }
    this.#o = options;
  }

  /** Runs every step in order. */
  async run(): Promise<RampResult> {
    const loads = this.#o.loadsMbps ?? DEFAULT_LOADS_MBPS;
    const steps: RampStep[] = [];
    for (let i = 0; i < loads.length; i++) {
      let step: RampStep;
      try {
        step = await this.runStep(loads[i]!);
      } catch (e) {
        step = { ...summarise(loads[i]!, []), error: (e as Error).message };
      }
      steps.push(step);
      this.#o.onStep?.(step, i, loads.length);
      if (step.error !== undefined && this.#o.stopOnError) break;
    }
    return {
      label: this.#o.label ?? 'udf',
      clients: this.#o.clients.length,
      packetSize: this.#o.packetSize ?? RUN_DEFAULTS.packetSize,
      steps,
    };
  }

  /** Runs one offered-load level (total Mb/s across clients). */
  async runStep(offeredMbps: number): Promise<RampStep> {
    const o = this.#o;
    const clock = o.clock;
    const warmupS = o.warmupS ?? RUN_DEFAULTS.warmupS;
    const durationS = o.durationS ?? RUN_DEFAULTS.durationS;
    const run = {
      rateMbps: offeredMbps / o.clients.length,
      packetSize: o.packetSize ?? RUN_DEFAULTS.packetSize,
      warmupS,
      durationS,
      cooldownS: o.cooldownS ?? RUN_DEFAULTS.cooldownS,
      ...(o.samples !== undefined ? { samples: o.samples } : {}),
    };
    const meter = o.cpuMeter;
    // Set-up work (a remote target's calibration) happens before the load, outside the window.
    if (meter?.prepare) await meter.prepare();
    const t0 = clock.now();
    // The window the clients really measure (a remote original rounds its warm-up up).
    let windowWarmupS = warmupS;
    let windowS = durationS;
    for (const c of o.clients) {
      const w = c.effectiveWindow?.(run);
      if (w && w.warmupS > windowWarmupS) {
        windowWarmupS = w.warmupS;
        windowS = w.durationS;
      }
    }
    // Call the meter synchronously inside clock events so a virtual clock sees the exact window.
    // Every meter promise gets a handler at once: a failed step must not leave rejections behind.
    let started = false;
    let startPending: Promise<void> | undefined;
    let meterStop: Promise<CpuReading> | undefined;
    const settle = <T>(f: () => T | Promise<T>): Promise<T> => {
      let p: Promise<T>;
      try {
        p = Promise.resolve(f());
      } catch (e) {
        p = Promise.reject(e);
      }
      p.catch(() => {});
      return p;
    };
    const startMeter = (): void => {
      if (!meter || started) return;
      started = true;
      try {
        const r = meter.start();
        if (r instanceof Promise) startPending = settle(() => r);
      } catch (e) {
        startPending = settle(() => Promise.reject(e));
      }
    };
    const stopMeter = (): void => {
      if (!meter || !started || meterStop) return;
      const pending = startPending;
      // A synchronous meter is stopped right here, inside the clock event that ends the window.
      meterStop = pending
        ? settle(() => pending.then(() => meter.stop()))
        : settle(() => meter.stop());
    };
    const timers: Scheduled[] = [];
    if (meter) {
      timers.push(clock.schedule(Math.ceil(t0 + windowWarmupS * clock.hz), startMeter));
      timers.push(clock.schedule(Math.ceil(t0 + (windowWarmupS + windowS) * clock.hz), stopMeter));
    }
    let finished = 0;
    const results = o.clients.map((c) =>
      settle(() => c.start(run)).then((r) => {
        finished++;
        return r;
      }),
    );
    for (const r of results) r.catch(() => {});
    if (o.drive) {
      let failed = false;
      for (const r of results) {
        r.catch(() => {
          failed = true;
        });
      }
      const isDone = (): boolean =>
        failed || (o.clients.every((c) => !c.running) && (!meter || meterStop !== undefined));
      await o.drive(isDone);
    }
    const settled = await Promise.allSettled(results);
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure || finished !== settled.length) {
      // Cancel the meter's window and release it; wait for any call already under way.
      for (const t of timers) t.cancel();
      await Promise.allSettled([startPending, meterStop]);
      meter?.abort?.();
      throw failure
        ? (failure as PromiseRejectedResult).reason
        : new IpbenchError('IPBENCH_PROTOCOL', 'client did not finish');
    }
    const all = settled.map((r) => (r as PromiseFulfilledResult<ClientResult>).value);
    startMeter();
    stopMeter();
    if (!meterStop) return summarise(offeredMbps, all);
    try {
      return summarise(offeredMbps, all, await meterStop);
    } catch (e) {
      meter?.abort?.();
      return { ...summarise(offeredMbps, all), error: `cpu meter: ${(e as Error).message}` };
    }
  }
}

/** Folds client results into one step, as ipbench's `latency_output` does. */
export function summarise(
  offeredMbps: number,
  results: readonly ClientResult[],
  cpu?: CpuReading,
): RampStep {
  const sum = (f: (r: ClientResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const pooled = poolSamples(results.map((r) => r.rttUs));
  const clients: ClientSummary[] = results.map(({ rttUs, ...rest }) => ({
    ...rest,
    rtt: rttStats(rttUs),
  }));
  return {
    offeredMbps,
    requestedBps: sum((r) => r.requestedBps),
    achievedBps: sum((r) => r.achievedBps),
    sentBps: sum((r) => r.sentBps),
    size: results[0]?.size ?? 0,
    rtt: rttStats(pooled),
    bad: sum((r) => r.bad),
    lost: sum((r) => r.lost),
    late: sum((r) => r.late),
    sends: sum((r) => r.sends),
    recvs: sum((r) => r.recvs),
    ...(cpu ? { cpu } : {}),
    clients,
    ipbenchRtt: ipbenchRttStats(pooled),
  };
}
