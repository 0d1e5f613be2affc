import { describe, expect, it } from 'vitest';
import { createViewModel, reduceAll } from '../../src/ui/state/view-model.ts';
import type { ViewModel } from '../../src/ui/state/view-model.ts';
import { handleKey, initialUiState, moveSelection, splitKeys } from '../../src/ui/state/keys.ts';
import type { KeyPress, UiState } from '../../src/ui/state/keys.ts';
import { T0, jig, slotTo, started } from './helpers.tsx';

function press(ui: UiState, m: ViewModel, ...keys: (string | KeyPress)[]) {
  const commands: string[] = [];
  let cur = ui;
  for (const k of keys) {
    const r = handleKey(cur, m, typeof k === 'string' ? { input: k } : k);
    cur = r.ui;
    if (r.command) commands.push(r.command.kind === 'retry' ? `retry ${r.command.slot}` : r.command.kind === 'quit' ? `quit ${r.command.force}` : r.command.kind);
  }
  return { ui: cur, commands };
}

const idle = reduceAll(createViewModel(), [started(jig(2, 4)), { type: 'station.phase', t: T0, phase: 'waiting-for-start' }]);
const busy = reduceAll(idle, [...slotTo('A2', 'loading', T0 + 1), ...slotTo('B3', 'fail', T0 + 2), { type: 'station.phase', t: T0 + 3, phase: 'running' }]);

describe('key handling (pure)', () => {
  it('s starts, p pauses, s or p resume when paused, s while running only says so', () => {
    expect(press(initialUiState(), idle, 's').commands).toEqual(['start']);
    expect(press(initialUiState(), busy, 'p').commands).toEqual(['pause']);
    const paused = reduceAll(busy, [{ type: 'station.phase', t: T0 + 9, phase: 'paused' }]);
    expect(press(initialUiState(), paused, 'p', 's').commands).toEqual(['resume', 'resume']);
    const r = press(initialUiState(), busy, 's');
    expect(r.commands).toEqual([]);
    expect(r.ui.message?.text).toBe('Already running');
  });

  it('? shows every key, and sends nothing to the station', () => {
    const r = press(initialUiState(), busy, '?');
    expect(r.commands).toEqual([]);
    for (const key of ['s start', 'p pause', 'a abort', 'select', '⏎ detail', 'Esc', 'y summary', 'r retry', 'q quit', 'Q forced']) expect(r.ui.message?.text).toContain(key);
  });

  it('abort asks first: y aborts, n or Esc cancel, other keys are ignored while asking', () => {
    let r = press(initialUiState(), busy, 'a');
    expect(r.ui.confirm).toBe('abort');
    expect(r.commands).toEqual([]);
    r = press(r.ui, busy, 's', 'r', { input: '', downArrow: true });
    expect(r.commands).toEqual([]);
    expect(r.ui.confirm).toBe('abort');
    expect(press(r.ui, busy, 'y')).toMatchObject({ commands: ['abort'], ui: { confirm: null } });
    expect(press(r.ui, busy, 'n')).toMatchObject({ commands: [], ui: { confirm: null } });
    expect(press(r.ui, busy, { input: '', escape: true })).toMatchObject({ commands: [], ui: { confirm: null } });
  });

  it('moves the selection like the jig: arrows and hjkl, left/right wrap across rows', () => {
    const ui = { ...initialUiState(), selected: 'A4' };
    expect(press(ui, idle, { input: '', rightArrow: true }).ui.selected).toBe('B1');
    expect(press(ui, idle, 'j').ui.selected).toBe('B4');
    expect(press(ui, idle, 'j', 'k', 'h').ui.selected).toBe('A3');
    expect(press(ui, idle, { input: '', upArrow: true }).ui.selected).toBe('A4'); // top row: stays
    expect(press(initialUiState(), idle, 'l').ui.selected).toBe('A2'); // nothing selected: starts at A1
    expect(moveSelection(idle, 'B1', 'left')).toBe('A4');
  });

  it('Enter opens and closes the detail pane, Esc closes it', () => {
    const open = press(initialUiState(), idle, { input: '\r', return: true });
    expect(open.ui.detail).toBe(true);
    expect(press(open.ui, idle, { input: '\r', return: true }).ui.detail).toBe(false);
    expect(press(open.ui, idle, { input: '', escape: true }).ui.detail).toBe(false);
  });

  it('r retries only a failed or interrupted slot', () => {
    expect(press({ ...initialUiState(), selected: 'B3' }, busy, 'r').commands).toEqual(['retry B3']);
    const r = press({ ...initialUiState(), selected: 'A2' }, busy, 'r');
    expect(r.commands).toEqual([]);
    expect(r.ui.message?.text).toMatch(/A2 is loading/);
  });

  it('q quits at once when nothing is in flight', () => {
    expect(press(initialUiState(), idle, 'q').commands).toEqual(['quit false']);
  });

  it('q is refused while loads are in flight; a second q or Q forces; any other key disarms', () => {
    const first = press(initialUiState(), busy, 'q');
    expect(first.commands).toEqual([]);
    expect(first.ui.message).toMatchObject({ level: 'error' });
    expect(first.ui.message?.text).toContain('Quit refused: 1 load(s) in flight (A2)');
    expect(press(first.ui, busy, 'q').commands).toEqual(['quit true']);
    expect(press(initialUiState(), busy, 'Q').commands).toEqual(['quit true']);
    expect(press(first.ui, busy, 'j', 'q').commands).toEqual([]);
  });

  it('Ctrl+C behaves like q (Ink does not exit by itself)', () => {
    const ctrlC = { input: 'c', ctrl: true };
    expect(press(initialUiState(), idle, ctrlC).commands).toEqual(['quit false']);
    expect(press(initialUiState(), busy, ctrlC).commands).toEqual([]);
    expect(press(initialUiState(), busy, ctrlC, ctrlC).commands).toEqual(['quit true']);
  });
});

describe('splitKeys', () => {
  it('splits a run of plain characters Ink delivered as one input', () => {
    expect(splitKeys({ input: 'll\r' })).toEqual([{ input: 'l' }, { input: 'l' }, { input: '', return: true }]);
    expect(splitKeys({ input: 'q\u0003' })).toEqual([{ input: 'q' }, { input: 'c', ctrl: true }]);
  });
  it('leaves single keys and special keys alone', () => {
    expect(splitKeys({ input: 'j' })).toEqual([{ input: 'j' }]);
    expect(splitKeys({ input: '', upArrow: true })).toEqual([{ input: '', upArrow: true }]);
    expect(splitKeys({ input: 'c', ctrl: true })).toEqual([{ input: 'c', ctrl: true }]);
  });
});
