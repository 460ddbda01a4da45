/**
 * Errors of the system package.
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';

/** A description validated but could not be built or started (code `ASSEMBLY`). */
export class AssemblyError extends UdfError {
  /** @param message - what failed */
  constructor(message: string) {
    super('ASSEMBLY', message);
  }
}

/** Bad parameters for an experiment step (code `STEP_OPTIONS`). */
export class StepOptionsError extends UdfError {
  /** @param message - which field and what was expected */
  constructor(message: string) {
    super('STEP_OPTIONS', message);
  }
}
