import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@udf/source'] },
  ssr: { resolve: { conditions: ['@udf/source'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
