/**
 * The device supervisor: a privileged root-task thread the realiser creates, holding its own
 * mapping of every NIC's register window. It owns the reset path (paper section 4.4: "disabling
 * the driver and resetting the device to recover pinned pages") and is reached only by IPC (see
 * `DRIVER_DISABLE_LABEL` in `@udf/dataspace`):
 *
 * 1. the dataspace manager calls it with a driver's thread id;
 * 2. it resets each of that driver's devices (CR.RST: their DMA stops) and raises their software
 *    interrupt, so the driver wakes;
 * 3. it tells the driver it is disabled (a call with a bounded timeout: an honest driver stops
 *    its devices in its own thread and acknowledges, so no later pass of it restarts them);
 * 4. it replies to the manager, which only then recovers the driver's pins.
 *
 * A driver that does not acknowledge within the timeout cannot stall the manager; without an
 * IOMMU a hostile driver holding its registers could restart DMA anyway, as the paper notes.
 *
 * @module
 */
import {
  DRIVER_DISABLE_LABEL,
  DRIVER_DISABLED_LABEL,
  SUPERVISOR_OK,
  SUPERVISOR_REFUSED,
} from '@udf/dataspace';
import { resetAndRaiseSoftwareInterrupt } from '@udf/driver-dp83820';
import {
  ANY_THREAD,
  type Cycles,
  type KernelCall,
  type Message,
  NEVER,
  type RegisterWindow,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';

/** Plain configuration of a {@link DeviceSupervisor}. */
export interface DeviceSupervisorConfig {
  /** The only thread that may ask for a disable (the dataspace manager). */
  readonly manager: ThreadId;
  /** Each driver thread and where the supervisor's space maps its devices' register windows. */
  readonly drivers: readonly { readonly thread: ThreadId; readonly registers: readonly number[] }[];
  /** How long to wait for a driver's acknowledgement, in cycles. */
  readonly ackTimeout: Cycles;
}

/** Counters of a {@link DeviceSupervisor}. */
export interface DeviceSupervisorStats {
  /** Drivers disabled on the manager's request. */
  driversDisabled: number;
  /** Devices reset. */
  devicesReset: number;
  /** Disabled drivers that acknowledged. */
  acknowledged: number;
  /** Requests refused (unknown requester or driver). */
  refused: number;
}

const EMPTY: Message = Object.freeze({ label: DRIVER_DISABLED_LABEL, words: [] });

/** The device supervisor thread; run {@link DeviceSupervisor.body}. */
export class DeviceSupervisor {
  /** Counters. */
  readonly stats: DeviceSupervisorStats = {
    driversDisabled: 0,
    devicesReset: 0,
    acknowledged: 0,
    refused: 0,
  };

  /** @param config - plain data: manager, drivers and their register windows, timeout */
  constructor(private readonly config: DeviceSupervisorConfig) {}

  /** The thread body. */
  *body(sys: Sys): Generator<KernelCall, void, unknown> {
    const windows = new Map<ThreadId, RegisterWindow[]>();
    for (const d of this.config.drivers) {
      windows.set(
        d.thread,
        d.registers.map((vaddr) => {
          const w = sys.mem.registers(vaddr);
          if (w === null) throw new Error(`supervisor: no register window at ${vaddr}`);
          return w;
        }),
      );
    }
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
      if (!r.ok) continue;
      const driver = r.msg.words[0];
      const regs = driver === undefined ? undefined : windows.get(driver);
      if (
        r.from !== this.config.manager ||
        r.msg.label !== DRIVER_DISABLE_LABEL ||
        regs === undefined
      ) {
        this.stats.refused++;
        yield* sys.ipc.reply(r.from, { label: SUPERVISOR_REFUSED, words: [] });
        continue;
      }
      for (const w of regs) resetAndRaiseSoftwareInterrupt(w);
      this.stats.devicesReset += regs.length;
      this.stats.driversDisabled++;
      const ack = yield* sys.ipc.call(driver!, EMPTY, this.config.ackTimeout);
      if (ack.ok) this.stats.acknowledged++;
      yield* sys.ipc.reply(r.from, { label: SUPERVISOR_OK, words: [] });
    }
  }
}
