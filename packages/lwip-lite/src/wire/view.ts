/**
 * The base of the zero-copy packet views: a window `(bytes, offset, length)` over a byte buffer
 * whose big-endian getters return 0 past the window instead of throwing, and whose setters
 * ignore writes past it. A view object is re-pointed with {@link PacketView.wrap} so that the
 * hot path reuses one view per layer and allocates nothing.
 *
 * @module
 */

/** A window over a byte buffer with bounds-safe big-endian field access. */
export class PacketView {
  /** The underlying bytes (for a pbuf: the whole dataspace view). */
  bytes: Uint8Array = new Uint8Array(0);
  /** Offset of the first byte of the packet in {@link PacketView.bytes}. */
  offset = 0;
  /** Bytes of the packet, clamped to what the buffer holds. */
  length = 0;

  /**
   * @param bytes - buffer to view (omit to create an empty view for later {@link PacketView.wrap})
   * @param offset - first byte of the packet
   * @param length - packet length (default: to the end of `bytes`)
   */
  constructor(bytes?: Uint8Array, offset = 0, length?: number) {
    if (bytes) this.wrap(bytes, offset, length);
  }

  /** Point the view at `length` bytes of `bytes` from `offset` (clamped to the buffer). */
  wrap(bytes: Uint8Array, offset = 0, length = bytes.length - offset): this {
    const start = Math.max(0, Math.min(offset | 0, bytes.length));
    this.bytes = bytes;
    this.offset = start;
    this.length = Math.max(0, Math.min(length | 0, bytes.length - start));
    return this;
  }

  /** Byte at `at` of the packet, 0 past the end. */
  protected u8(at: number): number {
    return at >= 0 && at < this.length ? this.bytes[this.offset + at]! : 0;
  }

  /** Big-endian 16-bit field at `at`, 0 if it does not fit. */
  protected u16(at: number): number {
    if (at < 0 || at + 2 > this.length) return 0;
    const o = this.offset + at;
    return (this.bytes[o]! << 8) | this.bytes[o + 1]!;
  }

  /** Big-endian 32-bit field at `at` (unsigned), 0 if it does not fit. */
  protected u32(at: number): number {
    if (at < 0 || at + 4 > this.length) return 0;
    const b = this.bytes;
    const o = this.offset + at;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  /** Write a byte at `at` if it fits. */
  protected set8(at: number, value: number): void {
    if (at >= 0 && at < this.length) this.bytes[this.offset + at] = value;
  }

  /** Write a big-endian 16-bit field at `at` if it fits. */
  protected set16(at: number, value: number): void {
    if (at < 0 || at + 2 > this.length) return;
    const o = this.offset + at;
    this.bytes[o] = value >>> 8;
    this.bytes[o + 1] = value;
  }

  /** Write a big-endian 32-bit field at `at` if it fits. */
  protected set32(at: number, value: number): void {
    if (at < 0 || at + 4 > this.length) return;
    const b = this.bytes;
    const o = this.offset + at;
    b[o] = value >>> 24;
    b[o + 1] = value >>> 16;
    b[o + 2] = value >>> 8;
    b[o + 3] = value;
  }

  /** Copy six bytes at `at` into `out` (zeros past the end); returns `out`. */
  protected readMac(at: number, out: Uint8Array): Uint8Array {
    for (let i = 0; i < 6; i++) out[i] = this.u8(at + i);
    return out;
  }

  /** Write six bytes of `mac` at `at` (only what fits). */
  protected writeMac(at: number, mac: Uint8Array): void {
    for (let i = 0; i < 6; i++) this.set8(at + i, mac[i] ?? 0);
  }
}
