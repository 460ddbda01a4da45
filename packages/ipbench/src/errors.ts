import { UdfError } from '@udf/lockfree';

/**
 * Stable error codes raised by `@udf/ipbench` for misuse and bad configuration.
 *
 * @remarks Bad data on the wire (a malformed echo, a garbled protocol line) is never thrown:
 * it is counted (`bad`, `lost`) or answered with a protocol error status.
 */
export type IpbenchErrorCode =
  | 'IPBENCH_BAD_CONFIG'
  | 'IPBENCH_BAD_ADDRESS'
  | 'IPBENCH_ABORTED'
  | 'IPBENCH_BUSY'
  | 'IPBENCH_PROTOCOL'
  | 'IPBENCH_TIMEOUT'
  | 'IPBENCH_UNKNOWN_TEST'
  | 'IPBENCH_UNSUPPORTED';

/**
 * The error thrown by `@udf/ipbench` on misuse or bad configuration: a `UdfError` (the
 * project-wide base exported by `@udf/lockfree`) with a stable {@link IpbenchErrorCode}.
 */
export class IpbenchError extends UdfError {
  /** A stable, machine-readable code. */
  declare readonly code: IpbenchErrorCode;

  /**
   * @param code - stable code for programs to match on
   * @param message - human-readable explanation
   * @param options - standard `Error` options (e.g. `cause`)
   */
  // biome-ignore lint/complexity/noUselessConstructor: makes UdfError's protected constructor public
  constructor(code: IpbenchErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Throws `IPBENCH_BAD_CONFIG` unless `value` is a finite number satisfying `ok`. */
export function checkNumber(
  name: string,
  value: number,
  ok: (v: number) => boolean,
  expected: string,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new IpbenchError(
      'IPBENCH_BAD_CONFIG',
      `${name} must be ${expected}, got ${String(value)}`,
    );
  }
  return value;
}
