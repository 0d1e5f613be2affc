/**
 * Exit codes of `ifpp sim station` / `ifpp run` (src/cli/exit-codes.ts), and a terminal UI that
 * throws while rendering (IFPP_UI_FAULT=render): the station stops as on a forced quit, the
 * terminal gets the error, the exit code says so, and the journal has no unit left open.
 * The UI runs in a real pseudo-terminal (test/helpers/pty-run.ts).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { hasScript, runInPty } from '../helpers/pty-run.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const IFPP = join(ROOT, 'bin/ifpp.js');
const run = promisify(execFile);

async function ifpp(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [IFPP, ...args], { cwd });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function openUnits(world: string): Promise<string[]> {
  const r = await ifpp(['report', '--config', join(world, 'station.json'), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { open: string[] }).open;
}

const worldDir = () => join(mkdtempSync(join(tmpdir(), 'ifpp-exit-')), 'world');

describe('exit codes of ifpp run and ifpp sim station', () => {
  // One world for both: the first run is the exit-0 case, the second finds it used up.
  it('0 when every unit settled (and a second run on the used-up world archives the first, whose report stays reachable), 1 for an error, 2 for bad usage', async () => {
    const world = worldDir();
    const args = ['sim', 'station', '--headless', '--world', world, '--slots', '4', '--units', '4', '--time-scale', '0'];
    const ok = await ifpp(args);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('station stopped (all simulated units were fed): 4 units: 4 installed');
    expect(ok.stderr).toContain(`reports: node bin/ifpp.js report --config ${join(world, 'station.json')}`);
    expect((await ifpp(['run'])).code).toBe(2);
    const missing = await ifpp(['run', '--config', join(world, 'no-such.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('CONFIG_NOT_FOUND');

    const second = await ifpp(args);
    expect(second.code, second.stderr).toBe(0);
    const moved = /moved it, with the station's store, journal and reports, to (\S+)/.exec(second.stderr);
    expect(moved, second.stderr).not.toBeNull();
    const archive = moved![1]!;
    expect(second.stderr).toContain(`its report: node bin/ifpp.js report --config ${join(archive, 'station.json')}`);
    const r = await ifpp(['report', '--config', join(archive, 'station.json'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { units: number; open: string[] };
    expect(report.units).toBe(4);
    expect(report.open).toEqual([]);
    // The new world has its own, fresh journal.
    expect(second.stderr).toContain('4 units: 4 installed');
  });

  it.skipIf(!hasScript)('3 after a forced quit interrupted units in flight', async () => {
    const world = worldDir();
    const p = runInPty(`node '${IFPP}' sim station --world '${world}' --slots 4 --units 8`, { cwd: ROOT });
    try {
      await p.until('a slot loading', (t) => t.includes('LOADING'));
      // The UI starts on a cleared screen, below nothing that ran before it.
      const raw = p.raw();
      expect(raw.indexOf('\x1b[2J\x1b[H')).toBeGreaterThan(raw.indexOf('imported batch'));
      expect(raw.indexOf('\x1b[2J\x1b[H')).toBeLessThan(raw.indexOf('IFPP '));
      p.type('Q');
      expect(await p.exited).toBe(3);
      expect(p.text()).toMatch(/units? (was|were) interrupted: run/);
      expect(await openUnits(world)).toEqual([]);
    } finally {
      p.kill();
    }
  });

  it.skipIf(!hasScript)('4 when the UI throws while rendering: the station stops at once, nothing is left loading or open', async () => {
    const world = worldDir();
    const p = runInPty(`node '${IFPP}' sim station --world '${world}' --slots 4 --units 8`, { cwd: ROOT, env: { IFPP_UI_FAULT: 'render' } });
    try {
      const code = await p.exited;
      const text = p.text();
      expect(code, text.slice(-2000)).toBe(4);
      expect(text).toContain('the terminal UI failed: injected render error (IFPP_UI_FAULT=render)');
      expect(text).toMatch(/station stopped \(operator forced quit\): \d+ units/);
      // The fault fired as the first units started loading: those were aborted and journaled,
      // and no further panel was loaded behind the error screen.
      const fed = /station stopped \(operator forced quit\): (\d+) units/.exec(text)!;
      expect(Number(fed[1])).toBeLessThanOrEqual(4);
      expect(await openUnits(world)).toEqual([]);
    } finally {
      p.kill();
    }
  });
});
