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
  | 'IPBENCH_UNKNOWN_TEST'
  | 'IPBENCH_UNSUPPORTED';

/**
 * The error thrown by `@udf/ipbench` on misuse or bad configuration.
 *
 * @remarks The project's `UdfError` base lives in `@udf/lockfree`, which does not export it yet;
 * this class carries the same shape (`name`, stable `code`) so it can be re-parented later.
 */
export class IpbenchError extends Error {
  /** A stable, machine-readable code. */
  readonly code: IpbenchErrorCode;

  /**
   * @param code - stable code for programs to match on
   * @param message - human-readable explanation
   */
  constructor(code: IpbenchErrorCode, message: string) {
    super(message);
    this.name = 'IpbenchError';
    this.code = code;
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
