export type { NotifyPolicy } from '@udf/lockfree';
export * from './clock.js';
export * from './descriptor.js';
export * from './session.js';
export * from './switch.js';
export * from './wire.js';
