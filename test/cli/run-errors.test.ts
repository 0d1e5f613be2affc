/**
 * `ifpp run` as an operator starts it, when a device of the config is missing: one line naming
 * the device and what to check, pointing at `ifpp probe`, exit 1, nothing half-started.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const IFPP = join(resolve(import.meta.dirname, '../..'), 'bin/ifpp.js');

describe('ifpp run with a missing bridge', () => {
  it('names the port, says what to check and points at ifpp probe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-run-'));
    const cfg = join(dir, 'station.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        format: 'ifpp-station/1',
        name: 'missing bridge',
        kind: 'socket-programmer',
        store: 'store',
        journal: 'journal',
        reports: 'reports',
        bridges: [{ id: 'b0', port: 'dev/ttyBRIDGE0', slots: 1 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
      }),
    );
    // --allow-empty: the store is empty here, and the device is what this test is about.
    const r = await run(process.execPath, [IFPP, 'run', '--config', cfg, '--headless', '--allow-empty', '--events', 'events.ndjson'], { cwd: dir }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('BRIDGE_PORT_UNAVAILABLE');
    expect(r.stderr).toContain(join(dir, 'dev/ttyBRIDGE0'));
    expect(r.stderr).toMatch(/plugged in/);
    expect(r.stderr).toContain(`ifpp probe ${cfg}`);
    // Nothing half-started: no empty store, journal or event log was left behind.
    expect(readdirSync(dir)).toEqual(['station.json']);
  });
});
