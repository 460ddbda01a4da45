/**
 * Hostile domains on the threads engine (issue 18): where a
 * {@link RealizeThreadsOptions.substitute} names the hostile components of
 * `hostile-components.ts` (engine-agnostic: they see only `Sys`) as `module:
 * '@udf/system/hostile-components'` (or `'@udf/system'`), as `realizeSim`'s substitute does, the
 * domain workers import them by URL from that module of this package (`src/hostile-components.ts`
 * under the tests, `dist/hostile-components.js` built): a worker resolves bare specifiers from
 * the engine's package, which does not depend on this one.
 *
 * @module
 */
import type { ComponentRef } from './components.js';

/** Components of this package a substitute may name on threads (module `@udf/system/hostile-components`). */
export const THREADS_OWN_COMPONENTS: readonly string[] = [
  'hostileStackServer',
  'hostileDriverServer',
];

/**
 * The reference a domain worker can import: one naming a component of this package
 * (`module: '@udf/system/hostile-components'` or `'@udf/system'`, an export of
 * {@link THREADS_OWN_COMPONENTS}) is pointed at `moduleUrl` (the hostile components' module of
 * this package); any other is returned as it is.
 *
 * @param ref - what the substitute returned
 * @param moduleUrl - the URL of that module, as the realiser locates it
 */
export function threadsComponentRef(ref: ComponentRef, moduleUrl: string): ComponentRef {
  const ours = ref.module === '@udf/system' || ref.module === '@udf/system/hostile-components';
  if (!ours || !THREADS_OWN_COMPONENTS.includes(ref.export)) return ref;
  return { module: moduleUrl, export: ref.export, config: ref.config };
}
