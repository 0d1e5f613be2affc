/**
 * Acceptance of the package as a user gets it: `npm pack`, a global install of the tarball into
 * a temporary prefix, then from an unrelated folder (no node_modules, no tsx anywhere) the
 * installed `ifpp`: --help, a headless simulated station, a layout script importing
 * 'ifpp-station/config', and the terminal UI in a real pty, stopped with p then q.
 *
 * The install omits optional dependencies (the PC/SC binding of `ifpp bench`, johnny-five's own
 * serialport for boards it would open itself): neither is what this test covers, and building
 * them would only add minutes. Needs the npm registry or a warm npm cache (as after `npm ci`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { hasScript, runInPty } from '../helpers/pty-run.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

async function sh(file: string, args: string[], cwd: string, timeout = 300_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(file, args, { cwd, timeout, maxBuffer: 64 << 20 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

describe('the packed and installed ifpp', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ifpp-pkg-'));
  const prefix = join(tmp, 'prefix');
  const elsewhere = join(tmp, 'elsewhere');
  const ifpp = join(prefix, 'bin', 'ifpp');
  const installed = join(prefix, 'lib', 'node_modules', 'ifpp-station');
  let tarball = '';

  beforeAll(async () => {
    mkdirSync(elsewhere);
    // dist/ is fresh (test/global-setup.ts): pack it as is, without building again.
    const pack = await sh(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    expect(pack.code, pack.stderr).toBe(0);
    tarball = join(tmp, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    const inst = await sh(NPM, ['install', '-g', '--prefix', prefix, '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', tarball], tmp, 900_000);
    expect(inst.code, inst.stderr).toBe(0);
  }, 1_000_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('ships what runs, and runs without TypeScript', async () => {
    const top = readdirSync(installed).sort();
    expect(top).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin', 'dist', 'docs', 'fixtures-config', 'hardware', 'package.json']));
    for (const absent of ['src', 'test', 'scripts', '.ci', 'tsconfig.json', 'vitest.config.ts']) expect(top).not.toContain(absent);
    expect(existsSync(join(installed, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist', '.tsbuildinfo'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'tsx'))).toBe(false);
    const help = await sh(ifpp, ['--help'], elsewhere);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: ifpp <command>');
  });

  it('runs the simulated station headless from an unrelated folder: every unit installed', async () => {
    const r = await sh(ifpp, ['sim', 'station', '--headless', '--slots', '4', '--units', '4', '--time-scale', '0'], elsewhere);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toContain('4 units: 4 installed');
    expect(r.stderr).toContain(`reports: ifpp report --config ${join(elsewhere, 'var/sim/world/station.json')}`);
  }, 300_000);

  it("loads a layout script that imports 'ifpp-station/config' beside the global install", async () => {
    const dir = join(elsewhere, 'line5');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'station.mjs'),
      `import { defineStation, gridSlots } from 'ifpp-station/config';
const bridges = [{ id: 'b0', port: '/dev/ttyUSB0', slots: 4 }];
export default defineStation({
  format: 'ifpp-station/1', name: 'Line 5', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
  bridges,
  slots: gridSlots({ rows: 2, cols: 2, bridges }),
});
`,
    );
    const r = await sh(ifpp, ['validate', 'station.mjs'], dir);
    expect(r.stdout + r.stderr).toContain('ok: 4 slots on 1 bridge, socket-programmer');
    expect(r.code).toBe(0);
  });

  it.skipIf(!hasScript)('draws the terminal UI in a pty; p then q stops it with exit 0', async () => {
    const p = runInPty(`'${ifpp}' sim station --world w-ui --slots 4 --units 64`, { cwd: elsewhere, cols: 100, rows: 30 });
    try {
      await p.until('frames with slots at work', (t) => /Done [1-9]/.test(t) && t.includes('A1') && t.includes('B2'));
      p.type('p'); // no new panel starts; the one in flight finishes
      // Each frame is drawn whole, header first: look at the last one.
      const lastFrame = (t: string) => t.slice(t.lastIndexOf('IFPP '));
      await p.until('the station paused with no slot busy', (t) => lastFrame(t).includes('Pause requested') && lastFrame(t).includes('Busy 0/4'));
      p.type('q');
      const code = await p.exited;
      const text = p.text();
      expect(text).not.toMatch(/ERROR|is not defined|TypeError/);
      expect(code, text.slice(-2000)).toBe(0);
      expect(text).toContain('reports: ifpp report --config');
    } finally {
      p.kill();
    }
  }, 300_000);
});
