import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/sequencer.ts';

/**
 * The python3 interpreter itself, for the pty helper every simulated device starts
 * (src/sim/pty/pty-device.ts, IFPP_PYTHON): a version manager's shim on PATH (pyenv here) is a
 * shell script that costs ~0.25 s of CPU per start. Undefined when python3 is missing (the
 * simulators then say so).
 */
function pythonItself(): string | undefined {
  if (process.env.IFPP_PYTHON) return process.env.IFPP_PYTHON;
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const python = pythonItself();

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
    env: { IFPP_SIM_CHILDREN: 'dist', ...(python ? { IFPP_PYTHON: python } : {}) },
    // Known-slow files first, so no long file starts last (test/sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
  },
});
