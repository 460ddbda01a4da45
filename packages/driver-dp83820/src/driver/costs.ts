/**
 * Cycle costs the DP83820 driver charges on the sim engine (`sys.charge`), by the paper's profile
 * categories (section 5): `Driver` is the code any driver for this card runs, in kernel or at user
 * level (descriptor handling, ISR decode, ring walks); `Interrupt` is user-level interrupt
 * acknowledgement; `Buffer` is buffer management of the framework (session rings in and out);
 * `Notification` is the notification-bit protocol. Register accesses are charged by the kernel's
 * cost model (`mmioRead`/`mmioWrite`), IPC by the kernel, translation by `@udf/dataspace`.
 *
 * Every default is an estimate, none a measurement: an instruction count for the paper's 2.66 GHz
 * Pentium 4 Xeon at about one instruction per cycle on warm caches, plus ~200 cycles where a
 * descriptor or ring line is likely cold (written by the device or the peer on another bus
 * master / CPU). The function names cited (ns83820 `rx_irq`, ...) say which Linux code does the
 * same work; they are not sources of cycle counts. `@udf/system` scales these estimates once, by
 * group, against Figure 1(a) at 450 Mb/s (its `CALIBRATION`); override any of them through the
 * driver's `costs` option.
 *
 * @module
 */
import type { Cycles } from '@udf/l4-kernel';

/** Per-packet and per-interrupt costs of the driver; see {@link DP83820_DRIVER_COSTS}. */
export interface Dp83820DriverCosts {
  /**
   * `Interrupt`: decode an interrupt IPC, find the device, prepare the reply that unmasks
   * (~60 instructions). Charged once per interrupt delivered to the driver.
   */
  readonly interruptAck: Cycles;
  /**
   * `Driver`: ISR body excluding register accesses — decode ISR bits, adjust the IMR cache,
   * decide rx/tx work (ns83820 `ns83820_do_isr`, ~80 instructions). Once per interrupt.
   */
  readonly isr: Cycles;
  /**
   * `Driver`: harvest one received descriptor — read CMDSTS (a line the device wrote: cold, ~200),
   * decode length and status, clear the descriptor (ns83820 `rx_irq` loop body, ~60 instructions).
   */
  readonly rxPacket: Cycles;
  /** `Driver`: write one receive descriptor for a fresh buffer and link it (ns83820 `ns83820_add_rx_skb`, ~50 instructions). */
  readonly rxRefill: Cycles;
  /** `Driver`: build one transmit descriptor and hand it to the device (ns83820 `hard_start_xmit`, ~90 instructions). */
  readonly txPacket: Cycles;
  /** `Driver`: reap one completed transmit descriptor (read CMDSTS: cold, ~200; ns83820 `do_tx_done` body, ~40 instructions). */
  readonly txReap: Cycles;
  /** `Driver`: validate one client descriptor against the session (see `@udf/dataspace`'s `validate`, ~25 instructions). */
  readonly validate: Cycles;
  /** `Buffer`: take one descriptor from a session ring (index loads, bounds checks, 4-word copy; ~40 instructions). */
  readonly bufferTake: Cycles;
  /** `Buffer`: return one descriptor to a session ring (4-word store, release index store; ~40 instructions). */
  readonly bufferReturn: Cycles;
  /** `Buffer`: per-slot bookkeeping of which session buffer sits in which device descriptor (~20 instructions). */
  readonly bufferTrack: Cycles;
  /** `Notification`: read the client's asleep bit and decide (one shared line, often cold: ~100). */
  readonly notifyCheck: Cycles;
  /** `Notification`: build and issue a notification message, excluding the IPC itself (~40 instructions). */
  readonly notifySend: Cycles;
  /** `Notification`: announce sleep on every session, re-check for work, preemption-control window (~60 per session). */
  readonly sleepPerSession: Cycles;
}

/** Default costs (cycles of the paper's 2.66 GHz machine); estimates to calibrate, see module docs. */
export const DP83820_DRIVER_COSTS: Dp83820DriverCosts = {
  interruptAck: 60,
  isr: 80,
  rxPacket: 260,
  rxRefill: 50,
  txPacket: 90,
  txReap: 240,
  validate: 25,
  bufferTake: 40,
  bufferReturn: 40,
  bufferTrack: 20,
  notifyCheck: 100,
  notifySend: 40,
  sleepPerSession: 60,
};

/**
 * Costs of receive steering (a device shared by several sessions; see the driver's module
 * documentation), kept apart from {@link Dp83820DriverCosts}: `@udf/system` calibrates those
 * against Figure 1(a), whose configurations never steer. Estimates, as above.
 */
export interface Dp83820SteeringCosts {
  /**
   * `Driver`: decide the owning session of one received frame on a device shared by several
   * sessions (receive steering): read the Ethernet header and the IPv4/ARP destination, compare
   * with the sessions' addresses (~40 instructions plus a header line the device wrote: cold,
   * ~200). Charged only on devices with several sessions.
   */
  readonly steerClassify: Cycles;
  /**
   * `Driver`: per byte of a frame copied from the session buffer it landed in into a buffer of
   * the session it belongs to (receive steering). The same estimate as `@udf/l4-kernel`'s
   * machine cost `copyPerByte` (memcpy of DMA-written, uncached data: ~1.8 GB/s effective on
   * dual-channel DDR-266, ~1.5 cycles per byte at 2.66 GHz).
   */
  readonly steerCopyPerByte: Cycles;
}

/** Default steering costs (cycles of the paper's 2.66 GHz machine); estimates, see {@link Dp83820SteeringCosts}. */
export const DP83820_STEERING_COSTS: Dp83820SteeringCosts = {
  steerClassify: 240,
  steerCopyPerByte: 1.5,
};
