import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A per-run folder for every captured log, checked for secrets when the run ends.
    globalSetup: ['test/global-setup.ts'],
    // Integration and e2e tests start real Envoy/SpiceDB processes: give them room, and keep
    // the number of files running at once to the machine's two cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
