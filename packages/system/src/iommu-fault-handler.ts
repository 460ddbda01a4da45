/**
 * The IOMMU's fault handler: a privileged root-task thread that takes each IOMMU-protected NIC's
 * fault interrupt (the fault event an IOMMU signals to system software, not to the driver) and
 * resets the NIC through its own mapping of the register window: CR.RST stops the device's DMA
 * and clears the IOMMU halt, and the software interrupt wakes the driver. The driver that
 * programmed the refused DMA gets no say: it neither sees the fault first nor can keep the
 * device running.
 *
 * It only quiesces the device; deciding what happens to the driver (disable, restart) is the
 * device supervisor's and the manager's business.
 *
 * @module
 */
import { resetAndRaiseSoftwareInterrupt } from '@udf/driver-dp83820';
import {
  ANY_THREAD,
  type KernelCall,
  type Message,
  NEVER,
  type RegisterWindow,
  type Sys,
  type ThreadId,
} from '@udf/l4-kernel';

/** Plain configuration of an {@link IommuFaultHandler}. */
export interface IommuFaultHandlerConfig {
  /** Each IOMMU-protected NIC: its fault line and where the handler's space maps its registers. */
  readonly nics: readonly { readonly faultLine: number; readonly registers: number }[];
}

/** Counters of an {@link IommuFaultHandler}. */
export interface IommuFaultHandlerStats {
  /** Fault interrupts taken. */
  faults: number;
  /** Devices reset. */
  devicesReset: number;
  /** Messages from anyone but a fault line's interrupt thread (ignored). */
  ignored: number;
}

const UNMASK: Message = Object.freeze({ label: 0, words: [] });

/** The fault handler thread; run {@link IommuFaultHandler.body}. */
export class IommuFaultHandler {
  /** Counters. */
  readonly stats: IommuFaultHandlerStats = { faults: 0, devicesReset: 0, ignored: 0 };

  /** @param config - plain data: the NICs' fault lines and register windows */
  constructor(private readonly config: IommuFaultHandlerConfig) {}

  /** The thread body: attach every fault line, then reset a NIC each time its line fires. */
  *body(sys: Sys): Generator<KernelCall, void, unknown> {
    const byIrqThread = new Map<ThreadId, RegisterWindow>();
    for (const nic of this.config.nics) {
      const regs = sys.mem.registers(nic.registers);
      if (regs === null) throw new Error(`IOMMU fault handler: no registers at ${nic.registers}`);
      const attached = yield* sys.irq.attach(nic.faultLine);
      if (!attached.ok) {
        throw new Error(`IOMMU fault handler: line ${nic.faultLine}: ${attached.error}`);
      }
      byIrqThread.set(attached.irqThread, regs);
    }
    for (;;) {
      const r = yield* sys.ipc.receive(ANY_THREAD, NEVER);
      if (!r.ok) continue;
      const regs = byIrqThread.get(r.from);
      if (regs === undefined) {
        this.stats.ignored++;
        continue;
      }
      this.stats.faults++;
      // The reset lowers the fault line, so the unmask below does not redeliver it.
      resetAndRaiseSoftwareInterrupt(regs);
      this.stats.devicesReset++;
      yield* sys.ipc.reply(r.from, UNMASK);
    }
  }
}
