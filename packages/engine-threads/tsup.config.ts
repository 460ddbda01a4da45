import { defineConfig } from 'tsup';

export default defineConfig({
  // the domain and device workers are entries of their own: the engine starts them by URL next
  // to the engine module
  entry: ['src/index.ts', 'src/domain-worker.ts', 'src/device-worker.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url locates the worker script in the CommonJS build too
  shims: true,
});
