/**
 * Hostile domains on the threads engine (issue 18): where a
 * {@link RealizeThreadsOptions.substitute} names the hostile components of
 * `hostile-components.ts` (engine-agnostic: they see only `Sys`) as `module: '@udf/system'`, as
 * `realizeSim`'s substitute does, the domain workers import them by URL from this package's
 * entry module, which exports them (`src/index.ts` under the tests, `dist/index.js` built).
 *
 * @module
 */
import type { ComponentRef } from './components.js';

/** Components of this package a substitute may name (`module: '@udf/system'`) on threads. */
export const THREADS_OWN_COMPONENTS: readonly string[] = [
  'hostileStackServer',
  'hostileDriverServer',
];

/**
 * The reference a domain worker can import: one naming a component of this package
 * (`module: '@udf/system'`, an export of {@link THREADS_OWN_COMPONENTS}) is pointed at
 * `moduleUrl` (the package's entry module); any other is returned as it is.
 *
 * @param ref - what the substitute returned
 * @param moduleUrl - the URL of the package's entry module, as the realiser locates it
 */
export function threadsComponentRef(ref: ComponentRef, moduleUrl: string): ComponentRef {
  if (ref.module !== '@udf/system' || !THREADS_OWN_COMPONENTS.includes(ref.export)) return ref;
  return { module: moduleUrl, export: ref.export, config: ref.config };
}
