// Types and layout shared by bench/index.ts and bench/worker.ts.
import type { MessagePort } from 'node:worker_threads';
import { NotificationBit, type NotifyPolicy, SpscRing } from '../src/index.js';

export interface RingJob {
  kind: 'ring-producer' | 'ring-consumer';
  sab: SharedArrayBuffer;
  capacity: number;
  items: number;
  batch: number;
  /** spin: poll when the ring is empty/full; block: sleepUntil on the notification bits. */
  mode: 'spin' | 'block';
  policy: NotifyPolicy;
  /** Offered rate in items per second (0: as fast as possible). */
  rate: number;
}

/**
 * The same cross-thread transfer of 32-byte descriptors through @udf/lockfree or ringbuf.js:
 * a spinning producer and a spinning consumer, no notification (ringbuf.js has none), each
 * descriptor carrying its sequence number in word 0, checked by the consumer.
 */
export interface CompareJob {
  kind: 'cmp-producer' | 'cmp-consumer';
  impl: 'udf' | 'ringbuf';
  sab: SharedArrayBuffer;
  /** Ring capacity in descriptors. */
  capacity: number;
  items: number;
  batch: number;
}

export interface PostJob {
  kind: 'post-producer' | 'post-consumer';
  port: MessagePort;
  items: number;
  batch: number;
}

export const SLOT_WORDS = 8; // 32-byte descriptors
export const now = () => performance.timeOrigin + performance.now();

export function ringLayout(sab: SharedArrayBuffer, capacity: number) {
  const bits = Math.ceil(SpscRing.byteLength(capacity, SLOT_WORDS) / 64) * 64;
  return {
    ring: new SpscRing(sab, 0, capacity, SLOT_WORDS),
    dataBit: new NotificationBit(sab, bits),
    spaceBit: new NotificationBit(sab, bits + 64),
    bytes: bits + 128,
  };
}
