/**
 * Plain-data references to components, resolved inside a domain's worker. A reference must be
 * structured-clone-safe (it crosses to the worker with `postMessage` semantics): the module is a
 * specifier the worker can `import()` — use an absolute `file:` URL for your own modules — the
 * export names a thread body or a factory, and `config` is plain data (numbers, strings,
 * arrays, objects, `SharedArrayBuffer`s).
 *
 * @module
 */
import type { ThreadBody } from '@udf/l4-kernel';

/** A component reference: `module`'s export `export`, built with `config`. */
export interface ComponentRef {
  /** Module specifier for `import()` inside the worker (an absolute `file:` URL for local files). */
  readonly module: string;
  /**
   * Name of the export: either a thread body (`function* (sys)`), or a factory
   * `(config) => ThreadBody` called once with {@link ComponentRef.config}.
   */
  readonly export: string;
  /** Configuration passed to a factory export (structured-clone-safe data). */
  readonly config?: unknown;
}

const GENERATOR_FUNCTION = Object.getPrototypeOf(function* () {}) as object;

/**
 * Import and build a component in the current thread.
 *
 * @throws `Error` if the module cannot be imported, has no such function export, or the factory
 *   does not return a function (the worker reports this as a `COMPONENT_LOAD` failure)
 */
export async function loadComponent(ref: ComponentRef): Promise<ThreadBody> {
  const mod = (await import(ref.module)) as Record<string, unknown>;
  const exp = mod[ref.export];
  if (typeof exp !== 'function') {
    throw new Error(`module ${ref.module} has no function export '${ref.export}'`);
  }
  if (Object.getPrototypeOf(exp) === GENERATOR_FUNCTION) return exp as ThreadBody;
  const body = (exp as (config: unknown) => unknown)(ref.config);
  if (typeof body !== 'function') {
    throw new Error(`factory '${ref.export}' of ${ref.module} did not return a thread body`);
  }
  return body as ThreadBody;
}
