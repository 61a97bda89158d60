import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A per-run folder for every captured log, checked for secrets when the run ends.
    globalSetup: ['test/global-setup.ts'],
    // Integration and e2e tests start real Envoy/SpiceDB processes: give them room, and keep
    // the number of files running at once to the machine's two cores. The timeouts only turn a
    // hang into a failure; on a machine loaded far beyond its cores (`npm run stress`) a test
    // that spawns the CLI a few times legitimately needs minutes, so they are generous.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
