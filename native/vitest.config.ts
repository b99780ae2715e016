import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Runs only native/test (the root config's include does not list native/ yet):
//   npx vitest run --config native/vitest.config.ts
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    maxWorkers: 1,
  },
});
