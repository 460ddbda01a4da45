/**
 * The generator type of this package's composite kernel operations.
 *
 * @module
 */
import type { KernelCall } from '@udf/l4-kernel';

/**
 * A sequence of kernel calls used with `yield*`, returning `R`. Unlike `SysCall<R>` (one call
 * whose result is `R`), it may yield calls of any result type, so protocol helpers that make
 * several calls compose.
 */
export type DataspaceCall<R> = Generator<KernelCall, R, unknown>;
