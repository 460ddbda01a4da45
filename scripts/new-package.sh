#!/usr/bin/env bash
# Creates the skeleton of a published @udf package: scripts/new-package.sh NAME "description"
set -euo pipefail
name=$1; desc=$2; dir=packages/$name
mkdir -p "$dir/src"
cat > "$dir/package.json" <<JSON
{
  "name": "@udf/$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "MIT",
  "type": "module",
  "sideEffects": false,
  "files": ["dist"],
  "main": "./dist/index.cjs",
  "module": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "exports": {
    ".": {
      "@udf/source": "./src/index.ts",
      "import": { "types": "./dist/index.d.ts", "default": "./dist/index.js" },
      "require": { "types": "./dist/index.d.cts", "default": "./dist/index.cjs" }
    }
  },
  "publishConfig": { "access": "public" },
  "engines": { "node": ">=20.19" },
  "scripts": {
    "build": "tsup",
    "typecheck": "tsc -p tsconfig.json",
    "test": "vitest run",
    "bench": "node --import tsx bench/index.ts"
  },
  "dependencies": {},
  "devDependencies": {}
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "include": ["src", "bench", "test"]
}
JSON
cat > "$dir/tsup.config.ts" <<TS
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
TS
cat > "$dir/vitest.config.ts" <<TS
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@udf/source'] },
  ssr: { resolve: { conditions: ['@udf/source'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
TS
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
