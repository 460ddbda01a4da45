/**
 * The component module the threads realiser names in its plain-data references: the domain
 * workers `import()` this file (by its own URL) and build each thread from an export and a
 * configuration. It re-exports the same component factories the sim realiser resolves through
 * its registry — nothing here is threads-specific except {@link threadIdProbe}, a measurement
 * helper the realiser adds to each domain so the runner can read the worker's CPU time.
 *
 * @module
 */
import { readlinkSync } from 'node:fs';
import type { KernelCall, Sys, ThreadBody } from '@udf/l4-kernel';

export { dataspaceManagerServer, regionMapper } from '@udf/dataspace';
export { dp83820DriverServer } from '@udf/driver-dp83820';
export { socketEcho, socketKernelHalf, stackServer } from '@udf/lwip-lite';

/** Configuration of {@link threadIdProbe}: where to write the worker's Linux thread id. */
export interface ThreadIdProbeConfig {
  /** An `Int32Array` slot array shared with the realiser. */
  readonly out: SharedArrayBuffer;
  /** Slot index to write. */
  readonly slot: number;
}

/**
 * The Linux thread id of the calling thread from `/proc/thread-self`, or -1 where there is none
 * (not Linux).
 */
export function linuxThreadId(): number {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : -1;
  } catch {
    return -1;
  }
}

/**
 * A thread that writes its worker's Linux thread id into a shared slot and exits: the realiser
 * runs one per domain so the runner can meter each domain's CPU time (`/proc/self/task/TID`).
 * Not a system component; it makes no kernel call.
 */
export function threadIdProbe(config: ThreadIdProbeConfig): ThreadBody {
  // biome-ignore lint/correctness/useYield: a thread body that makes no kernel call at all
  return function* probe(_sys: Sys): Generator<KernelCall, void, unknown> {
    Atomics.store(new Int32Array(config.out), config.slot, linuxThreadId());
  };
}
