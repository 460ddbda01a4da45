/**
 * Components as plain-data references: `{ module, export, config }`, where `config` survives
 * structured clone (numbers, strings, booleans, null, arrays and plain objects only: no
 * closures, no live objects). A realiser resolves a reference to a thread body inside the
 * component's domain; on the sim engine through the static registry below (the threads engine
 * may `import()` the module in the domain's worker instead: the hostile components have a module
 * of their own for that, `@udf/system/hostile-components`).
 *
 * @module
 */
import { dataspaceManagerServer } from '@udf/dataspace';
import { dp83820DriverServer } from '@udf/driver-dp83820';
import type { ThreadBody } from '@udf/l4-kernel';
import { socketEcho, socketKernelHalf, stackServer } from '@udf/lwip-lite';
import { AssemblyError } from './errors.js';
import { hostileDriverServer, hostileStackServer } from './hostile-components.js';

/** A component named by module, export and plain configuration. */
export interface ComponentRef {
  /** Package (module specifier) exporting the factory, e.g. `@udf/driver-dp83820`. */
  readonly module: string;
  /** Name of the factory export: a function from `config` to a thread body. */
  readonly export: string;
  /** The factory's configuration: plain data. */
  readonly config: unknown;
}

type Factory = (config: never) => ThreadBody;

/** The component factories the sim realiser knows, by module and export. */
const REGISTRY: Readonly<Record<string, Readonly<Record<string, Factory>>>> = {
  '@udf/dataspace': { dataspaceManagerServer: dataspaceManagerServer as Factory },
  '@udf/driver-dp83820': { dp83820DriverServer: dp83820DriverServer as Factory },
  '@udf/lwip-lite': {
    stackServer: stackServer as Factory,
    socketEcho: socketEcho as Factory,
    socketKernelHalf: socketKernelHalf as Factory,
  },
  // The hostile-domain components (issue 18), under the subpath a threads-engine worker imports
  // (`@udf/system/hostile-components`) and, as `realizeSim`'s substitutes name them, the package.
  ...Object.fromEntries(
    ['@udf/system/hostile-components', '@udf/system'].map((module) => [
      module,
      {
        hostileStackServer: hostileStackServer as Factory,
        hostileDriverServer: hostileDriverServer as Factory,
      },
    ]),
  ),
};

/** True if `value` is plain data (what structured clone and JSON carry unchanged). */
export function isPlainData(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return true;
    case 'object': {
      if (Array.isArray(value)) return value.every(isPlainData);
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      return Object.values(value as object).every(isPlainData);
    }
    default:
      return false;
  }
}

/**
 * Build a component's thread body from its reference.
 * @throws AssemblyError for an unknown module or export, or a configuration that is not plain data
 */
export function resolveComponent(ref: ComponentRef): ThreadBody {
  const factory = REGISTRY[ref.module]?.[ref.export];
  if (factory === undefined)
    throw new AssemblyError(`no component factory ${ref.module}#${ref.export}`);
  if (!isPlainData(ref.config))
    throw new AssemblyError(`${ref.module}#${ref.export}: configuration is not plain data`);
  return factory(structuredClone(ref.config) as never);
}
