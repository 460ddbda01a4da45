import type { RampResult } from '../ramp.js';

/** A ramp (or several configurations) as pretty JSON; RTT samples are summarised, not listed. */
export function toJson(result: RampResult | readonly RampResult[]): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
