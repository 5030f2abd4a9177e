import os from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: one worker on a 2-core machine, where many
    // files mostly wait on a simulator or a spawned CLI. Two workers there halve the suite's wall time.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    reporters: ['default', './test/summary-reporter.ts'],
  },
})
