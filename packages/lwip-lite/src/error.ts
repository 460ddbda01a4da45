/**
 * Errors thrown for misuse and bad configuration. Bad *data* (a malformed frame) is never thrown:
 * it is dropped and counted.
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';

/**
 * Thrown by `@udf/lwip-lite` for misuse or bad configuration (an unparsable address string, a
 * buffer released twice, a port bound twice). Callers branch on the stable {@link LwipError.code}.
 */
export class LwipError extends UdfError {
  /** Stable machine-readable code, e.g. `'ADDRESS'`, `'PORT_IN_USE'`, `'DOUBLE_FREE'`. */
  declare readonly code: LwipErrorCode;

  /**
   * @param code - stable code of the error kind
   * @param message - human-readable explanation
   */
  // biome-ignore lint/complexity/noUselessConstructor: makes UdfError's protected constructor public
  constructor(code: LwipErrorCode, message: string) {
    super(code, message);
  }
}

/** The codes {@link LwipError} uses. */
export type LwipErrorCode =
  | 'ADDRESS'
  | 'CONFIG'
  | 'SESSION'
  | 'PORT_IN_USE'
  | 'SOCKET_CLOSED'
  | 'DOUBLE_FREE'
  | 'FOREIGN_BUFFER';
