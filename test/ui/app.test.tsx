/**
 * The app with its keys, through ink-testing-library's stdin (which does reach useInput with
 * ink 6.8 + ink-testing-library 4.0; the real-terminal check is in tty.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { EventBus } from '../../src/station/events.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { StationApp } from '../../src/ui/app.tsx';
import type { StationControls } from '../../src/ui/app.tsx';
import { T0, jig, lines, recordingControls, slotTo, started, waitForFrame } from './helpers.tsx';

afterEach(() => cleanup());

const KEY = { up: '\u001B[A', down: '\u001B[B', right: '\u001B[C', left: '\u001B[D', enter: '\r', esc: '\u001B', ctrlC: '\u0003' };

const script: StationEvent[] = [
  started(jig(2, 4)),
  { type: 'station.phase', t: T0, phase: 'waiting-for-start' },
  ...slotTo('A3', 'fail', T0 + 1000),
  ...slotTo('B1', 'loading', T0 + 2000),
];

function mount(opts: { rows?: number; controls?: StationControls } = {}) {
  const bus = new EventBus();
  const controls = opts.controls ?? recordingControls();
  const r = render(<StationApp source={bus} controls={controls} size={{ columns: 80, rows: opts.rows ?? 24 }} clock={() => T0 + 10_000} tickMs={0} renderIntervalMs={0} />);
  for (const e of script) bus.emit(e);
  const frame = () => r.lastFrame() ?? '';
  const type = async (s: string, until: (f: string) => boolean) => {
    r.stdin.write(s);
    return waitForFrame(frame, until, `frame after ${JSON.stringify(s)}`);
  };
  return { ...r, bus, controls, frame, type };
}

/** The line of the grid holding the selection marker. */
function selectedId(f: string): string | undefined {
  return /›([A-Z]\d+)/.exec(f)?.[1];
}

describe('StationApp keys', () => {
  it('s starts, p pauses, p resumes once the station says it is paused', async () => {
    const app = mount();
    const c = app.controls as ReturnType<typeof recordingControls>;
    await waitForFrame(app.frame, (f) => f.includes('WAITING FOR START'));
    await app.type('s', (f) => f.includes('Start requested'));
    expect(c.calls).toEqual(['start']);
    app.bus.emit({ type: 'station.phase', t: T0 + 3000, phase: 'running' });
    await app.type('p', (f) => f.includes('Pause requested'));
    app.bus.emit({ type: 'station.phase', t: T0 + 4000, phase: 'paused' });
    await waitForFrame(app.frame, (f) => f.includes('PAUSED') && f.includes('s/p resume'));
    await app.type('p', (f) => f.includes('Resume requested'));
    expect(c.calls).toEqual(['start', 'pause', 'resume']);
  });

  it('a asks for confirmation; n cancels, y aborts', async () => {
    const app = mount();
    const c = app.controls as ReturnType<typeof recordingControls>;
    await waitForFrame(app.frame, (f) => f.includes('line-3'));
    let f = await app.type('a', (x) => x.includes('Abort the run?'));
    expect(f).toContain('[y] yes  [n] no');
    expect(f).toContain('y abort  n/Esc cancel');
    f = await app.type('n', (x) => !x.includes('Abort the run?'));
    expect(f).toContain('Abort cancelled');
    expect(c.calls).toEqual([]);
    await app.type('a', (x) => x.includes('Abort the run?'));
    await app.type('y', (x) => x.includes('Abort requested'));
    expect(c.calls).toEqual(['abort']);
  });

  it('arrows and hjkl move the selection; Enter opens the detail pane, Esc closes it', async () => {
    const app = mount();
    expect(selectedId(await waitForFrame(app.frame, (f) => f.includes('›A1')))).toBe('A1');
    await app.type(KEY.right, (f) => selectedId(f) === 'A2');
    await app.type('j', (f) => selectedId(f) === 'B2');
    await app.type(KEY.left, (f) => selectedId(f) === 'B1');
    await app.type(KEY.up, (f) => selectedId(f) === 'A1');
    await app.type('l', (f) => selectedId(f) === 'A2');
    await app.type('l', (f) => selectedId(f) === 'A3');
    const detail = await app.type(KEY.enter, (f) => f.includes('Recent events'));
    expect(detail).toContain('Slot A3');
    expect(detail).toContain('✗ FAIL');
    expect(detail).toContain('Last error [EUICC_6A80] card rejected segment 7');
    expect(detail).toContain('APDUs none yet');
    expect(lines(detail).length).toBeLessThan(24);
    const back = await app.type(KEY.esc, (f) => !f.includes('Recent events'));
    expect(back).toContain('╭');
  });

  it('does not lose keys that arrive together in one read', async () => {
    const app = mount();
    await waitForFrame(app.frame, (f) => f.includes('›A1'));
    const f = await app.type('ll\r', (x) => x.includes('Recent events'));
    expect(f).toContain('Slot A3');
  });

  it('r retries the selected failed slot and refuses a busy one', async () => {
    const app = mount();
    const c = app.controls as ReturnType<typeof recordingControls>;
    await waitForFrame(app.frame, (f) => f.includes('›A1'));
    await app.type('j', (f) => selectedId(f) === 'B1');
    await app.type('r', (f) => f.includes('Slot B1 is loading: only a failed or interrupted slot can be retried'));
    await app.type('k', (f) => selectedId(f) === 'A1');
    await app.type('l', (f) => selectedId(f) === 'A2');
    await app.type('l', (f) => selectedId(f) === 'A3');
    await app.type('r', (f) => f.includes('Retry requested for slot A3'));
    expect(c.calls).toEqual(['retry A3']);
  });

  it("r shows the station's answer: why a retry did not start, or that it did", async () => {
    const answers = [
      { started: false, message: 'no chip in A3: it is loaded when one is inserted' },
      { started: true, message: 'retrying A3 now' },
    ];
    const c = { ...recordingControls(), retry: async (slot: string) => ({ ...answers.shift()!, slot }) };
    const app = mount({ controls: c });
    await waitForFrame(app.frame, (f) => f.includes('›A1'));
    await app.type('l', (f) => selectedId(f) === 'A2');
    await app.type('l', (f) => selectedId(f) === 'A3');
    await app.type('r', (f) => f.includes('Retry not started: no chip in A3: it is loaded when one is inserted'));
    await app.type('r', (f) => f.includes('retrying A3 now'));
  });

  it('q is refused while a load is in flight, then a second q forces; Q forces at once', async () => {
    const app = mount();
    const c = app.controls as ReturnType<typeof recordingControls>;
    await waitForFrame(app.frame, (f) => f.includes('line-3'));
    await app.type('q', (f) => f.includes('Quit refused: 1 load(s) in flight (B1). Press q again or Q to force.'));
    expect(c.calls).toEqual([]);
    await app.type('q', (f) => f.includes('Force quit'));
    expect(c.calls).toEqual(['quit true']);
    await app.type('Q', (f) => f.includes('Force quit'));
    expect(c.calls).toEqual(['quit true', 'quit true']);
  });

  it('Ctrl+C is a quit key, not an exit: refused while busy, plain quit once idle', async () => {
    const app = mount();
    const c = app.controls as ReturnType<typeof recordingControls>;
    await waitForFrame(app.frame, (f) => f.includes('line-3'));
    await app.type(KEY.ctrlC, (f) => f.includes('Quit refused'));
    expect(c.calls).toEqual([]);
    app.bus.emit({ type: 'slot.state', t: T0 + 5000, slot: 'B1', state: 'pass' });
    await waitForFrame(app.frame, (f) => f.includes('Busy 0/8'));
    await app.type('j', (f) => !f.includes('Quit refused'));
    await app.type(KEY.ctrlC, (f) => f.includes('Quitting…'));
    expect(c.calls).toEqual(['quit false']);
  });

  it('shows a failing control as an error line instead of crashing', async () => {
    const c = { ...recordingControls(), start: () => Promise.reject(new Error('jig not ready')) };
    const app = mount({ controls: c });
    await waitForFrame(app.frame, (f) => f.includes('line-3'));
    await app.type('s', (f) => f.includes('start failed: jig not ready'));
  });
});

describe('StationApp rendering', () => {
  it('batches a burst of events into one redraw and shows the latest state', async () => {
    const bus = new EventBus();
    const r = render(<StationApp source={bus} controls={recordingControls()} size={{ columns: 80, rows: 24 }} clock={() => T0 + 10_000} tickMs={0} renderIntervalMs={100} />);
    for (const e of script) bus.emit(e);
    await waitForFrame(() => r.lastFrame(), (f) => f.includes('line-3'));
    const before = r.frames.length;
    for (let i = 1; i <= 100; i++) {
      bus.emit({ type: 'slot.progress', t: T0 + 3000 + i, slot: 'B1', bytesSent: i * 100, bytesTotal: 10_000, segmentsSent: i, segmentsTotal: 100 });
    }
    await waitForFrame(() => r.lastFrame(), (f) => f.includes('100%'));
    expect(r.frames.length - before).toBeLessThanOrEqual(2);
  });

  it('redraws at most once per render interval while events keep coming', async () => {
    const bus = new EventBus();
    const r = render(<StationApp source={bus} controls={recordingControls()} size={{ columns: 80, rows: 24 }} clock={() => T0 + 10_000} tickMs={0} renderIntervalMs={100} />);
    for (const e of script) bus.emit(e);
    await waitForFrame(() => r.lastFrame(), (f) => f.includes('line-3'));
    const before = r.frames.length;
    const started = performance.now();
    for (let i = 1; i <= 40; i++) {
      bus.emit({ type: 'slot.progress', t: T0 + 3000 + i, slot: 'B1', bytesSent: i * 250, bytesTotal: 10_000, segmentsSent: i, segmentsTotal: 40 });
      await new Promise((res) => setTimeout(res, 5));
    }
    await waitForFrame(() => r.lastFrame(), (f) => f.includes('100%'));
    const elapsed = performance.now() - started;
    // Unthrottled this would be ~40 frames; throttled, one per 100 ms (+1 leading, +1 trailing).
    expect(r.frames.length - before).toBeLessThanOrEqual(Math.floor(elapsed / 100) + 2);
    expect(r.frames.length - before).toBeLessThan(40);
  });

  it('switches to compact cells for 16 slots at 80x24 and stays shorter than the terminal', async () => {
    const bus = new EventBus();
    const r = render(<StationApp source={bus} controls={recordingControls()} size={{ columns: 80, rows: 24 }} clock={() => T0} tickMs={0} renderIntervalMs={0} />);
    bus.emit(started(jig(4, 4)));
    bus.emit({ type: 'station.prompt', t: T0, message: 'Load panel' });
    const f = await waitForFrame(() => r.lastFrame(), (x) => x.includes('D4'));
    expect(f).not.toContain('╭');
    for (const row of 'ABCD') for (const col of '1234') expect(f).toContain(`${row}${col}`);
    expect(lines(f).length).toBeLessThan(24);
  });
});
