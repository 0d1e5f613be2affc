/**
 * No torn frames at 80×24 under load: a 32-slot jig whose slots all change at once, with long
 * reasons, warnings and APDU traffic, drawn through renderStationUi (Ink's real terminal output
 * into a fake 80×24 terminal). Every frame (one synchronized update: the terminal shows it at
 * once) is whole, header to footer, and fits the
 * terminal: at most 23 lines, none wider than 80 columns, in the grid, the slot detail and the
 * summary alike.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';

// Ink reads CI once when it loads: on a CI runner it would draw only the final frame.
const saved = vi.hoisted(() => {
  const prev = { CI: process.env['CI'], CONTINUOUS_INTEGRATION: process.env['CONTINUOUS_INTEGRATION'] };
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
  return prev;
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
});

import { stripVTControlCharacters } from 'node:util';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { CLEAR_SCREEN, renderStationUi } from '../../src/ui/render.ts';
import { FakeStdout, T0, TtyStdin, jig, recordingControls, slotTo, started, waitForFrame } from './helpers.tsx';

const BSU = '\x1b[?2026h';
const ESU = '\x1b[?2026l';

/**
 * The frames a terminal shows: Ink draws each inside a synchronized update (BSU … ESU, shown at
 * once), possibly over several writes; `outside` is whatever was written between updates.
 */
function framesOf(all: string): { frames: string[]; outside: string[] } {
  const frames: string[] = [];
  const outside: string[] = [];
  const parts = all.split(BSU);
  outside.push(parts[0]!);
  for (const p of parts.slice(1)) {
    const end = p.indexOf(ESU);
    if (end < 0) continue; // still being written
    frames.push(p.slice(0, end));
    if (p.slice(end + ESU.length)) outside.push(p.slice(end + ESU.length));
  }
  return { frames, outside };
}

const LONG = 'the chip answered 6A80 to STORE DATA segment 7 of 40 after the secure channel opened; set the unit aside and check the socket pins';

/** Every slot through a unit, ending pass / fail / interrupted / skipped in turn, with APDUs and warnings between. */
function burst(ids: string[], t: number): StationEvent[] {
  const ends = ['pass', 'fail', 'interrupted', 'skipped'] as const;
  const out: StationEvent[] = [];
  ids.forEach((id, i) => {
    out.push(...slotTo(id, 'loading', t + i));
    for (let k = 0; k < 5; k++) out.push({ type: 'slot.apdu', t: t + i, slot: id, summary: `STORE DATA 80E2910${k} +255 B`, sw: k === 4 ? '6A80' : '9000', micros: 41_000 });
  });
  ids.forEach((id, i) => {
    const end = ends[i % ends.length]!;
    if (end === 'fail') out.push({ type: 'slot.state', t: t + 100 + i, slot: id, state: 'fail', reason: LONG, code: 'EUICC_6A80' });
    else out.push(...slotTo(id, end, t + 100 + i).slice(-1));
  });
  out.push({ type: 'station.warning', t: t + 200, code: 'PROFILE_NOT_LISTED', message: `A1: ${LONG}` });
  out.push({ type: 'station.warning', t: t + 201, code: 'QUIT_REFUSED', message: `quit refused: 32 load(s) in flight (${ids.join(', ')}); q again or Q forces` });
  out.push({ type: 'station.prompt', t: t + 202, message: `Load the next panel and press both start buttons; ${LONG}` });
  return out;
}

describe('frames at 80×24 under load', () => {
  it('every frame is drawn whole and fits the terminal: grid, detail, summary and key help', async () => {
    const bus = new EventBus();
    const stdout = new FakeStdout(80, 24);
    const stdin = new TtyStdin();
    const slots = jig(4, 8);
    const ui = renderStationUi({
      bus,
      controls: recordingControls(),
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      env: { NO_COLOR: '1' },
      patchConsole: false,
    });
    try {
      bus.emit(started(slots));
      const ids = slots.map((s) => s.id);
      for (let round = 0; round < 3; round++) for (const e of burst(ids, T0 + round * 1000)) bus.emit(e);
      const last = () => framesOf(stdout.frames.join('')).frames.at(-1) ?? '';
      await waitForFrame(last, (f) => f.includes('FAIL') && f.includes('SKIP'), 'the grid after the bursts');
      stdin.type('\r');
      await waitForFrame(last, (f) => f.includes('Slot A1') && f.includes('APDUs'), 'the slot detail');
      stdin.type('\u001b');
      stdin.type('y');
      await waitForFrame(last, (f) => !f.includes('Slot A1') && f.includes('32'), 'the summary');
      for (const e of burst(ids, T0 + 10_000)) bus.emit(e);
      stdin.type('?');
      await waitForFrame(last, (f) => f.includes('Keys:'), 'the key help');

      const { frames, outside } = framesOf(stdout.frames.join(''));
      // Nothing is drawn outside a synchronized update but the clear screen at start.
      expect(outside.join('')).toBe(CLEAR_SCREEN);
      expect(frames.length).toBeGreaterThan(3);
      for (const [i, f] of frames.entries()) {
        const lines = stripVTControlCharacters(f).replace(/\n+$/, '').split('\n');
        const where = `frame ${i}:\n${lines.join('\n')}`;
        expect(lines.length, where).toBeLessThanOrEqual(23);
        for (const l of lines) expect([...l].length, `${where}\nline too wide: ${l}`).toBeLessThanOrEqual(80);
        // Whole: the header's first line on top, the key line at the bottom.
        expect(lines[0], where).toMatch(/IFPP /);
        expect(lines.at(-1), where).toMatch(/quit|Keys:|y\/n|abort/);
      }
    } finally {
      ui.unmount();
    }
  });
});
