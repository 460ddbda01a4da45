/**
 * `@udf/driver-dp83820`: a register-level model of the National Semiconductor DP83820 gigabit
 * Ethernet controller (`device`) and the user-level driver for it (`driver`).
 *
 * @packageDocumentation
 */
export * from './device/dp83820.js';
export * from './device/interrupts.js';
export * from './device/pci-bus.js';
export * from './device/registers.js';
export * from './device/stats.js';
export * from './device/timing.js';
export * from './driver/config.js';
export * from './driver/costs.js';
export { resetAndRaiseSoftwareInterrupt, resetDevice } from './driver/device-driver.js';
export * from './driver/driver.js';
export * from './driver/server.js';
