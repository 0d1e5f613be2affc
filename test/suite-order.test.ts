/**
 * The suite's file order (test/sequencer.ts): every file it names exists (a renamed slow file
 * would silently drop back to vitest's order), and the named files come first, longest first.
 */
import { describe, expect, it } from 'vitest';
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
});
