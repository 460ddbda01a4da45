/**
 * Typed errors for misuse and bad configuration of the kernel model and its machine.
 *
 * Bad input that arrives through `Sys` (invalid thread ids, unmapped addresses, malformed items)
 * never throws: it returns the L4 error a real kernel returns. Only the privileged setup API and
 * the engine's own configuration throw {@link KernelError}.
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';

/** Stable codes of {@link KernelError}. */
export type KernelErrorCode =
  | 'CONFIG'
  | 'ALIGNMENT'
  | 'RANGE'
  | 'NO_SUCH_THREAD'
  | 'NO_SUCH_SPACE'
  | 'OUT_OF_MEMORY'
  | 'OVERLAP'
  | 'DEAD';

/**
 * Thrown by the privileged setup API and the engine for programming errors in configuration
 * (misaligned mappings, out-of-range physical addresses, unknown spaces). A {@link UdfError};
 * branch on {@link KernelError.code}, never on the message.
 */
export class KernelError extends UdfError {
  /** Stable, machine-readable kind of error. */
  declare readonly code: KernelErrorCode;

  /**
   * @param code - stable code of the error kind
   * @param message - human-readable explanation
   */
  // biome-ignore lint/complexity/noUselessConstructor: makes UdfError's protected constructor public and narrows `code`
  constructor(code: KernelErrorCode, message: string) {
    super(code, message);
  }
}
