// Test runner settings: real processes need generous timeouts; under CI a JSON summary is kept for .ci/run.
import { defineConfig } from 'vitest/config';

const ci = Boolean(process.env.CI) && process.env.CI !== 'false';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/no-better-sqlite3.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ci ? ['default', ['json', { outputFile: 'test/.cache/vitest-results.json' }]] : ['default'],
  },
});
