/**
 * The device factory the threads realiser names for each NIC: built in the engine's device
 * worker ("hardware") on its real-time host, it is the same `Dp83820` model the sim realiser
 * attaches, with the plan's interrupt line, MAC, EEPROM and PCI timing. Besides the model it
 * keeps a snapshot of the model's counters (and whether its receiver is enabled) in a shared
 * page the main thread reads, and reports the device worker's Linux thread id for the CPU meter.
 *
 * @module
 */
import { workerData } from 'node:worker_threads';
import { IommuTable } from '@udf/dataspace';
import { Dp83820, type Dp83820Stats, emptyDp83820Stats } from '@udf/driver-dp83820';
import { type DeviceWorkerData, ringDeviceBell } from '@udf/engine-threads';
import type { DeviceHost } from '@udf/l4-kernel';
import { linuxThreadId, type ThreadIdProbeConfig } from './threads-components.js';
import { FrameRing, pumpFrames } from './threads-frame-ring.js';

/** The counters a {@link NicStatsPage} carries, in slot order (then the `receiving` flag). */
export const NIC_STAT_KEYS: readonly (keyof Dp83820Stats)[] = Object.keys(
  emptyDp83820Stats(),
) as (keyof Dp83820Stats)[];

/** Bytes of a NIC stats page: one float64 per counter, the receiving flag, a sequence word. */
export const NIC_STATS_BYTES = 8 * (NIC_STAT_KEYS.length + 2);

/** How often the device worker copies a NIC's counters to its stats page, in seconds. */
export const NIC_STATS_PERIOD_SECONDS = 0.02;

/** Plain configuration of {@link dp83820Device}. */
export interface ThreadsNicConfig {
  readonly irqLine: number;
  readonly mac: string;
  readonly eeprom64: boolean;
  readonly timing: {
    readonly pciClockHz: number;
    readonly pciBusBytes: 4 | 8;
    readonly readLatencyClocks: number;
  };
  /** The NIC's stats page ({@link NIC_STATS_BYTES}), written by the device worker. */
  readonly stats: SharedArrayBuffer;
  /** Where to write the device worker's Linux thread id (for the CPU meter). */
  readonly probe?: ThreadIdProbeConfig;
  /**
   * The in-process wire instead of the engine's: the NIC consumes `toNic` and produces
   * `fromNic` ({@link FrameRing} memories shared with the main thread).
   */
  readonly inProcess?: { readonly toNic: SharedArrayBuffer; readonly fromNic: SharedArrayBuffer };
  /**
   * The NIC sits behind an IOMMU: its driver's table (an `IommuTable` of `frames` frames at
   * offset 0 of `table`, formatted by the realiser and written by the dataspace manager), and the
   * interrupt line the model raises on a refused DMA (the device supervisor's).
   */
  readonly iommu?: {
    readonly table: SharedArrayBuffer;
    readonly frames: number;
    readonly faultLine?: number;
  };
}

/**
 * Wake the device worker's loop, as the engine's own wires do when a frame arrives (the loop may
 * be waiting for a far-off event or none; the frame scheduled DMA sooner). The doorbell is the
 * device worker's (`DeviceWorkerData.bell`); without one (not in a device worker) nothing to do.
 * The engine's doorbell protocol ({@link ringDeviceBell}): notify only a loop that announced it
 * sleeps.
 */
function deviceWorkerKick(): () => void {
  const bell = (workerData as DeviceWorkerData | null)?.bell;
  if (!(bell instanceof SharedArrayBuffer)) return () => {};
  const word = new Int32Array(bell);
  return () => ringDeviceBell(word);
}

/**
 * A DP83820 on the device worker's host (a device factory for `ThreadsEngine.createDevice`).
 *
 * @param host - the device worker's real-time host (clock, timers, DMA, interrupt lines)
 * @param config - plain data from the plan
 */
export function dp83820Device(host: DeviceHost, config: ThreadsNicConfig): Dp83820 {
  const nic = new Dp83820({
    host,
    irqLine: config.irqLine,
    mac: config.mac,
    eeprom64: config.eeprom64,
    timing: config.timing,
    ...(config.iommu
      ? {
          iommu: {
            table: new IommuTable(config.iommu.table, 0, config.iommu.frames),
            faultLine: config.iommu.faultLine,
          },
        }
      : {}),
  });
  if (config.probe !== undefined) {
    Atomics.store(new Int32Array(config.probe.out), config.probe.slot, linuxThreadId());
  }
  const wire = config.inProcess;
  if (wire !== undefined) {
    const out = new FrameRing(wire.fromNic);
    nic.port.connect({ receive: (f) => out.push(f) });
    void pumpFrames(new FrameRing(wire.toNic), (f) => nic.port.receive(f), deviceWorkerKick());
  }
  const page = new Float64Array(config.stats);
  const period = Math.max(1, Math.round(NIC_STATS_PERIOD_SECONDS * host.hz));
  const snapshot = () => {
    NIC_STAT_KEYS.forEach((k, i) => {
      page[i] = nic.stats[k];
    });
    page[NIC_STAT_KEYS.length] = nic.receiving ? 1 : 0;
    page[NIC_STAT_KEYS.length + 1]! += 1;
    host.schedule(host.now() + period, snapshot);
  };
  snapshot();
  return nic;
}

/** A NIC's counters as the main thread reads them from its stats page. */
export class NicStatsPage {
  readonly #page: Float64Array;

  /** @param buffer - the page given to {@link dp83820Device} */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(NIC_STATS_BYTES)) {
    this.#page = new Float64Array(buffer);
  }

  /** The last snapshot of the model's counters. */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    NIC_STAT_KEYS.forEach((k, i) => {
      out[k] = this.#page[i]!;
    });
    return out;
  }

  /** Whether the NIC's receiver was enabled at the last snapshot. */
  get receiving(): boolean {
    return this.#page[NIC_STAT_KEYS.length] === 1;
  }

  /** Snapshots taken so far (0: the device has not been built yet). */
  get snapshots(): number {
    return this.#page[NIC_STAT_KEYS.length + 1]!;
  }
}
