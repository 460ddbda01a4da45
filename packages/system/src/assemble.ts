/**
 * `assemble(description, step)`: plan the description with the step's overrides and build the
 * plan on the sim engine — the one-call form of {@link plan} followed by {@link realizeSim}.
 *
 * @module
 */
import { type PlanOverrides, plan } from './plan.js';
import { type AssembledSystem, type RealizeSimOptions, realizeSim } from './realize-sim.js';
import type { StepOptions } from './result.js';
import type { SystemDescription } from './schema.js';

/** The plan overrides a step's options ask for (only the fields that are set). */
export function stepOverrides(opts: Partial<StepOptions>): PlanOverrides {
  return {
    ...(opts.holdoffUs !== undefined ? { holdoffUs: opts.holdoffUs } : {}),
    ...(opts.ipcScale !== undefined ? { ipcScale: opts.ipcScale } : {}),
    ...(opts.packetSize !== undefined ? { packetSize: opts.packetSize } : {}),
    ...(opts.warmupMs !== undefined ? { warmupMs: opts.warmupMs } : {}),
    ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.bus !== undefined ? { bus: opts.bus } : {}),
  };
}

/** Build the described system on a fresh sim engine for one experiment step. */
export function assemble(
  sys: SystemDescription,
  opts: Partial<StepOptions> = {},
  realize: Omit<RealizeSimOptions, 'calibration'> = {},
): AssembledSystem {
  return realizeSim(plan(sys, stepOverrides(opts)), {
    ...realize,
    ...(opts.calibration !== undefined ? { calibration: opts.calibration } : {}),
  });
}
