/**
 * The simulated machine: one CPU's virtual clock, the deterministic event queue, physical memory
 * and interrupt lines. It implements {@link DeviceHost}, the only surface device models see.
 *
 * @module
 */
import { KernelError } from '../errors.js';
import type { Cycles } from '../sys.js';
import type { DeviceHost, EventHandle, InterruptLine, MmioDevice } from './device-host.js';
import { EventQueue } from './event-queue.js';
import { type MemoryLayout, RegionMemory } from './memory.js';

/** Largest number of interrupt lines a machine has. */
export const MAX_IRQ_LINES = 256;

/** One level-triggered interrupt line: asserted by its device, masked by the kernel. */
export class Line implements InterruptLine {
  /** Line number. */
  readonly number: number;
  /** True while the device asserts the line. */
  asserted = false;
  /** True while the kernel has the line masked (from delivery until the handler's reply). */
  masked = false;
  /** Times the device asserted the line (rising edges). */
  raises = 0;
  private readonly onRaise: (line: Line) => void;

  /**
   * @param number - line number
   * @param onRaise - called when the line goes from de-asserted to asserted
   */
  constructor(number: number, onRaise: (line: Line) => void) {
    this.number = number;
    this.onRaise = onRaise;
  }

  /** Assert the line (idempotent while asserted). */
  raise(): void {
    if (this.asserted) return;
    this.asserted = true;
    this.raises++;
    this.onRaise(this);
  }

  /** De-assert the line. */
  lower(): void {
    this.asserted = false;
  }
}

/** Options of a {@link Machine}. */
export interface MachineOptions {
  /** Clock in Hz. */
  readonly hz: number;
  /** Physical memory size in bytes. */
  readonly memoryBytes: number;
  /** How memory regions are backed (default `'shared'`: one buffer; `'separate'`: one each). */
  readonly memoryLayout?: MemoryLayout;
  /** Called when an unmasked line is raised (the kernel's interrupt entry). */
  readonly onInterrupt: (line: Line) => void;
}

/** The simulated machine. */
export class Machine implements DeviceHost {
  /** CPU clock in Hz. */
  readonly hz: number;
  /** Physical memory. */
  readonly memory: RegionMemory;
  /** The event queue (exposed for the engine). */
  readonly events = new EventQueue();
  /** Current virtual time in cycles. Advanced only by the engine. */
  clock: Cycles = 0;
  /** Devices attached with {@link Machine.attachDevice}, by name. */
  readonly devices = new Map<string, MmioDevice>();
  /** Events fired so far. */
  eventsFired = 0;
  private readonly lines: (Line | undefined)[] = [];
  private readonly onInterrupt: (line: Line) => void;

  /** @param options - clock, memory size and the kernel's interrupt hook */
  constructor(options: MachineOptions) {
    if (!Number.isFinite(options.hz) || options.hz <= 0) {
      throw new KernelError('CONFIG', `hz must be positive, got ${options.hz}`);
    }
    this.hz = options.hz;
    this.memory = new RegionMemory(options.memoryBytes, options.memoryLayout ?? 'shared');
    this.onInterrupt = options.onInterrupt;
  }

  /** Current virtual time in cycles. */
  now(): Cycles {
    return this.clock;
  }

  /**
   * Run `fn` at absolute time `at`. Times in the past run at the current time, after events
   * already due. Ties run in scheduling order.
   */
  schedule(at: Cycles, fn: () => void): EventHandle {
    if (typeof fn !== 'function') throw new KernelError('CONFIG', 'schedule needs a function');
    const t = at > this.clock ? at : this.clock;
    if (Number.isNaN(t)) throw new KernelError('CONFIG', 'schedule time is NaN');
    return this.events.push(t, fn);
  }

  /** Run `fn` after `delay` cycles. */
  after(delay: Cycles, fn: () => void): EventHandle {
    return this.schedule(this.clock + delay, fn);
  }

  /** Convert seconds to cycles at this clock. */
  cycles(seconds: number): Cycles {
    return seconds * this.hz;
  }

  /**
   * The interrupt line with this number (created on first use).
   * @throws KernelError `RANGE` outside `[0, MAX_IRQ_LINES)`
   */
  irq(line: number): Line {
    if (!Number.isInteger(line) || line < 0 || line >= MAX_IRQ_LINES) {
      throw new KernelError('RANGE', `interrupt line ${line} outside [0, ${MAX_IRQ_LINES})`);
    }
    let l = this.lines[line];
    if (l === undefined) {
      l = new Line(line, (x) => {
        if (!x.masked) this.onInterrupt(x);
      });
      this.lines[line] = l;
    }
    return l;
  }

  /** The line if it exists, without creating it. */
  existingLine(line: number): Line | undefined {
    return this.lines[line];
  }

  /**
   * Register a device under a name so the assembler can map its register window later
   * (`kernel.mapDevice`). Returns the device.
   * @throws KernelError `CONFIG` if the name is taken
   */
  attachDevice<D extends MmioDevice>(name: string, device: D): D {
    if (this.devices.has(name)) throw new KernelError('CONFIG', `device ${name} already attached`);
    this.devices.set(name, device);
    return device;
  }
}
