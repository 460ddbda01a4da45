/**
 * Lock-free structures over shared memory for the udf driver framework: SPSC descriptor rings,
 * buffer pools with free-id rings, and the notification bit with its race-free sleep protocol.
 * Zero dependencies; works with `worker_threads` and in browsers.
 *
 * @packageDocumentation
 */
export { ArgumentError, LayoutError, UdfError } from './errors.js';
export {
  CONSUMER_ASLEEP,
  CONSUMER_AWAKE,
  NotificationBit,
  type NotificationStats,
  Notifier,
  type NotifierStats,
  type NotifyPolicy,
  sleepUntil,
  sleepUntilAsync,
  wake,
} from './notify.js';
export { BufferPool, POOL_BUFFER_ALIGNMENT, POOL_MAX_BUFFERS, type PoolStats } from './pool.js';
export {
  RING_ALIGNMENT,
  RING_HEAD_OFFSET,
  RING_MAX_CAPACITY,
  RING_MAX_SLOT_WORDS,
  RING_SLOTS_OFFSET,
  RING_TAIL_OFFSET,
  type RingStats,
  SpscRing,
} from './ring.js';
