/**
 * Typed errors of the dataspace framework. Setup and misuse throw; hot paths return statuses
 * and count (see {@link Session.validate} and {@link TranslationCache.lookup}).
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';

/** Stable codes of {@link DataspaceError}. */
export type DataspaceErrorCode =
  | 'DS_BAD_ARGUMENT'
  | 'DS_NO_MEMORY'
  | 'DS_NO_SUCH_DATASPACE'
  | 'DS_ACCESS_DENIED'
  | 'DS_DRIVER_DISABLED'
  | 'DS_CACHE_FULL'
  | 'DS_SESSION_FULL'
  | 'DS_DUPLICATE'
  | 'DS_REGION_OVERLAP'
  | 'DS_NO_REGION'
  | 'DS_IPC_FAILED'
  | 'DS_PROTOCOL';

/** Misuse or bad configuration of a dataspace, manager, session or translation cache. */
export class DataspaceError extends UdfError {
  /** Stable code naming the rule that was broken. */
  declare readonly code: DataspaceErrorCode;
  /** Create an error with a stable {@link DataspaceErrorCode}. */
  constructor(code: DataspaceErrorCode, message: string) {
    super(code, message);
    this.name = 'DataspaceError';
  }
}
