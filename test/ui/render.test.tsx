/**
 * Mounting through renderStationUi (real Ink options, not the testing library's), NO_COLOR,
 * and the decision to fall back to headless output.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';

// chalk reads FORCE_COLOR once, when first imported: force colours on before anything loads it,
// so that "no colour" below is the UI's doing and not the test runner's missing TTY.
// Ink (through is-in-ci) likewise reads CI once: on a CI runner it draws only the final frame at
// unmount, so these live-frame tests clear it before Ink loads. Whether the station itself uses the
// TUI in CI is shouldUseTui's decision, tested below.
const saved = vi.hoisted(() => {
  const keys = ['FORCE_COLOR', 'CI', 'CONTINUOUS_INTEGRATION'] as const;
  const prev = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  process.env['FORCE_COLOR'] = '1';
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
  return prev;
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

import { EventBus } from '../../src/station/events.ts';
import { colorsEnabled, renderStationUi, shouldUseTui } from '../../src/ui/render.ts';
import { FakeStdout, T0, TtyStdin, jig, recordingControls, slotTo, started, waitForFrame } from './helpers.tsx';

const COLOUR_SGR = /\u001B\[(?:3[0-7]|9[0-7]|4[0-7]|10[0-7]|38;[25];[\d;]+|48;[25];[\d;]+)m/;

function mount(env: Record<string, string>) {
  const bus = new EventBus();
  const stdout = new FakeStdout(80, 24);
  const stdin = new TtyStdin();
  const controls = recordingControls();
  const ui = renderStationUi({
    bus,
    controls,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    env,
    // The test runner replaces console; Ink's console patch cannot wrap it.
    patchConsole: false,
  });
  for (const e of [started(jig(2, 4)), ...slotTo('A1', 'pass', T0), ...slotTo('A2', 'fail', T0), ...slotTo('A3', 'loading', T0)]) bus.emit(e);
  const all = () => stdout.frames.join('');
  return { ui, stdout, stdin, controls, all };
}

describe('renderStationUi', () => {
  it('draws in colour by default (chalk forced on here)', async () => {
    const { ui, all } = mount({});
    const out = await waitForFrame(all, (s) => s.includes('✗ FAIL'));
    expect(out).toMatch(COLOUR_SGR);
    ui.unmount();
  });

  it('draws no colour at all under NO_COLOR, but keeps symbols and words', async () => {
    const { ui, all } = mount({ NO_COLOR: '1' });
    const out = await waitForFrame(all, (s) => s.includes('✗ FAIL'));
    expect(out).toContain('✓ PASS');
    expect(out).toContain('▶ LOADING');
    expect(out).not.toMatch(COLOUR_SGR);
    ui.unmount();
  });

  it('does not exit on Ctrl+C: it is a quit request to the station', async () => {
    const { ui, stdin, controls, all } = mount({});
    await waitForFrame(all, (s) => s.includes('▶ LOADING'));
    let exited = false;
    void ui.waitUntilExit().then(() => (exited = true));
    stdin.type('\u0003');
    await waitForFrame(all, (s) => s.includes('Quit refused'));
    expect(controls.calls).toEqual([]);
    stdin.type('Q');
    await waitForFrame(() => controls.calls.join(','), (s) => s === 'quit true');
    expect(exited).toBe(false);
    ui.unmount();
    await ui.waitUntilExit();
  });
});

describe('colorsEnabled', () => {
  it('follows no-color.org: NO_COLOR present and not empty turns colour off', () => {
    expect(colorsEnabled({})).toBe(true);
    expect(colorsEnabled({ NO_COLOR: '' })).toBe(true);
    expect(colorsEnabled({ NO_COLOR: '1' })).toBe(false);
    expect(colorsEnabled({ NO_COLOR: 'yes' })).toBe(false);
  });
});

describe('shouldUseTui', () => {
  const tty = { isTTY: true };
  it('uses the TUI on a terminal', () => {
    expect(shouldUseTui(tty, { TERM: 'xterm-256color' })).toBe(true);
    expect(shouldUseTui(tty, { TERM: 'xterm' }, { stdin: { isTTY: true } })).toBe(true);
    expect(shouldUseTui(tty, { TERM: 'xterm', CI: 'false' })).toBe(true);
  });
  it('falls back when stdout or stdin is not a terminal, TERM=dumb, headless was asked, or in CI', () => {
    expect(shouldUseTui({ isTTY: false }, { TERM: 'xterm' })).toBe(false);
    expect(shouldUseTui({}, { TERM: 'xterm' })).toBe(false);
    expect(shouldUseTui(tty, { TERM: 'xterm' }, { stdin: { isTTY: false } })).toBe(false);
    expect(shouldUseTui(tty, { TERM: 'dumb' })).toBe(false);
    expect(shouldUseTui(tty, { TERM: 'xterm' }, { headless: true })).toBe(false);
    expect(shouldUseTui(tty, { TERM: 'xterm', IFPP_HEADLESS: '1' })).toBe(false);
    expect(shouldUseTui(tty, { TERM: 'xterm', CI: 'true' })).toBe(false);
  });
});
