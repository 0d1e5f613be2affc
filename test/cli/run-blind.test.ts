/**
 * A station must not run blind: `ifpp run` on a store with no eUICC data or no loadable BPP
 * refuses to start (NOTHING_TO_LOAD, exit 1) before any device opens, names the import
 * commands and the flag that starts anyway, and leaves nothing behind; `ifpp sim world` ends
 * with the exact import commands (which work as printed), or imports itself with --import.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const IFPP = join(ROOT, 'bin/ifpp.js');
const exec = promisify(execFile);

async function ifpp(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await exec(process.execPath, [IFPP, ...args], { cwd })) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('ifpp run on a store with nothing to load', () => {
  it('refuses to start, says what to import and how to start anyway, and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-blind-'));
    const cfg = join(dir, 'station.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        format: 'ifpp-station/1', name: 'blind', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
        bridges: [{ id: 'b0', port: 'dev/ttyBRIDGE0', slots: 1 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
      }),
    );
    const r = await ifpp(['run', '--config', cfg, '--headless'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('NOTHING_TO_LOAD');
    expect(r.stderr).toMatch(/no eUICC data .* and no BPP batch: every chip would end as no-bpp/);
    expect(r.stderr).toContain(`ifpp euicc import --config ${cfg} <euicc-data.ndjson>`);
    expect(r.stderr).toContain(`ifpp bpp import --config ${cfg} <batch-dir>`);
    expect(r.stderr).toContain('--allow-empty');
    // Refused before any device: the missing bridge is not what it talks about.
    expect(r.stderr).not.toContain('BRIDGE_');
    expect(readdirSync(dir)).toEqual(['station.json']);
  });
});

describe('ifpp sim world and the import steps', () => {
  it('ends with the import commands, which work as printed; --import does them itself', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ifpp-blind-world-'));
    const w = await ifpp(['sim', 'world', '--out', 'w', '--slots', '1', '--units', '1', '--spares', '0', '--profile', 'synthetic:500', '--time-scale', '0'], root);
    expect(w.code, w.stderr).toBe(0);
    const lines = w.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('import its data into the station'));
    expect(at, w.stdout).toBeGreaterThan(0);
    const steps = lines.slice(at + 1, at + 3).map((l) => l.trim());
    expect(steps[0]).toMatch(/^node \S*bin\/ifpp\.js euicc import --config w\/station\.json --name sim-eum w\/eum\/euicc-data\.ndjson$/);
    expect(steps[1]).toMatch(/^node \S*bin\/ifpp\.js bpp import --config w\/station\.json w\/batch$/);
    expect(w.stdout).toMatch(/next: .* sim up --world w/);
    for (const step of steps) {
      const [, , ...args] = step.split(' ');
      const r = await ifpp(args, root);
      expect(r.code, r.stderr).toBe(0);
    }
    const listed = await ifpp(['bpp', 'list', '--config', 'w/station.json', '--json'], root);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/"available": 1\b/);

    const i = await ifpp(['sim', 'world', '--out', 'w2', '--slots', '1', '--units', '1', '--spares', '0', '--profile', 'synthetic:500', '--import'], root);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/imported batch \S+: 1 BPPs/);
    expect(i.stdout).toContain('imported eUICC data sim-eum: 1 chips');
    expect(i.stdout).not.toContain('import its data into the station');
  }, 120_000);
});
