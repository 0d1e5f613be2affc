/**
 * Test helpers: a fake terminal of any size (ink-testing-library's is fixed at 100 columns),
 * scripted event sequences, recording controls, and frame polling.
 */
import { EventEmitter } from 'node:events';
import { render } from 'ink';
import type { ReactElement } from 'react';
import type { SlotInfo, SlotState, StationEvent } from '../../src/station/events.ts';
import type { StationControls } from '../../src/ui/app.tsx';

export class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (s: string): boolean => {
    this.frames.push(s);
    return true;
  };
  lastFrame(): string {
    return this.frames[this.frames.length - 1] ?? '';
  }
}

/** A stdin that supports raw mode, like a terminal's. */
export class TtyStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read() {
    const d = this.data;
    this.data = null;
    return d;
  }
  type(s: string) {
    this.data = s;
    this.emit('readable');
  }
}

class FakeStdin extends EventEmitter {
  isTTY = false;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read() {
    return null;
  }
}

/** Renders into a fake terminal of the given size, like ink-testing-library does (debug mode). */
export function renderSized(tree: ReactElement, columns: number, rows: number) {
  const stdout = new FakeStdout(columns, rows);
  const stderr = new FakeStdout(columns, rows);
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: new FakeStdin() as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return { stdout, lastFrame: () => stdout.lastFrame(), unmount: () => instance.unmount() };
}

/** Polls `frame()` until `ok` holds (renders are throttled and asynchronous). */
export async function waitForFrame(frame: () => string | undefined, ok: (f: string) => boolean, what = 'frame'): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const f = frame() ?? '';
    if (ok(f)) return f;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; last frame:\n${frame() ?? ''}`);
}

export const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);

/** A jig of rows x cols slots named A1.., on 8-channel bridges b0, b1, … */
export function jig(rows: number, cols: number): SlotInfo[] {
  const out: SlotInfo[] = [];
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) {
      const i = out.length;
      out.push({ id: `${String.fromCharCode(64 + r)}${c}`, row: r, col: c, bridge: `b${Math.floor(i / 8)}`, channel: i % 8 });
    }
  }
  return out;
}

export function started(slots: SlotInfo[], t = T0): StationEvent {
  return { type: 'station.started', t, station: 'line-3', config: 'jig-8.json', kind: 'panel-jig', slots };
}

export const EID = '89049032123451234512345678901234';
export const ICCID = '8944501234567890123';

/** Events that bring one slot from idle to the given state, at t, t+1, … */
export const SKIP_REASON = 'not for this station: no BPP for this EID';

export function slotTo(slot: string, state: SlotState, t: number): StationEvent[] {
  const seq = ['present', 'powered', 'atr', 'identified', 'loading', 'verifying'] as const;
  const out: StationEvent[] = [];
  let k = t;
  const upTo = state === 'pass' || state === 'fail' ? 'verifying' : state === 'interrupted' ? 'loading' : state === 'skipped' ? 'identified' : state;
  if (state === 'idle') return [{ type: 'slot.state', t, slot, state: 'idle' }];
  for (const s of seq) {
    out.push({ type: 'slot.state', t: k++, slot, state: s });
    if (s === 'identified') {
      out.push({ type: 'slot.identified', t: k, slot, eid: EID, unusedKeys: 5 });
      // A skipped chip gets no BPP.
      if (state !== 'skipped') out.push({ type: 'slot.bpp-chosen', t: k, slot, eid: EID, batchId: 'B1', transactionId: 'tx-1', iccid: ICCID, attempt: 1 });
    }
    if (s === 'loading') out.push({ type: 'slot.progress', t: k, slot, bytesSent: 4500, bytesTotal: 10000, segmentsSent: 18, segmentsTotal: 40 });
    if (s === upTo) break;
  }
  if (state === 'pass') out.push({ type: 'slot.state', t: k++, slot, state: 'pass' });
  if (state === 'fail') out.push({ type: 'slot.state', t: k++, slot, state: 'fail', reason: 'card rejected segment 7', code: 'EUICC_6A80' });
  if (state === 'interrupted') out.push({ type: 'slot.state', t: k++, slot, state: 'interrupted', reason: 'operator abort' });
  if (state === 'skipped') out.push({ type: 'slot.state', t: k++, slot, state: 'skipped', reason: SKIP_REASON, code: 'EID_NOT_FOR_THIS_STATION' });
  return out;
}

export interface RecordingControls extends StationControls {
  calls: string[];
}

export function recordingControls(): RecordingControls {
  const calls: string[] = [];
  return {
    calls,
    start: () => void calls.push('start'),
    pause: () => void calls.push('pause'),
    resume: () => void calls.push('resume'),
    abort: () => void calls.push('abort'),
    retry: (slot) => void calls.push(`retry ${slot}`),
    quit: (force) => void calls.push(`quit ${force}`),
  };
}

/** A source that replays a fixed list of events when subscribed, then stays silent. */
export function replay(events: StationEvent[]) {
  return {
    on(l: (e: StationEvent) => void) {
      for (const e of events) l(e);
      return () => {};
    },
  };
}

/** Lines of a frame, trailing spaces removed. */
export function lines(frame: string): string[] {
  return frame.split('\n').map((l) => l.trimEnd());
}
