/**
 * The suite's file order (test/sequencer.ts): every file it names exists (a renamed slow file
 * would silently drop back to vitest's order), and the named files come first, longest first.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestSpecification, Vitest } from 'vitest/node';
import SlowFirstSequencer, { SLOW_FILES } from './sequencer.ts';

const ROOT = resolve(import.meta.dirname, '..');

describe('test file order', () => {
  it('names only test files that exist', () => {
    const missing = Object.keys(SLOW_FILES).filter((f) => !existsSync(join(ROOT, f)));
    expect(missing).toEqual([]);
  });

  it('starts the named files first, longest first, and keeps the others in vitest order after them', async () => {
    const files = ['test/a.test.ts', 'test/station/kill9.test.ts', 'test/b.test.ts', 'test/cli/station-exit.test.ts', 'test/sim/world.test.ts'];
    const project = { name: '', config: { sequence: { groupOrder: 0 }, isolate: true } };
    const spec = (f: string) => ({ project, moduleId: join(ROOT, f) }) as unknown as TestSpecification;
    // No duration cache and no file stats, as on a fresh clone.
    const ctx = { config: { root: ROOT }, cache: { getFileTestResults: () => undefined, getFileStats: () => undefined } } as unknown as Vitest;
    const sorted = await new SlowFirstSequencer(ctx).sort(files.map(spec));
    const order = sorted.map((s) => s.moduleId.slice(ROOT.length + 1));
    const named = files.filter((f) => f in SLOW_FILES).sort((a, b) => SLOW_FILES[b]! - SLOW_FILES[a]!);
    expect(order).toEqual([...named, 'test/a.test.ts', 'test/b.test.ts']);
  });

  // vitest.config.ts: each simulated device's pty helper starts python3; through a shim it cost
  // ~0.25 s of CPU per start (jig-controller.test.ts: 11.1 s CPU with the shim, 5.9 s without).
  const noPython = spawnSync('python3', ['-c', 'pass'], { stdio: 'ignore' }).status !== 0;
  it.skipIf(noPython)('simulated devices start the python interpreter itself, not a shim', () => {
    const py = process.env.IFPP_PYTHON;
    expect(py).toBeDefined();
    expect(execFileSync(py!, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()).toBe(py);
  });
});
