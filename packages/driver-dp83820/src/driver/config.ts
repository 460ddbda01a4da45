/**
 * Configuration of the user-level DP83820 driver: the devices one driver domain runs (one for an
 * isolated driver, several for a clustered driver server), the client sessions it serves, and
 * where it gets translations from.
 *
 * @module
 */
import type { KernelCall, Sys, ThreadId } from '@udf/l4-kernel';
import { type NotifyPolicy, UdfError } from '@udf/lockfree';
import type { DP83820_STEERING_COSTS, Dp83820DriverCosts, Dp83820SteeringCosts } from './costs.js';
import type { InterruptPolicyName } from './interrupt-policy.js';

export * from './interrupt-policy.js';

/** Thrown for a bad driver configuration, at construction or during initialisation. Code `'DP83820_DRIVER_CONFIG'`. */
export class Dp83820DriverConfigError extends UdfError {
  /** @param message - what is wrong */
  constructor(message: string) {
    super('DP83820_DRIVER_CONFIG', message);
  }
}

/** A memory range in the driver's address space with its physical address (for DMA). */
export interface DmaRegion {
  /** Virtual address in the driver's space (page aligned). */
  readonly vaddr: number;
  /** Physical address (physically contiguous). */
  readonly paddr: number;
  /** Size in bytes. */
  readonly bytes: number;
}

/** One device the driver runs. */
export interface Dp83820DeviceConfig {
  /** Where the device's register window is mapped in the driver's space. */
  readonly registers: number;
  /** The device's interrupt line. */
  readonly irq: number;
  /** Memory for the descriptor rings (the driver's DMA dataspace). */
  readonly dma: DmaRegion;
  /** Receive descriptors (default 64, as ns83820's `NR_RX_DESC`). */
  readonly rxDescriptors?: number;
  /** Transmit descriptors (default 128, as ns83820's `NR_TX_DESC`); a multiple of 4. */
  readonly txDescriptors?: number;
  /** Interrupt hold-off in IHR units of 100 µs (0–255; default 1 = 100 µs). */
  readonly holdoff?: number;
  /** Use the 64-bit descriptor format (CFG.M64ADDR). Default false. */
  readonly wideDescriptors?: boolean;
  /** Accept all unicast frames (RFCR.AAU). Default false: perfect match and broadcast. */
  readonly promiscuous?: boolean;
  /**
   * Which interrupt causes the driver enables (see `interrupt-policy.ts`): `'prime'` (the
   * paper's: receive causes and an eventual transmit-idle / packet-sent interrupt; the default)
   * or `'ns83820'` (Linux ns83820 v0.20: also TXDESC and a transmit descriptor interrupt every
   * `txDescriptors / 4` frames).
   */
  readonly interruptPolicy?: InterruptPolicyName;
}

/** One client session. */
export interface Dp83820SessionConfig {
  /** Index into `devices` of the device this session uses. */
  readonly device: number;
  /** The client thread the driver notifies. */
  readonly client: ThreadId;
  /** Where the session's netdev region (rings and notification bits) is mapped in the driver's space. */
  readonly region: number;
  /** Descriptors per ring, as agreed with the client. */
  readonly capacity: number;
  /**
   * When the driver wakes the client after returning completions: `when-asleep` (default, the
   * paper's suppression) or `per-item` (one wake-up per completion, the per-item baseline).
   * `always` and `deferred` govern the client's end; on this end they mean `when-asleep` (the
   * driver wakes its client once per pass, and only if it sleeps).
   */
  readonly notify?: NotifyPolicy;
  /** Dataspaces the client's buffers live in; the driver associates them with the session. */
  readonly dataspaces: readonly number[];
  /**
   * The session's addresses, for receive steering on a device shared by several sessions (see
   * the driver's module documentation): its IPv4 address (a 32-bit number, `10.0.0.1` =
   * `0x0a000001`) and/or its own MAC (6 bytes; sessions that share the device's station address
   * leave it out). Ignored on a device with a single session.
   */
  readonly address?: { readonly ipv4?: number; readonly mac?: readonly number[] };
  /**
   * Where each of `dataspaces` (same order) is mapped, readable and writable, in the driver's
   * space: receive steering reads the headers of received frames there and copies a frame that
   * landed in another session's buffer into this session's buffer. A session whose dataspaces
   * are not mapped cannot be steered to or from: frames landing in its buffers stay there, and
   * frames for it that land elsewhere are dropped (`stats.steerDrops`).
   */
  readonly dataspacesAt?: readonly number[];
}

/**
 * Translation of dataspace offsets to physical addresses with pin bits, as the driver needs it.
 * `TranslationCache` from `@udf/dataspace` implements it.
 */
export interface DriverTranslation {
  /** Add a dataspace (one IPC to its manager); returns its id and authoritative size. */
  add(dataspaceId: number): Generator<KernelCall, { id: number; size: number }, unknown>;
  /** Translate and pin the page holding `offset`; -1 on a miss. */
  pin(dataspaceId: number, offset: number): number;
  /** Release one pin of the page holding `offset`. */
  unpin(dataspaceId: number, offset: number): void;
  /** Refill the translation of the page holding `offset` (one IPC); the physical address or -1. */
  refill(sys: Sys, dataspaceId: number, offset: number): Generator<KernelCall, number, unknown>;
}

/** Opens the driver's translation source from inside the driver thread (e.g. `TranslationCache.open`). */
export type TranslationOpener = (sys: Sys) => Generator<KernelCall, DriverTranslation, unknown>;

/** Everything one driver domain runs. */
export interface Dp83820DriverConfig {
  /** Devices (one for an isolated driver; several for a clustered driver server). */
  readonly devices: readonly Dp83820DeviceConfig[];
  /** Client sessions. */
  readonly sessions: readonly Dp83820SessionConfig[];
  /** Where translations come from. */
  readonly translation: TranslationOpener;
  /** Cost overrides (see {@link DP83820_DRIVER_COSTS}). */
  readonly costs?: Partial<Dp83820DriverCosts>;
  /** Receive-steering cost overrides (see {@link DP83820_STEERING_COSTS}). */
  readonly steeringCosts?: Partial<Dp83820SteeringCosts>;
  /**
   * The paper's notification avoidance (section 4.5): while transmissions are in flight the
   * driver leaves its "asleep" bit clear even when it blocks, because the transmit-complete
   * interrupt will wake it; clients then need not notify it of new frames. Default true.
   */
  readonly notifyAvoidance?: boolean;
  /**
   * Thread id of the device supervisor: a `DRIVER_DISABLED_LABEL` message from it (and only
   * from it) disables the driver as {@link Dp83820Driver.quotaExceeded} does.
   */
  readonly supervisor?: ThreadId;
  /**
   * The domain's counters page (see `CountersPage` in `@udf/dataspace`): where it is mapped and
   * the prefix of this driver's counters. The driver keeps `stats` there and announces itself
   * ready on the page once its devices and sessions are set up.
   */
  readonly counters?: { readonly vaddr: number; readonly prefix: string };
}
