import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Each worker process imports the gateway (Prisma, the SQL parsers, Bolt, BullMQ) once, not once
    // per file: 208 s of imports in a run became 15 s. Files share the process, so a test that
    // reads a process-wide value (the /metrics counters) compares it with its own baseline.
    isolate: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
