import { defineConfig } from 'tsup';

export default defineConfig({
  // `sys`: the Sys contract alone, what components import; `conformance`: the Sys conformance
  // suite for engines.
  entry: {
    index: 'src/index.ts',
    sys: 'src/sys.ts',
    conformance: 'src/conformance/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
