/**
 * Hostile domains on the threads engine (issue 18): the module the domain workers `import()`
 * (by its own URL) to build the hostile components of `hostile-components.ts` — engine-agnostic,
 * they see only `Sys` — where a {@link RealizeThreadsOptions.substitute} names them as
 * `module: '@udf/system'` (as `realizeSim`'s substitute does).
 *
 * @module
 */
import type { ComponentRef } from './components.js';

export { hostileDriverServer, hostileStackServer } from './hostile-components.js';

/** Components of this package a substitute may name (`module: '@udf/system'`) on threads. */
export const THREADS_OWN_COMPONENTS: readonly string[] = [
  'hostileStackServer',
  'hostileDriverServer',
];

/**
 * The reference a domain worker can import: one naming a component of this package
 * (`module: '@udf/system'`, an export of {@link THREADS_OWN_COMPONENTS}) is pointed at
 * `moduleUrl` (this module's URL); any other is returned as it is.
 *
 * @param ref - what the substitute returned
 * @param moduleUrl - the URL of this module, as the realiser locates it
 */
export function threadsComponentRef(ref: ComponentRef, moduleUrl: string): ComponentRef {
  if (ref.module !== '@udf/system' || !THREADS_OWN_COMPONENTS.includes(ref.export)) return ref;
  return { module: moduleUrl, export: ref.export, config: ref.config };
}
