/**
 * End to end in a real terminal: `ifpp run` on the simulated station (simulated bridges, the
 * virtual jig board and the automatic operator) inside tmux. The grid shows every slot, the
 * counters rise, and an abort from the keyboard stops every slot. With IFPP_UPDATE_DOCS=1 the
 * captured screen is written to docs/screens/ as the operator guide's illustration.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorld } from '../../src/sim/world/build-world.ts';
import { startWorld, type WorldHandle } from '../../src/sim/world/run-world.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe.skipIf(!hasTmux)('ifpp run on the simulated station in tmux', () => {
  const socket = `ifpp-run-test-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const pane = () => tmux('capture-pane', '-p', '-t', 'st');
  let world: WorldHandle | undefined;

  async function until(what: string, ok: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = pane();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
  }

  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    await world?.close();
  });

  it('shows all slots, counts rise, abort works', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ifpp-tmux-')), 'w');
    const w = await buildWorld({ out, slots: 8, units: 48, kind: 'panel-jig', profile: 'synthetic:24000', timeScale: 0.5 });
    const config = await requireConfig(w.stationFile);
    const store = BppStore.open(config.store);
    await importBatch(store, join(w.dir, w.world.files.batch), { checks: bppChecks });
    store.close();
    await importEuiccData(config.store, join(w.dir, w.world.files.euiccData), 'sim');
    world = await startWorld(w.dir, { timeScale: 0.5 });

    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION -u IFPP_HEADLESS -u NO_COLOR TERM=xterm-256color IFPP_JIG_QUERY_DELAY_MS=20 node bin/ifpp.js run --config '${w.stationFile}'; echo EXITED=$?; sleep 60`;
    tmux('new-session', '-d', '-s', 'st', '-x', '100', '-y', '30', '-c', root, cmd);

    const first = await until('the grid with all 8 slots', (s) => ['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4'].every((id) => s.includes(id)) && /Done \d+/.test(s));
    const done = (s: string) => Number(/Done (\d+)/.exec(s)?.[1] ?? 0);
    const later = await until('counts rising', (s) => done(s) >= 8 && s.includes('✓ PASS'));
    expect(done(later)).toBeGreaterThan(done(first));
    if (process.env.IFPP_UPDATE_DOCS === '1') {
      mkdirSync(join(root, 'docs', 'screens'), { recursive: true });
      writeFileSync(join(root, 'docs', 'screens', 'station-run.txt'), later.replace(/\s+$/gm, '') + '\n');
    }

    // Abort from the keyboard, while a panel is loading.
    await until('a panel loading', (s) => s.includes('LOADING'));
    tmux('send-keys', '-t', 'st', 'a');
    await until('the abort confirmation', (s) => s.includes('Abort'));
    tmux('send-keys', '-t', 'st', 'y');
    const aborted = await until('every slot stopped', (s) => s.includes('ABORTED') && !s.includes('LOADING') && !s.includes('IDENTIFIED'));
    expect(aborted).toMatch(/INTERRUPTED/);
    // Nothing starts again until the operator says so.
    await new Promise((r) => setTimeout(r, 1500));
    expect(pane()).toContain('ABORTED');
    if (process.env.IFPP_UPDATE_DOCS === '1') writeFileSync(join(root, 'docs', 'screens', 'station-abort.txt'), aborted.replace(/\s+$/gm, '') + '\n');

    // Quit (forced, nothing may be in flight after the abort anyway) ends the process; the
    // units the abort interrupted make it exit 3 (src/cli/exit-codes.ts).
    tmux('send-keys', '-t', 'st', 'Q');
    await until('the process to exit', (s) => s.includes('EXITED=3'), 20_000);
    // The closing hint names the report command as this run was invoked (wrapped lines joined).
    expect(tmux('capture-pane', '-p', '-J', '-t', 'st')).toContain(`reports: node bin/ifpp.js report --config ${w.stationFile}`);
  }, 120_000);
});
