import { defineConfig } from 'tsup';

export default defineConfig({
  // the threads realiser names two modules by URL for the engine's workers to import: the
  // component factories and the NIC device factory
  entry: ['src/index.ts', 'src/threads-components.ts', 'src/threads-devices.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url locates those modules in the CommonJS build too
  shims: true,
});
