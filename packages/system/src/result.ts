/**
 * What one experiment step takes and gives: one configuration at one hold-off and one offered
 * load, measured over a window of virtual time after a warm-up.
 *
 * @module
 */

/** The profile categories in the paper's Figure 1(a) order, then `User`, Idle last. */
export const PROFILE_ORDER: readonly string[] = [
  ...PROFILE_CATEGORIES.filter((c) => c !== 'Idle'),
  'User',
  'Idle',
];

import type { RampStep } from '@udf/ipbench';
import { PROFILE_CATEGORIES } from '@udf/l4-kernel';
import type { CalibrationFactors } from './calibration.js';
import type { BusConfiguration } from './schema.js';

/**
 * Parameters of one step. Only the offered load is required; every other field defaults to the
 * description's own value (`nics[].holdoffUs`, `load.durationMs`, `load.warmupMs`,
 * `load.packetSize`, `machine.ipcScale`, `machine.seed`).
 */
export interface StepOptions {
  /** Offered load per NIC in Mb/s of UDP payload (ipbench's convention). */
  readonly loadMbps: number;
  /**
   * Interrupt hold-off in µs applied to every NIC (multiple of 100), overriding each NIC's own
   * `holdoffUs`. Default: each NIC keeps its own.
   */
  readonly holdoffUs?: number;
  /** Virtual milliseconds measured. */
  readonly durationMs?: number;
  /** Virtual milliseconds run before measuring. */
  readonly warmupMs?: number;
  /** UDP payload bytes. */
  readonly packetSize?: number;
  /** Multiplier on the kernel's IPC costs. */
  readonly ipcScale?: number;
  /** Seed of the run (the sim is deterministic for a given seed). */
  readonly seed?: number;
  /** Component cost factors (default: the fixed calibration `CALIBRATION`). */
  readonly calibration?: CalibrationFactors;
  /**
   * PCI bus of every NIC: clock, slot width and the EEPROM's DATA64_EN (default: each NIC's own
   * `pci` and `eeprom64`). One of `BUS_CONFIGURATIONS` draws one edge of the Figure 1(b) band.
   */
  readonly bus?: Omit<BusConfiguration, 'name'>;
  /**
   * Write a pcap capture of each NIC's wire (both directions, virtual-time stamps in ns) to this
   * directory as `CONFIG-HOLDOFFus-LOADmbps-NIC.pcap` (the directory must exist).
   */
  readonly pcapDir?: string;
}

/** Round-trip statistics in microseconds. */
export interface RttSummary {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  readonly stddev: number;
  readonly median: number;
}

/** The outcome of one step. */
export interface StepResult {
  /** Configuration name (from the description). */
  readonly config: string;
  /** Engine that ran it: the sim, or real worker threads (`@udf/engine-threads`). */
  readonly engine: 'sim' | 'threads';
  /** The step's hold-off override, or the first NIC's hold-off when each NIC kept its own. */
  readonly holdoffUs: number;
  /** The hold-off each NIC ran with, in µs. */
  readonly holdoffsUs: Record<string, number>;
  /** The first NIC's bus: clock, slot width, the EEPROM's DATA64_EN. */
  readonly bus: Omit<BusConfiguration, 'name'>;
  readonly packetSize: number;
  /** Offered load over all NICs, Mb/s of UDP payload. */
  readonly requestedMbps: number;
  /** Echoed payload received back by the clients in the window, Mb/s. */
  readonly achievedMbps: number;
  /** Payload the clients actually put on their links in the window, Mb/s. */
  readonly sentMbps: number;
  /** Target CPU utilisation: 100 % minus the idle thread's share of the window. */
  readonly cpuPercent: number;
  /** Round-trip times of echoed packets. */
  readonly rttUs: RttSummary;
  /** Packets sent in the window that never came back. */
  readonly lostPackets: number;
  /** Echoes that did not match what was sent. */
  readonly badPackets: number;
  /**
   * Percent of CPU time per accounting category over the window (sums to 100). Empty on the
   * threads engine, which charges no cycles (its CPU comes from {@link StepResult.cpuByDomain}).
   */
  readonly profile: Record<string, number>;
  /**
   * Threads engine only: percent of one CPU each domain's worker used over the window (and
   * `devices`, the device worker), from Linux per-thread CPU time.
   */
  readonly cpuByDomain?: Record<string, number>;
  /** Counters of every component (drops by reason, interrupts, notifications, ...). */
  readonly counters: Record<string, number>;
  /** Virtual seconds simulated (warm-up + window); on threads, real seconds of the step. */
  readonly simSeconds: number;
  /** Wall seconds the step took. */
  readonly wallSeconds: number;
  /** The step as ipbench reports it (ipbench's columns, per-client detail). */
  readonly ipbench: RampStep;
}
