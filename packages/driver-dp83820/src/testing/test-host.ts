/**
 * A tiny DeviceHost for device tests: an event heap in virtual cycles, flat physical memory and
 * interrupt lines that record raises. Test-only; not exported from the package.
 *
 * @module
 */
import type {
  DeviceHost,
  EventHandle,
  InterruptLine,
  MemoryRegion,
  PhysicalMemory,
} from '@udf/l4-kernel';

interface Ev {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** An interrupt line that counts raises and calls a hook. */
export class TestLine implements InterruptLine {
  level = false;
  raises = 0;
  onRaise: (() => void) | null = null;
  constructor(readonly number: number) {}
  raise(): void {
    if (!this.level) this.raises++;
    this.level = true;
    this.onRaise?.();
  }
  lower(): void {
    this.level = false;
  }
}

/**
 * Little-endian physical memory for device tests: one buffer, one region (test code reaches it
 * through `bytes`; the device only through the {@link PhysicalMemory} operations).
 */
export class FlatMemory implements PhysicalMemory {
  readonly bytes: Uint8Array;
  private nextFree = 4096;
  /** Block copies made by DMA ({@link FlatMemory.copyIn}/{@link FlatMemory.copyOut}). */
  copies = 0;
  private readonly view: DataView;
  private readonly words: Int32Array;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(new SharedArrayBuffer(size));
    this.view = new DataView(this.bytes.buffer);
    this.words = new Int32Array(this.bytes.buffer, 0, size >> 2);
  }
  contains(paddr: number, length: number): boolean {
    return paddr >= 0 && length >= 0 && paddr + length <= this.size;
  }
  read32(paddr: number): number {
    return this.view.getUint32(paddr, true);
  }
  write32(paddr: number, value: number): void {
    this.view.setUint32(paddr, value >>> 0, true);
  }
  /** Atomic 32-bit load of an aligned word (little-endian host). */
  load32(paddr: number): number {
    if ((paddr & 3) !== 0) throw new RangeError(`unaligned load32 at ${paddr}`);
    return Atomics.load(this.words, paddr >> 2) >>> 0;
  }
  /** Atomic 32-bit store of an aligned word (little-endian host). */
  store32(paddr: number, value: number): void {
    if ((paddr & 3) !== 0) throw new RangeError(`unaligned store32 at ${paddr}`);
    Atomics.store(this.words, paddr >> 2, value | 0);
  }
  /** Block copy of `src` into memory at `paddr`; false (nothing copied) outside memory. */
  copyIn(paddr: number, src: Uint8Array): boolean {
    if (!this.contains(paddr, src.length)) return false;
    this.copies++;
    this.bytes.set(src, paddr);
    return true;
  }
  /** Block copy of memory at `paddr` into `dst`; false (nothing copied) outside memory. */
  copyOut(paddr: number, dst: Uint8Array): boolean {
    if (!this.contains(paddr, dst.length)) return false;
    this.copies++;
    dst.set(this.bytes.subarray(paddr, paddr + dst.length));
    return true;
  }
  /** Hand out the next `bytes` (whole pages, aligned) as a window of the one buffer. */
  allocateRegion(bytes: number, align = 4096): { paddr: number; region: MemoryRegion } {
    const paddr = Math.ceil(this.nextFree / align) * align;
    const size = Math.ceil(bytes / 4096) * 4096;
    if (!(size > 0) || paddr + size > this.size) throw new RangeError(`cannot allocate ${bytes}`);
    this.nextFree = paddr + size;
    const buffer = this.bytes.buffer as SharedArrayBuffer;
    return { paddr, region: { id: 0, paddr, size, buffer, byteOffset: paddr } };
  }
}

/** The test machine. */
export class TestHost implements DeviceHost {
  readonly hz: number;
  readonly memory: FlatMemory;
  readonly lines = new Map<number, TestLine>();
  private time = 0;
  private seq = 0;
  private heap: Ev[] = [];

  constructor(options: { hz?: number; memoryBytes?: number } = {}) {
    this.hz = options.hz ?? 2.66e9;
    this.memory = new FlatMemory(options.memoryBytes ?? 1 << 20);
  }

  now(): number {
    return this.time;
  }

  schedule(at: number, fn: () => void): EventHandle {
    const ev: Ev = { at: Math.max(at, this.time), seq: this.seq++, fn, cancelled: false };
    this.push(ev);
    return {
      cancel: () => {
        ev.cancelled = true;
      },
    };
  }

  irq(line: number): TestLine {
    let l = this.lines.get(line);
    if (!l) {
      l = new TestLine(line);
      this.lines.set(line, l);
    }
    return l;
  }

  /** Cycles for a duration in seconds. */
  cycles(seconds: number): number {
    return Math.round(seconds * this.hz);
  }

  /** Run events up to and including time `until` (cycles); the clock ends at `until`. */
  runUntil(until: number): void {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > until) break;
      this.pop();
      if (top.cancelled) continue;
      this.time = top.at;
      top.fn();
    }
    this.time = Math.max(this.time, until);
  }

  /** Run for `seconds` of virtual time. */
  runFor(seconds: number): void {
    this.runUntil(this.time + this.cycles(seconds));
  }

  private less(a: Ev, b: Ev): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: Ev): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
