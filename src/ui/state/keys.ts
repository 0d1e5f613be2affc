/**
 * Key handling as a pure function: (UI state, view model, key) -> (UI state, command). The Ink
 * app only forwards key presses here and runs the command it gets back, so every rule (abort
 * asks first, quit refuses while loads are in flight, retry only on a failed slot) is testable
 * without a terminal.
 */
import { busySlotIds } from './view-model.ts';
import type { ViewModel } from './view-model.ts';

export type Command =
  | { kind: 'start' }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'abort' }
  | { kind: 'retry'; slot: string }
  | { kind: 'quit'; force: boolean };

export interface UiMessage {
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface UiState {
  /** Selected slot id (null only while the station has announced no slots). */
  selected: string | null;
  detail: boolean;
  /** The per-slot summary table (y) instead of the grid. */
  summary: boolean;
  confirm: 'abort' | null;
  /** A refused quit arms a second press to force it. */
  quitArmed: boolean;
  message: UiMessage | null;
}

/** The subset of Ink's `Key` the handler reads, plus the typed text. */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
}

export interface KeyResult {
  ui: UiState;
  command: Command | null;
}

/**
 * Ink passes a run of plain characters that arrived in one read (typed fast, a held key
 * repeating on a busy machine, a paste) as one input: "jj" or "ll\r". Split it back into key
 * presses so none is lost; escape sequences (arrows) already come one by one.
 */
export function splitKeys(k: KeyPress): KeyPress[] {
  const special = k.upArrow || k.downArrow || k.leftArrow || k.rightArrow || k.return || k.escape || k.ctrl;
  if (special || [...k.input].length <= 1 || k.input.includes('\u001B')) return [k];
  return [...k.input].map((ch): KeyPress => {
    if (ch === '\r' || ch === '\n') return { input: '', return: true };
    if (ch === '\u0003') return { input: 'c', ctrl: true };
    return { input: ch };
  });
}

/** What `?` shows: every key, in the order of the operator guide's table. */
export const KEYS_HELP = 'Keys: s start · p pause/resume · a abort · ←↑↓→/hjkl select · ⏎ detail · Esc close · y summary · r retry · q quit (Q forced)';

export function initialUiState(): UiState {
  return { selected: null, detail: false, summary: false, confirm: null, quitArmed: false, message: null };
}

/** Keeps the selection on an existing slot (the first one when nothing valid is selected). */
export function withValidSelection(ui: UiState, m: ViewModel): UiState {
  if (ui.selected !== null && m.slots[ui.selected]) return ui;
  const first = m.slotOrder[0] ?? null;
  return first === ui.selected ? ui : { ...ui, selected: first };
}

export type Direction = 'left' | 'right' | 'up' | 'down';

export function handleKey(state: UiState, m: ViewModel, k: KeyPress): KeyResult {
  const ui = withValidSelection(state, m);
  const isQuit = (k.ctrl && k.input === 'c') || (!k.ctrl && (k.input === 'q' || k.input === 'Q'));
  if (isQuit) return quit({ ...ui, confirm: null }, m, k.input === 'Q');
  const base: UiState = { ...ui, quitArmed: false };

  if (ui.confirm === 'abort') {
    if (k.input === 'y' || k.input === 'Y') return { ui: { ...base, confirm: null, message: info('Abort requested') }, command: { kind: 'abort' } };
    if (k.input === 'n' || k.input === 'N' || k.escape) return { ui: { ...base, confirm: null, message: info('Abort cancelled') }, command: null };
    return { ui: { ...base, message: warn('Abort? Press y to abort or n to cancel') }, command: null };
  }

  const dir = direction(k);
  if (dir) {
    const next = ui.selected === null ? null : moveSelection(m, ui.selected, dir);
    return { ui: { ...base, selected: next ?? ui.selected, message: null }, command: null };
  }
  if (k.return) return { ui: { ...base, detail: !ui.detail && ui.selected !== null, summary: false, message: null }, command: null };
  if (k.escape) return { ui: { ...base, detail: false, summary: false, message: null }, command: null };

  switch (k.input) {
    case 's':
      if (m.phase === 'paused') return { ui: { ...base, message: info('Resume requested') }, command: { kind: 'resume' } };
      if (m.phase === 'running') return { ui: { ...base, message: info('Already running') }, command: null };
      return { ui: { ...base, message: info('Start requested') }, command: { kind: 'start' } };
    case 'p':
      if (m.phase === 'paused') return { ui: { ...base, message: info('Resume requested') }, command: { kind: 'resume' } };
      return { ui: { ...base, message: info('Pause requested: loads in flight finish first') }, command: { kind: 'pause' } };
    case 'a':
      return { ui: { ...base, confirm: 'abort', message: null }, command: null };
    case '?':
      return { ui: { ...base, message: info(KEYS_HELP) }, command: null };
    case 'y':
      return { ui: { ...base, summary: !ui.summary, detail: false, message: null }, command: null };
    case 'r': {
      const s = ui.selected === null ? undefined : m.slots[ui.selected];
      if (!s) return { ui: { ...base, message: warn('No slot selected') }, command: null };
      if (s.state !== 'fail' && s.state !== 'interrupted') {
        return { ui: { ...base, message: warn(`Slot ${s.id} is ${s.state}: only a failed or interrupted slot can be retried`) }, command: null };
      }
      return { ui: { ...base, message: info(`Retry requested for slot ${s.id}`) }, command: { kind: 'retry', slot: s.id } };
    }
    default:
      return { ui: base, command: null };
  }
}

function quit(ui: UiState, m: ViewModel, force: boolean): KeyResult {
  const busy = busySlotIds(m);
  if (busy.length === 0) return { ui: { ...ui, quitArmed: false, message: info('Quitting…') }, command: { kind: 'quit', force: false } };
  if (force || ui.quitArmed) {
    return { ui: { ...ui, quitArmed: false, message: warn(`Force quit: ${busy.length} load(s) will be interrupted`) }, command: { kind: 'quit', force: true } };
  }
  const which = busy.length <= 4 ? ` (${busy.join(', ')})` : '';
  return {
    ui: { ...ui, quitArmed: true, message: { level: 'error', text: `Quit refused: ${busy.length} load(s) in flight${which}. Press q again or Q to force.` } },
    command: null,
  };
}

function direction(k: KeyPress): Direction | null {
  if (k.leftArrow || k.input === 'h') return 'left';
  if (k.rightArrow || k.input === 'l') return 'right';
  if (k.upArrow || k.input === 'k') return 'up';
  if (k.downArrow || k.input === 'j') return 'down';
  return null;
}

/**
 * The slot next to `from` in the jig's picture: left/right walk the reading order (so they also
 * wrap across rows), up/down go to the nearest row above/below, nearest column there.
 */
export function moveSelection(m: ViewModel, from: string, dir: Direction): string | null {
  const order = m.slotOrder;
  const cur = m.slots[from];
  if (!cur) return order[0] ?? null;
  if (dir === 'left' || dir === 'right') {
    const i = order.indexOf(from);
    const j = dir === 'right' ? i + 1 : i - 1;
    return order[j] ?? from;
  }
  let best: { id: string; dr: number; dc: number } | null = null;
  for (const id of order) {
    const s = m.slots[id];
    if (!s) continue;
    const dr = dir === 'up' ? cur.row - s.row : s.row - cur.row;
    if (dr <= 0) continue;
    const dc = Math.abs(s.col - cur.col);
    if (!best || dr < best.dr || (dr === best.dr && dc < best.dc)) best = { id, dr, dc };
  }
  return best?.id ?? from;
}

function info(text: string): UiMessage {
  return { level: 'info', text };
}

function warn(text: string): UiMessage {
  return { level: 'warn', text };
}
