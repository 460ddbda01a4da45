/**
 * Typed errors of the threads engine. Misuse of the setup API and bad configuration throw
 * {@link ThreadsEngineError}; a component thread that throws or fails to load is reported as a
 * {@link ThreadFailedError} (never thrown across the domain boundary: the engine collects them).
 *
 * @module
 */
import { UdfError } from '@udf/lockfree';

/** Stable codes of {@link ThreadsEngineError}. */
export type ThreadsEngineErrorCode =
  | 'CONFIG'
  | 'LAYOUT'
  | 'STATE'
  | 'NO_SUCH_DOMAIN'
  | 'NO_SUCH_THREAD'
  | 'OVERLAP'
  | 'TIMEOUT'
  | 'DEADLOCK';

/** Misuse or bad configuration of a {@link ThreadsEngine}; branch on {@link ThreadsEngineError.code}. */
export class ThreadsEngineError extends UdfError {
  /** Stable, machine-readable kind of error. */
  declare readonly code: ThreadsEngineErrorCode;

  /**
   * @param code - stable code of the error kind
   * @param message - human-readable explanation
   */
  // biome-ignore lint/complexity/noUselessConstructor: makes UdfError's protected constructor public and narrows `code`
  constructor(code: ThreadsEngineErrorCode, message: string) {
    super(code, message);
  }
}

/** Why a thread failed: its body threw, its component could not be built, or its domain worker died. */
export type ThreadFailureKind = 'THREAD_FAILED' | 'COMPONENT_LOAD' | 'DOMAIN_FAILED';

/**
 * A component thread died with an error. Its IPC partners got `non-existing-partner`. Carries
 * the thread's id and name and the original error's text (the error object itself stayed in
 * the domain's worker).
 */
export class ThreadFailedError extends UdfError {
  /** Stable kind of failure. */
  declare readonly code: ThreadFailureKind;
  /** The failed thread's id. */
  readonly thread: number;
  /** The failed thread's name. */
  readonly threadName: string;
  /** The name of the domain it ran in. */
  readonly domain: string;
  /** Stack trace of the original error inside the worker, if any. */
  readonly remoteStack: string | undefined;

  /**
   * @param code - kind of failure
   * @param thread - thread id
   * @param threadName - thread name
   * @param domain - domain name
   * @param message - the original error's message
   * @param remoteStack - the original error's stack
   */
  constructor(
    code: ThreadFailureKind,
    thread: number,
    threadName: string,
    domain: string,
    message: string,
    remoteStack?: string,
  ) {
    super(code, `thread ${threadName} (${thread}) in domain ${domain}: ${message}`);
    this.thread = thread;
    this.threadName = threadName;
    this.domain = domain;
    this.remoteStack = remoteStack;
  }
}
