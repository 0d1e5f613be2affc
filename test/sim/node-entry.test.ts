/**
 * Which code a simulator child process runs (src/sim/node-entry.ts): the source through tsx
 * under a parent from src/, or dist/ when IFPP_SIM_CHILDREN=dist (the suite's setting).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { moduleFile, moduleUrl, nodeArgs } from '../../src/sim/node-entry.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FROM = new URL('../../src/sim/world/run-world.ts', import.meta.url).href;

afterEach(() => vi.unstubAllEnvs());

describe('simulator child entry points', () => {
  it('from source: the .ts file, started through tsx', () => {
    vi.stubEnv('IFPP_SIM_CHILDREN', '');
    const file = moduleFile('../jig/board-process.ts', FROM);
    expect(file).toBe(join(ROOT, 'src/sim/jig/board-process.ts'));
    expect(nodeArgs(file)).toEqual(['--import', expect.stringContaining('tsx'), file]);
  });

  it('with IFPP_SIM_CHILDREN=dist: the built .js file, started by node alone; card modules map the same way', () => {
    vi.stubEnv('IFPP_SIM_CHILDREN', 'dist');
    const file = moduleFile('../jig/board-process.ts', FROM);
    expect(file).toBe(join(ROOT, 'dist/sim/jig/board-process.js'));
    expect(existsSync(file)).toBe(true); // test/global-setup.ts built it
    expect(nodeArgs(file)).toEqual([file]);
    expect(moduleUrl('../euicc/card-factory.ts', FROM).href).toMatch(/\/dist\/sim\/euicc\/card-factory\.js$/);
    // Only modules of src/ have a built twin.
    expect(moduleFile('../../../test/helpers/pty-run.ts', FROM)).toBe(join(ROOT, 'test/helpers/pty-run.ts'));
  });
});
