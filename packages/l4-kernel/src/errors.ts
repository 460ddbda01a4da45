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
  | 'DEAD'
  | 'THREAD_FAILED';

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
   * @param options - standard `Error` options (`cause`)
   */
  // biome-ignore lint/complexity/noUselessConstructor: makes UdfError's protected constructor public and narrows `code`
  constructor(code: KernelErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A component thread died: its body threw, yielded something that is not a kernel call, or
 * created a kernel call without running it with `yield*` (L4 has no such thing; the operation
 * would silently not happen). The sim engine's `runUntil`/`runFor` throw it at the instant the
 * thread dies (unless the engine was created with `threadFailures: 'record'`), so a broken
 * component fails the run naming the thread instead of leaving a stuck system.
 * Code `THREAD_FAILED`; the original exception is `cause`.
 */
export class ThreadFailedError extends KernelError {
  /** Id of the thread that died. */
  readonly threadId: number;
  /** Name of the thread that died. */
  readonly threadName: string;
  /** Virtual time of death, in cycles. */
  readonly at: number;

  /**
   * @param threadId - id of the thread
   * @param threadName - its name
   * @param at - virtual time in cycles
   * @param cause - the exception that killed it
   */
  constructor(threadId: number, threadName: string, at: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('THREAD_FAILED', `thread ${threadName} (${threadId}) died: ${why}`, { cause });
    this.threadId = threadId;
    this.threadName = threadName;
    this.at = at;
  }
}
