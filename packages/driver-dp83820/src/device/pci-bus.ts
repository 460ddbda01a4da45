/**
 * The PCI bus as one shared resource. Every DMA burst of every master (the transmit and receive
 * engines of one or several DP83820s on the same bus) queues here in arrival order and holds the
 * bus for {@link burstClocks}; its memory effect happens when the burst completes. Bandwidth
 * limits are therefore a consequence of queueing, burst splitting and per-burst latency, not a
 * rate cap.
 *
 * @module
 */
import type { DeviceHost } from '@udf/l4-kernel';
import { burstClocks, DEFAULT_DP83820_TIMING, type Dp83820Timing } from './timing.js';

/**
 * A bus master's pending burst. A master has at most one burst outstanding; it sets the fields,
 * calls {@link PciBus.request}, and is called back with {@link BusRequest.busComplete}.
 */
export interface BusRequest {
  /** Bytes of the burst (at most the master's MXDMA burst size). */
  busBytes: number;
  /** True for a read from memory (device fetches), false for a write (device stores). */
  busRead: boolean;
  /** True if the address needs a dual-address cycle (above 4 GiB). */
  busDac: boolean;
  /**
   * Bytes per data phase this master transfers, if narrower than the bus: a DP83820 with
   * CFG.DATA64_EN clear moves 4 bytes per data phase even in a 64-bit slot. Default: the bus
   * width ({@link Dp83820Timing.pciBusBytes}).
   */
  busDataBytes?: number;
  /** If positive, the burst occupies exactly this many bus clocks (programmed I/O); else computed. */
  busFixedClocks?: number;
  /** The burst has completed: perform its memory effect and continue. */
  busComplete(): void;
}

/** Counters of a {@link PciBus}. */
export interface PciBusStats {
  /** Bursts completed. */
  bursts: number;
  /** Bytes moved. */
  bytes: number;
  /** CPU cycles the bus was occupied. */
  busyCycles: number;
  /** Sum over bursts of cycles spent waiting for the bus (contention). */
  waitCycles: number;
}

const QUEUE_CAPACITY = 64;

/** A shared 64-bit/66 MHz PCI bus (by default) in the virtual time of a `DeviceHost`. */
export class PciBus {
  /** The timing parameters this bus uses. */
  readonly timing: Dp83820Timing;
  /** Counters. */
  readonly stats: PciBusStats = { bursts: 0, bytes: 0, busyCycles: 0, waitCycles: 0 };
  private readonly host: Pick<DeviceHost, 'hz' | 'now' | 'schedule'>;
  private readonly cyclesPerClock: number;
  private readonly queue: (BusRequest | null)[] = new Array(QUEUE_CAPACITY).fill(null);
  private readonly queuedAt = new Float64Array(QUEUE_CAPACITY);
  private head = 0;
  private count = 0;
  private busy = false;
  private readonly onDone = (): void => this.finish();
  private readonly cpu: CpuMaster;

  /**
   * @param host - the machine's clock and scheduler
   * @param timing - bus parameters (defaults: {@link DEFAULT_DP83820_TIMING})
   */
  constructor(
    host: Pick<DeviceHost, 'hz' | 'now' | 'schedule'>,
    timing: Partial<Dp83820Timing> = {},
  ) {
    this.host = host;
    this.timing = { ...DEFAULT_DP83820_TIMING, ...timing };
    this.cyclesPerClock = host.hz / this.timing.pciClockHz;
    this.cpu = new CpuMaster(this);
  }

  /** Queue a burst. A master must not request again before its `busComplete` has run. */
  request(r: BusRequest): void {
    if (this.count === QUEUE_CAPACITY) throw new RangeError('PCI bus queue overflow');
    const at = (this.head + this.count) % QUEUE_CAPACITY;
    this.queue[at] = r;
    this.queuedAt[at] = this.host.now();
    this.count++;
    if (!this.busy) this.start();
  }

  /**
   * Occupy the bus for `clocks` on behalf of the CPU (register reads and writes of a device).
   * The access itself takes effect at once; the bus time it used delays DMA queued behind it.
   */
  pio(clocks: number): void {
    this.cpu.add(clocks);
  }

  /** Bursts waiting or in progress. */
  get pending(): number {
    return this.count;
  }

  private start(): void {
    const r = this.queue[this.head]!;
    const now = this.host.now();
    const clocks =
      r.busFixedClocks !== undefined && r.busFixedClocks > 0
        ? r.busFixedClocks
        : burstClocks(
            this.timing,
            r.busBytes,
            r.busRead,
            r.busDac,
            Math.min(r.busDataBytes ?? this.timing.pciBusBytes, this.timing.pciBusBytes),
          );
    const cycles = Math.ceil(clocks * this.cyclesPerClock);
    this.busy = true;
    this.stats.waitCycles += now - this.queuedAt[this.head]!;
    this.stats.busyCycles += cycles;
    this.host.schedule(now + cycles, this.onDone);
  }

  private finish(): void {
    const r = this.queue[this.head]!;
    this.queue[this.head] = null;
    this.head = (this.head + 1) % QUEUE_CAPACITY;
    this.count--;
    this.busy = false;
    this.stats.bursts++;
    this.stats.bytes += r.busBytes;
    if (this.count > 0) this.start();
    r.busComplete();
  }
}

/** The CPU as a bus master: accumulates programmed-I/O clocks and holds the bus for them. */
class CpuMaster implements BusRequest {
  busBytes = 0;
  busRead = true;
  busDac = false;
  /** The bus width, as an absent value would mean (used only for a burst of 0 fixed clocks). */
  busDataBytes: number;
  busFixedClocks = 0;
  private waiting = 0;
  private outstanding = false;
  private readonly bus: PciBus;
  constructor(bus: PciBus) {
    this.bus = bus;
    this.busDataBytes = bus.timing.pciBusBytes;
  }

  add(clocks: number): void {
    this.waiting += clocks;
    if (!this.outstanding) this.issue();
  }

  busComplete(): void {
    this.outstanding = false;
    if (this.waiting > 0) this.issue();
  }

  private issue(): void {
    this.busFixedClocks = this.waiting;
    this.waiting = 0;
    this.outstanding = true;
    this.bus.request(this);
  }
}
