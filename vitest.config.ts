import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/sequencer.ts';

export default defineConfig({
  resolve: {
    // The package's public config helpers, as a config module imports them: from source here.
    alias: { 'ifpp-station/config': fileURLToPath(new URL('./src/station/config/public-api.ts', import.meta.url)) },
  },
  test: {
    // bin/ifpp.js and the simulator processes run dist/: build it first (incremental).
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests open real ptys and child processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // Simulator child processes (bridges, jig boards, line stations) run from the dist/ that
    // globalSetup just built instead of compiling src/ through tsx at every start (src/sim/node-entry.ts).
    env: { IFPP_SIM_CHILDREN: 'dist' },
    // Known-slow files first, so no long file starts last (test/sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
  },
});
