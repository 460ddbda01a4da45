/**
 * The one calibration of component costs against the paper's execution profile (Figure 1(a):
 * the isolated placement at 450 Mb/s offered, 100 µs hold-off, 1024-byte packets).
 *
 * Kernel costs (IPC, address-space switch, interrupt path, ...) come from `@udf/l4-kernel`'s
 * cited cost table and are never touched here. Component costs (driver, stack, buffer
 * management, translation, notification) start from each package's own per-operation
 * estimates; calibration multiplies them by one factor per *group* of the paper's categories:
 *
 * | group | categories | the paper's share of non-idle time at the calibration point |
 * |---|---|---|
 * | `work` | Driver, IP (with the kernel's own Kernel share) | 65 % (Kernel + Driver + IP) |
 * | `framework` | Buffer, Translation | 23 % (35 % framework − 12 % overhead) |
 * | `overhead` | Notification, Interrupt (with the kernel's IPC share) | 12 % (Notification + IPC + Interrupt) |
 *
 * plus the absolute level: 32 % CPU (68 % idle). The split *within* a group (driver vs IP,
 * buffers vs translation) stays as the packages estimated it: the paper's text gives only the
 * aggregates. Per-byte costs (copy, checksum) are memory-bound, not per-packet software, and
 * are not scaled.
 *
 * The factors below were produced by `pnpm --filter @udf/system calibrate` (scripts/calibrate.mts,
 * a fixed-point iteration on exactly this one operating point) and are then fixed: every other
 * curve `udf compare` draws — other loads, hold-offs, placements, the monolithic baseline — is a
 * prediction of the model, not a fit.
 *
 * @module
 */
import { DATASPACE_COSTS, type DataspaceCosts } from '@udf/dataspace';
import { DP83820_DRIVER_COSTS, type Dp83820DriverCosts } from '@udf/driver-dp83820';
import {
  LWIP_COSTS,
  type LwipCosts,
  STACK_THREAD_COSTS,
  type StackThreadCosts,
} from '@udf/lwip-lite';

/** Multipliers for the three groups of component costs. */
export interface CalibrationFactors {
  /** Driver and IP per-packet / per-interrupt work. */
  readonly work: number;
  /** Buffer management and translation. */
  readonly framework: number;
  /** User-level notification and interrupt acknowledgement. */
  readonly overhead: number;
}

/** No calibration: the packages' own estimates. */
export const UNCALIBRATED: CalibrationFactors = { work: 1, framework: 1, overhead: 1 };

/**
 * The calibrated factors (see the module comment for how they were obtained). Command:
 * `pnpm --filter @udf/system calibrate`.
 */
export const CALIBRATION: CalibrationFactors = { work: 3.61, framework: 9.295, overhead: 12.18 };

/** The operating point the calibration fits, from the paper's section 5. */
export const CALIBRATION_POINT = {
  config: 'isolated',
  loadMbps: 450,
  holdoffUs: 100,
  packetSize: 1024,
  /** Percent of CPU busy (100 − 68 % idle). */
  cpuPercent: 32,
  /** Percent of non-idle time in Kernel + Driver + IP. */
  workShare: 65,
  /** Percent of non-idle time in Buffer + Translation (35 % framework − 12 % overhead). */
  frameworkShare: 23,
  /** Percent of non-idle time in Notification + IPC + Interrupt. */
  overheadShare: 12,
} as const;

type Group = keyof CalibrationFactors | 'fixed';

const DRIVER_GROUPS: Record<keyof Dp83820DriverCosts, Group> = {
  interruptAck: 'overhead',
  isr: 'work',
  rxPacket: 'work',
  rxRefill: 'work',
  txPacket: 'work',
  txReap: 'work',
  validate: 'work',
  bufferTake: 'framework',
  bufferReturn: 'framework',
  bufferTrack: 'framework',
  notifyCheck: 'overhead',
  notifySend: 'overhead',
  sleepPerSession: 'overhead',
};

const LWIP_GROUPS: Record<keyof LwipCosts, Group> = {
  ethernetInput: 'work',
  arpInput: 'work',
  ipv4Input: 'work',
  icmpInput: 'work',
  udpInput: 'work',
  udpOutput: 'work',
  ipv4Output: 'work',
  ethernetOutput: 'work',
  arpTimer: 'work',
  perByteChecksum: 'fixed',
  perByteCopy: 'fixed',
  pbufAlloc: 'framework',
  pbufFree: 'framework',
};

const DATASPACE_GROUPS: Record<keyof DataspaceCosts, Group> = {
  lookupHit: 'framework',
  lookupMiss: 'framework',
  pinBit: 'framework',
  refillClient: 'framework',
  refillManager: 'framework',
  faultManager: 'fixed',
  pinScanEntry: 'framework',
  validate: 'framework',
};

const STACK_LOOP_GROUPS: Record<keyof StackThreadCosts, Group> = {
  sleepPerSession: 'overhead',
  notifyCheck: 'overhead',
};

function scale<T extends object>(
  table: T,
  groups: Record<keyof T, Group>,
  f: CalibrationFactors,
): T {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(table) as [keyof T & string, number][]) {
    const g: Group = groups[key];
    out[key] = g === 'fixed' ? value : Math.round(value * f[g] * 100) / 100;
  }
  return out as T;
}

/** Component cost tables after calibration, ready to pass to each component. */
export interface ComponentCosts {
  readonly driver: Dp83820DriverCosts;
  readonly lwip: LwipCosts;
  readonly dataspace: DataspaceCosts;
  readonly stackLoop: StackThreadCosts;
}

/** The component cost tables scaled by `factors` (default: the fixed calibration). */
export function componentCosts(factors: CalibrationFactors = CALIBRATION): ComponentCosts {
  return {
    driver: scale(DP83820_DRIVER_COSTS, DRIVER_GROUPS, factors),
    lwip: scale(LWIP_COSTS, LWIP_GROUPS, factors),
    dataspace: scale(DATASPACE_COSTS, DATASPACE_GROUPS, factors),
    stackLoop: scale(STACK_THREAD_COSTS, STACK_LOOP_GROUPS, factors),
  };
}
