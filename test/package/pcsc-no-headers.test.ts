/**
 * `npm ci` where the PC/SC headers are missing: the binding (@pokusew/pcsclite, an optional
 * dependency built by node-gyp) fails to compile, and the install must still succeed without it.
 * The headers are hidden in a private mount namespace (an empty folder bind-mounted over
 * /usr/include/PCSC), and npm installs the same optional dependency, with the same allowScripts
 * entry, as this package.json declares. Needs the npm registry or a warm npm cache.
 *
 * Then the product as that install leaves it: the compiled package beside every dependency but
 * the binding. Its PC/SC commands answer PCSC_BINDING_MISSING saying what to install, a station
 * of readers is validated but refused at start with the same code, and the rest loads.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const HEADERS = '/usr/include/PCSC';
const exec = promisify(execFile);

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (a mount namespace hides the PC/SC headers)';
  if (existsSync(HEADERS) && process.getuid?.() !== 0) return `${HEADERS} exists and hiding it needs root`;
  if (existsSync(HEADERS) && spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) missing';
  return undefined;
}
const why = unavailable();
if (why) console.warn(`[skip] PC/SC no-headers install test: ${why}`);

describe.skipIf(why !== undefined)('npm install without the PC/SC headers', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ifpp-nohdr-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the binding fails to build, the install succeeds without it', async () => {
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string>; allowScripts: Record<string, boolean> };
    const proj = join(tmp, 'proj');
    const empty = join(tmp, 'empty');
    mkdirSync(proj);
    mkdirSync(empty);
    writeFileSync(
      join(proj, 'package.json'),
      JSON.stringify({ name: 'nohdr', version: '1.0.0', private: true, optionalDependencies: { '@pokusew/pcsclite': ours.optionalDependencies['@pokusew/pcsclite'] }, allowScripts: ours.allowScripts }),
    );
    const npm = 'npm install --prefer-offline --no-audit --no-fund --foreground-scripts';
    const [cmd, args] = existsSync(HEADERS)
      ? ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind "$0" ${HEADERS} && exec ${npm}`, empty]]
      : ['sh', ['-c', npm]];
    const r = await exec(cmd, args as string[], { cwd: proj, timeout: 300_000, maxBuffer: 64 << 20 }).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
    );
    expect(r.code, r.out.slice(-3000)).toBe(0);
    // It did try: the compiler found no winscard.h.
    expect(r.out).toMatch(/winscard\.h/);
    expect(() => createRequire(join(proj, 'index.js'))('@pokusew/pcsclite')).toThrow(/Cannot find module '@pokusew\/pcsclite'/);
  }, 300_000);

  it('without the binding the PC/SC commands say what to install, a reader station is refused at start, the rest loads', async () => {
    const app = join(tmp, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    for (const f of ['package.json', 'bin', 'dist']) cpSync(join(ROOT, f), join(app, f), { recursive: true });
    for (const dep of readdirSync(join(ROOT, 'node_modules'))) {
      if (dep !== '@pokusew' && dep !== '.bin') symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
    }
    const ifpp = (args: string[], cwd: string) =>
      exec(process.execPath, [join(app, 'bin', 'ifpp.js'), ...args], { cwd, timeout: 120_000 }).then(
        (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const readers = await ifpp(['bench', 'readers'], tmp);
    expect(readers.code, readers.stderr).toBe(1);
    expect(readers.stderr).toContain('PCSC_BINDING_MISSING: the PC/SC binding is not installed');
    expect(readers.stderr).toContain('apt-get install libpcsclite-dev pcscd');
    expect(readers.stderr).not.toMatch(/^\s+at /m);
    const info = await ifpp(['bench', 'info', '--reader', 'ACR39U', '--json'], tmp);
    expect(JSON.parse(info.stdout)).toMatchObject({ ok: false, code: 'PCSC_BINDING_MISSING' });

    const dir = join(tmp, 'bench2');
    mkdirSync(dir);
    const station = {
      name: 'Bench 2', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
      readers: [{ id: 'r1', name: 'ACS ACR39U ICC Reader 00 00' }],
      slots: [{ id: 'R1', reader: 'r1', row: 1, col: 1 }],
    };
    writeFileSync(join(dir, 'station.json'), JSON.stringify(station));
    const v = await ifpp(['validate', 'station.json'], dir);
    expect(v.stdout + v.stderr).toContain('ok: 1 slot on 1 PC/SC reader, socket-programmer');
    // --allow-empty: an empty store is refused first (NOTHING_TO_LOAD); the reader is what is tested here.
    const run = await ifpp(['run', '--config', 'station.json', '--headless', '--allow-empty'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('PCSC_BINDING_MISSING');
    expect(existsSync(join(dir, 'journal'))).toBe(false);

    // The rest of the product loads as usual (the simulated station runs end to end in
    // install.test.ts; nothing on its path loads the binding).
    const help = await ifpp(['--help'], tmp);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: ifpp <command>');
  }, 300_000);
});
