import { defineConfig } from 'vitest/config';

// One runner for the whole repo. Tests import workspace packages through the
// "source" export condition, so they run against src/ and never a stale dist/.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['{shared,edge,core,loadtest,cli,infra,native}/{src,test}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind real sockets and spawn nats-server; two cores.
    maxWorkers: 2,
    // Fails the run if a test left a process behind (nats-server, chromium, node children).
    globalSetup: ['./shared/src/testing/process-leak-guard.ts'],
  },
});
