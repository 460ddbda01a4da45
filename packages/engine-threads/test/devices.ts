// Device factories for the device worker: `(host, config) => MmioDevice & { port?: WirePort }`.
import { Dp83820 } from '@udf/driver-dp83820';
import type { DeviceHost } from '@udf/l4-kernel';

/** The real DP83820 model on the device worker's host. */
export function dp83820(host: DeviceHost, config: { irqLine: number; mac: string }) {
  return new Dp83820({ host, irqLine: config.irqLine, mac: config.mac });
}

/** A factory that throws (a device that cannot be built). */
export function broken(): never {
  throw new Error('no such hardware');
}
