/**
 * Base class of every error a udf package throws for misuse or bad configuration.
 *
 * Each subclass passes a stable, machine-readable {@link UdfError.code} (for example
 * `'LAYOUT'`); callers branch on the code, never on the message. Bad *data* on a hot path
 * (a corrupt ring index written by a peer) is never thrown: it is dropped and counted.
 *
 * @example
 * ```ts
 * class SwitchConfigError extends UdfError {
 *   constructor(message: string) {
 *     super('SWITCH_CONFIG', message);
 *   }
 * }
 * ```
 */
export class UdfError extends Error {
  /** Stable string code identifying the kind of error, e.g. `'LAYOUT'`. */
  readonly code: string;

  /**
   * @param code - stable string code of the error kind
   * @param message - human-readable explanation
   * @param options - standard `Error` options (e.g. `cause`)
   */
  protected constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Thrown when a shared-memory layout is invalid: capacity not a power of two, slot size out of
 * range, a misaligned offset, or a region that does not fit in its buffer. Code `'LAYOUT'`.
 */
export class LayoutError extends UdfError {
  /** @param message - what is wrong with the layout */
  constructor(message: string) {
    super('LAYOUT', message);
  }
}

/**
 * Thrown when a caller of this package passes a bad argument on its own side of a shared
 * structure (a too-small output array, an out-of-range buffer id to `free`). Code `'ARGUMENT'`.
 *
 * Values read from shared memory never cause this error; they are counted as corruptions.
 */
export class ArgumentError extends UdfError {
  /** @param message - what is wrong with the argument */
  constructor(message: string) {
    super('ARGUMENT', message);
  }
}
