/**
 * Keys in a real terminal: scripts/ui-demo.ts runs under tmux (a real pty, raw mode, Ink's
 * own stdin handling) and we type at it. ink-testing-library's stdin works with ink 6.8 too
 * (app.test.tsx), but only this shows that Ctrl+C reaches the app instead of killing it and
 * that the real render options work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

describe.skipIf(!hasTmux)('station UI in a real terminal (tmux)', () => {
  const socket = `ifpp-ui-test-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-ui-'));
  const logFile = join(dir, 'controls.log');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const pane = () => tmux('capture-pane', '-p', '-t', 'ui');
  const calls = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean) : []);
  const keys = (...k: string[]) => tmux('send-keys', '-t', 'ui', ...k);

  async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (ok()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${pane()}\ncontrol calls: ${calls().join(', ')}`);
  }
  const screenHas = (text: string) => until(`"${text}" on screen`, () => pane().includes(text));

  beforeAll(() => {
    // A clean environment for the child: CI would make Ink print only the final frame.
    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION -u IFPP_HEADLESS -u NO_COLOR TERM=xterm-256color node --import tsx scripts/ui-demo.ts --script --log '${logFile}'; echo EXITED=$?; sleep 60`;
    tmux('new-session', '-d', '-s', 'ui', '-x', '100', '-y', '30', '-c', root, cmd);
  });

  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, selects, opens the detail pane, retries, cancels an abort, refuses then forces quit', async () => {
    await screenHas('WAITING FOR START');
    await screenHas('▶ LOADING');
    // After a few redraws (the uptime ticks) the frame still starts on the top line: no
    // redraw has slid down a row (ink 6.8's incremental mode did, see render.ts).
    await screenHas('up 0:00:02');
    const screen = pane().split('\n');
    expect(screen[0]).toMatch(/^IFPP demo-station/);
    expect(screen[1]).toMatch(/^Done 0 /);

    keys('s');
    await screenHas('RUNNING');
    expect(calls()).toEqual(['start']);

    // Two keys in one send reach the app in one read: neither may be lost.
    keys('l', 'Enter');
    await screenHas('Slot A2');
    await screenHas('Last error [EUICC_6A80] card rejected segment 7');
    keys('r');
    await until('retry call', () => calls().includes('retry A2'));
    keys('Escape');
    await until('grid back', () => !pane().includes('Recent events') && pane().includes('╭'));

    keys('a');
    await screenHas('Abort the run?');
    keys('n');
    await screenHas('Abort cancelled');

    // Ctrl+C is a quit request: refused while loads are in flight, and the process lives on.
    keys('C-c');
    await screenHas('Quit refused');
    expect(pane()).not.toContain('EXITED');

    keys('j');
    keys('Q');
    await screenHas('EXITED=0');
    expect(calls()).toEqual(['start', 'retry A2', 'quit true']);
  });
});
