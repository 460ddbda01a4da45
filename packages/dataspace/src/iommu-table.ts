/**
 * The memory layout of an IOMMU table: the frames one DMA domain (one driver's devices) may
 * reach, as trusted software programs them and as the device model checks every DMA against
 * them (the paper's future work, "restricting DMA access", section 1 and the conclusions).
 *
 * ```
 * byte 0   header, 8 x int32: magic 'UDIO', frames covered, faults, last fault paddr (lo, hi),
 *          last fault access (1 read, 2 write), 2 reserved
 * byte 32  one byte per physical frame: IOMMU_READ | IOMMU_WRITE
 * ```
 *
 * Writers: the realiser at setup (the driver's descriptor rings, {@link IommuTable.grant}) and the
 * dataspace manager while it runs (the frames it installs in the driver's translation caches,
 * through an `IommuDomain`). Reader: the device model, on every DMA burst
 * ({@link IommuTable.permits}); on a refused burst it records the fault in the header
 * ({@link IommuTable.recordFault}) for the supervisor. The driver is given no mapping of this
 * memory: unlike the translation table, it is not a peer's to write.
 *
 * Access bytes and header words are read and written with `Atomics`, so the table works the same
 * when the manager, the device and the supervisor run on different threads.
 *
 * @module
 */
import { DataspaceError } from './errors.js';
import { PAGE_SHIFT, PAGE_SIZE } from './page.js';

/** Magic number in word 0 of a formatted IOMMU table ('UDIO'). */
export const IOMMU_TABLE_MAGIC = 0x5544494f;
/** Bytes of the IOMMU table header. */
export const IOMMU_HEADER_BYTES = 32;
/** Access bit: the device may read the frame (transmit data, descriptor fetches). */
export const IOMMU_READ = 1;
/** Access bit: the device may write the frame (receive data, status write-back). */
export const IOMMU_WRITE = 2;

const W_MAGIC = 0;
const W_FRAMES = 1;
const W_FAULTS = 2;
const W_FAULT_LO = 3;
const W_FAULT_HI = 4;
const W_FAULT_ACCESS = 5;

/** A typed view of an IOMMU table at `byteOffset` in a `SharedArrayBuffer`. */
export class IommuTable {
  /** Physical frames the table covers: addresses `[0, frames × PAGE_SIZE)`. */
  readonly frames: number;
  private readonly header: Int32Array;
  private readonly access: Uint8Array;

  /** Bytes needed for a table covering `frames` physical frames (a multiple of 8). */
  static bytesFor(frames: number): number {
    return IOMMU_HEADER_BYTES + Math.ceil(frames / 8) * 8;
  }

  /** Frames needed to cover a physical address space of `bytes` bytes. */
  static framesFor(bytes: number): number {
    return Math.ceil(bytes / PAGE_SIZE);
  }

  /**
   * View a table covering `frames` frames at `byteOffset` (4-byte aligned) of `buffer`. Throws
   * {@link DataspaceError} if it does not fit.
   */
  constructor(buffer: SharedArrayBuffer | ArrayBuffer, byteOffset: number, frames: number) {
    if (!Number.isInteger(frames) || frames <= 0) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `an IOMMU table needs a positive frame count, got ${frames}`,
      );
    }
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `IOMMU table offset ${byteOffset} must be 4-byte aligned`,
      );
    }
    if (byteOffset + IommuTable.bytesFor(frames) > buffer.byteLength) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `IOMMU table of ${frames} frames does not fit the buffer`,
      );
    }
    this.frames = frames;
    this.header = new Int32Array(buffer, byteOffset, IOMMU_HEADER_BYTES / 4);
    this.access = new Uint8Array(buffer, byteOffset + IOMMU_HEADER_BYTES, frames);
  }

  /** Setup: write the header and revoke every frame. */
  format(): void {
    this.access.fill(0);
    this.header.fill(0);
    this.header[W_FRAMES] = this.frames;
    Atomics.store(this.header, W_MAGIC, IOMMU_TABLE_MAGIC);
  }

  /** True if the header carries the magic number and this view's frame count. */
  get formatted(): boolean {
    return (
      Atomics.load(this.header, W_MAGIC) === IOMMU_TABLE_MAGIC &&
      Atomics.load(this.header, W_FRAMES) === this.frames
    );
  }

  /** Access bits of physical frame `frame` (0 outside the table). */
  accessOf(frame: number): number {
    if (!(frame >= 0 && frame < this.frames)) return 0;
    return Atomics.load(this.access, frame);
  }

  /** Writer: set the access bits of physical frame `frame` (ignored outside the table). */
  setAccess(frame: number, bits: number): void {
    if (!(frame >= 0 && frame < this.frames) || !Number.isInteger(frame)) return;
    Atomics.store(this.access, frame, bits & (IOMMU_READ | IOMMU_WRITE));
  }

  /**
   * Setup: add `bits` to every frame of `[paddr, paddr + bytes)` (e.g. a driver's descriptor
   * rings). Throws {@link DataspaceError} for a range outside the table.
   */
  grant(paddr: number, bytes: number, bits: number): void {
    if (
      !Number.isInteger(paddr) ||
      !Number.isInteger(bytes) ||
      paddr < 0 ||
      bytes <= 0 ||
      paddr + bytes > this.frames * PAGE_SIZE
    ) {
      throw new DataspaceError(
        'DS_BAD_ARGUMENT',
        `IOMMU grant ${paddr}+${bytes} is outside the table's ${this.frames} frames`,
      );
    }
    const last = Math.floor((paddr + bytes - 1) / PAGE_SIZE);
    for (let f = Math.floor(paddr / PAGE_SIZE); f <= last; f++) {
      Atomics.or(this.access, f, bits & (IOMMU_READ | IOMMU_WRITE));
    }
  }

  /**
   * Hot path (the device, per DMA burst): true if every frame of `[paddr, paddr + length)`
   * allows the access. Allocates nothing; an address outside the table is refused.
   */
  permits(paddr: number, length: number, write: boolean): boolean {
    if (!(paddr >= 0) || !(length > 0) || paddr + length > this.frames * PAGE_SIZE) return false;
    const need = write ? IOMMU_WRITE : IOMMU_READ;
    // Frames below 2^32 pages fit a shift; physical spaces here are far smaller.
    const first = paddr < 2 ** 31 ? paddr >>> PAGE_SHIFT : Math.floor(paddr / PAGE_SIZE);
    const end = paddr + length - 1;
    const last = end < 2 ** 31 ? end >>> PAGE_SHIFT : Math.floor(end / PAGE_SIZE);
    for (let f = first; f <= last; f++) {
      if ((Atomics.load(this.access, f) & need) === 0) return false;
    }
    return true;
  }

  /** The device: record a refused access (counted; the address and direction of the latest kept). */
  recordFault(paddr: number, write: boolean): void {
    Atomics.store(this.header, W_FAULT_LO, paddr >>> 0);
    Atomics.store(this.header, W_FAULT_HI, Math.floor(paddr / 0x1_0000_0000) | 0);
    Atomics.store(this.header, W_FAULT_ACCESS, write ? IOMMU_WRITE : IOMMU_READ);
    Atomics.add(this.header, W_FAULTS, 1);
  }

  /** Faults recorded since the table was formatted. */
  get faults(): number {
    return Atomics.load(this.header, W_FAULTS) >>> 0;
  }

  /** Physical address of the latest fault (0 if none). */
  get lastFaultAddress(): number {
    return (
      (Atomics.load(this.header, W_FAULT_HI) >>> 0) * 0x1_0000_0000 +
      (Atomics.load(this.header, W_FAULT_LO) >>> 0)
    );
  }

  /** Direction of the latest fault: {@link IOMMU_READ}, {@link IOMMU_WRITE}, or 0 if none. */
  get lastFaultAccess(): number {
    return Atomics.load(this.header, W_FAULT_ACCESS);
  }

  /** Frames with any access bit set (a scan; for tests and reports, not the hot path). */
  mappedFrames(): number {
    let n = 0;
    for (let f = 0; f < this.frames; f++) if (Atomics.load(this.access, f) !== 0) n++;
    return n;
  }
}
