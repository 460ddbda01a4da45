import { defineConfig } from 'tsup';

export default defineConfig({
  // the threads realiser names two modules by URL for the engine's workers to import: the
  // component factories and the NIC device factory; `hostile-components` is the subpath export
  // `@udf/system/hostile-components` (the hostile-domain components alone, for a worker)
  entry: [
    'src/index.ts',
    'src/threads-components.ts',
    'src/threads-devices.ts',
    'src/hostile-components.ts',
  ],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/hostile-components.ts'] },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url locates those modules in the CommonJS build too
  shims: true,
});
