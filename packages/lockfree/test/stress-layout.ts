import { BufferPool, NotificationBit, type NotifyPolicy, SpscRing } from '../src/index.js';

/** Shared layout of the cross-thread tests: a ring, two notification bits, a buffer pool. */
export interface StressConfig {
  capacity: number;
  slotWords: number;
  items: number;
  /** 'spin': both ends poll; 'block': both ends sleep with sleepUntil when they cannot proceed. */
  mode: 'spin' | 'block';
  policy: NotifyPolicy;
  /** Largest batch each side uses (1 = single push/pop only). */
  maxBatch: number;
  /** Producer pauses after about one in `pauseEvery` batches, so the consumer drains and sleeps. */
  pauseEvery: number;
  seed: number;
}

export interface StressLayout {
  ring: SpscRing;
  /** The consumer's bit: "wake me when the ring has items". */
  dataBit: NotificationBit;
  /** The producer's bit: "wake me when the ring has space". */
  spaceBit: NotificationBit;
}

export function stressBytes(c: StressConfig): number {
  return Math.ceil(SpscRing.byteLength(c.capacity, c.slotWords) / 64) * 64 + 128;
}

export function attach(sab: SharedArrayBuffer, c: StressConfig): StressLayout {
  const bits = Math.ceil(SpscRing.byteLength(c.capacity, c.slotWords) / 64) * 64;
  return {
    ring: new SpscRing(sab, 0, c.capacity, c.slotWords),
    dataBit: new NotificationBit(sab, bits),
    spaceBit: new NotificationBit(sab, bits + 64),
  };
}

/** Second word of descriptor `seq`. */
export function mix(seq: number): number {
  return Math.imul(seq ^ (seq >>> 16), 0x9e3779b1) >>> 0;
}

/** Fill descriptor `seq` (4 words: seq, mix, seq ^ 0xa5a5a5a5, checksum of the three). */
export function writeDescriptor(dst: Uint32Array, at: number, seq: number): void {
  const a = seq >>> 0;
  const b = mix(seq);
  const c = (seq ^ 0xa5a5a5a5) >>> 0;
  dst[at] = a;
  dst[at + 1] = b;
  dst[at + 2] = c;
  dst[at + 3] = (a + b + c) >>> 0;
}

export { BufferPool };
