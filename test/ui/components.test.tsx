import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { SLOT_STATES } from '../../src/station/events.ts';
import type { SlotState, StationEvent } from '../../src/station/events.ts';
import { createViewModel, reduceAll } from '../../src/ui/state/view-model.ts';
import type { SlotView, ViewModel } from '../../src/ui/state/view-model.ts';
import { computeGridLayout } from '../../src/ui/state/layout.ts';
import { STATE_LOOK } from '../../src/ui/format.ts';
import { SlotCell, compactLines, fullLines, wrapWords } from '../../src/ui/components/SlotCell.tsx';
import { SlotGrid } from '../../src/ui/components/SlotGrid.tsx';
import { DetailPane } from '../../src/ui/components/DetailPane.tsx';
import { counterLine } from '../../src/ui/components/Header.tsx';
import { StationApp } from '../../src/ui/app.tsx';
import { EID, ICCID, SKIP_REASON, T0, jig, lines, recordingControls, renderSized, replay, slotTo, started, waitForFrame } from './helpers.tsx';

afterEach(() => cleanup());

function slotIn(state: SlotState): SlotView {
  const m = reduceAll(createViewModel(), [started(jig(1, 1)), ...slotTo('A1', state, T0)]);
  return m.slots['A1']!;
}

describe('SlotCell', () => {
  it.each(SLOT_STATES)('full form shows symbol and word for %s', (state) => {
    const { lastFrame } = render(<SlotCell slot={slotIn(state)} form="full" width={20} selected={false} elapsed="0:12" />);
    const f = lastFrame()!;
    const look = STATE_LOOK[state];
    expect(f).toContain(`${look.symbol} ${look.word}`);
    expect(f).toContain('A1');
    expect(lines(f)).toHaveLength(7);
    if (state !== 'idle') expect(f).toContain('0:12');
  });

  it.each(SLOT_STATES)('compact form shows symbol and word for %s', (state) => {
    const { lastFrame } = render(<SlotCell slot={slotIn(state)} form="compact" width={24} selected={false} elapsed="0:12" />);
    const look = STATE_LOOK[state];
    expect(lastFrame()).toContain(`${look.symbol} ${look.word}`);
    expect(lines(lastFrame()!)).toHaveLength(2);
  });

  it('narrow compact cells fall back to the 4-letter word', () => {
    const { lastFrame } = render(<SlotCell slot={slotIn('interrupted')} form="compact" width={12} selected={false} elapsed="0:12" />);
    expect(lastFrame()).toContain('⊘ INTR');
    expect(lines(lastFrame()!).every((l) => l.length <= 12)).toBe(true);
  });

  it('loading shows short EID, ICCID tail and a progress bar with the percentage', () => {
    const { lastFrame } = render(<SlotCell slot={slotIn('loading')} form="full" width={20} selected={false} elapsed="0:03" />);
    const f = lastFrame()!;
    expect(f).toContain(`EID …${EID.slice(-8)}`);
    expect(f).toContain(`ICCID …${ICCID.slice(-11)}`);
    expect(f).toMatch(/█+░+ +45%/);
  });

  it('fail and interrupted say why, in words', () => {
    expect(render(<SlotCell slot={slotIn('fail')} form="full" width={20} selected={false} elapsed="" />).lastFrame()).toMatch(/card rejected\s*│\n│segment 7/);
    expect(render(<SlotCell slot={slotIn('fail')} form="compact" width={26} selected={false} elapsed="" />).lastFrame()).toContain('card rejected segment 7');
    expect(render(<SlotCell slot={slotIn('interrupted')} form="full" width={20} selected={false} elapsed="" />).lastFrame()).toContain('operator abort');
  });

  it('skipped says, dimmed, why the chip is not for this station, in place of ICCID and bar (and EID if need be)', () => {
    const full = render(<SlotCell slot={slotIn('skipped')} form="full" width={26} selected={false} elapsed="0:01" />).lastFrame()!;
    expect(lines(full)).toEqual([
      '╭────────────────────────╮',
      '│A1                  0:01│',
      '│– SKIPPED               │',
      `│EID …${EID.slice(-8)}           │`,
      '│not for this station: no│',
      '│BPP for this EID        │',
      '╰────────────────────────╯',
    ]);
    // A narrower cell gives the reason the EID's line rather than cut it.
    const narrow = render(<SlotCell slot={slotIn('skipped')} form="full" width={19} selected={false} elapsed="0:01" />).lastFrame()!;
    expect(lines(narrow).slice(2, 6)).toEqual(['│– SKIPPED        │', '│not for this     │', '│station: no BPP  │', '│for this EID     │']);
    const compact = render(<SlotCell slot={slotIn('skipped')} form="compact" width={44} selected={false} elapsed="" />).lastFrame()!;
    expect(lines(compact)).toEqual([' A1 – SKIPPED', ` ${SKIP_REASON}`]);
    // Dim, not bold like a verdict: the state is drawn as quietly as an idle slot.
    const quiet = fullLines(slotIn('skipped'), 24, false, '')[1]![0]!;
    expect(quiet).toMatchObject({ text: expect.stringMatching(/^– SKIPPED/), dim: true, bold: false });
    expect(compactLines(slotIn('skipped'), 44, false, '')[1]![1]).toMatchObject({ text: SKIP_REASON, dim: true });
  });

  it('marks the selected cell without colour: double border and a › marker', () => {
    const f = render(<SlotCell slot={slotIn('pass')} form="full" width={20} selected elapsed="" />).lastFrame()!;
    expect(f).toContain('╔');
    expect(f).toContain('›A1');
    expect(render(<SlotCell slot={slotIn('pass')} form="compact" width={20} selected elapsed="" />).lastFrame()).toContain('›A1');
  });

  it('wraps a long reason into the lines it has', () => {
    expect(wrapWords('card rejected segment 7 of the bound profile package', 17, 2)).toEqual(['card rejected', 'segment 7 of the…']);
    expect(wrapWords('short', 17, 2)).toEqual(['short']);
    expect(wrapWords('0123456789ABCDEFGHIJ', 8, 3)).toEqual(['01234567', '89ABCDEF', 'GHIJ']);
  });
});

function gridModel(rows: number, cols: number, extra: StationEvent[] = []) {
  const slots = jig(rows, cols);
  const events: StationEvent[] = [started(slots)];
  const states: SlotState[] = ['loading', 'pass', 'fail', 'identified'];
  slots.forEach((s, i) => events.push(...slotTo(s.id, states[i % states.length]!, T0 + i * 10)));
  return reduceAll(createViewModel(), [...events, ...extra]);
}

describe('grid layout', () => {
  it('puts 8 slots in full form at 80x24, in the jig rows and columns', () => {
    const layout = computeGridLayout(jig(2, 4), 79, 14);
    expect(layout).toMatchObject({ form: 'full', cellWidth: 19, rows: [['A1', 'A2', 'A3', 'A4'], ['B1', 'B2', 'B3', 'B4']], reflowed: false });
  });

  it('uses compact cells for 16 slots at 80x24, and reflows or windows when the jig does not fit', () => {
    expect(computeGridLayout(jig(4, 4), 79, 15)).toMatchObject({ form: 'compact', cellWidth: 19, rowGap: true, height: 11 });
    const wide = computeGridLayout(jig(1, 16), 79, 15);
    expect(wide).toMatchObject({ form: 'compact', reflowed: true });
    expect(wide.rows.flat()).toHaveLength(16);
    const tiny = computeGridLayout(jig(1, 16), 40, 6, 'A16');
    expect(tiny.hiddenAbove + tiny.hiddenBelow).toBeGreaterThan(0);
    expect(tiny.rows.flat()).toContain('A16');
    expect(tiny.height).toBeLessThanOrEqual(6);
  });

  it('keeps holes in the jig where no slot is configured', () => {
    const layout = computeGridLayout([{ id: 'A1', row: 1, col: 1 }, { id: 'A3', row: 1, col: 3 }], 79, 14);
    expect(layout.rows).toEqual([['A1', null, 'A3']]);
  });

  it('renders 16 slots at 80x24 in compact form with every slot visible', () => {
    const m = gridModel(4, 4);
    const f = render(<SlotGrid model={m} selected="A1" now={T0 + 5000} width={79} height={15} />).lastFrame()!;
    for (const id of m.slotOrder) expect(f).toContain(id);
    expect(f).not.toContain('╭');
    expect(lines(f).length).toBeLessThanOrEqual(15);
  });

  it('renders 64 slots on a 200x60 terminal, shorter than the terminal', async () => {
    const m = gridModel(8, 8);
    const r = renderSized(<StationApp source={replay([])} controls={recordingControls()} initialModel={m} clock={() => T0 + 10_000} tickMs={0} />, 200, 60);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('H8'));
    for (const id of m.slotOrder) expect(f).toContain(id);
    expect(lines(f).length).toBeLessThan(60);
    expect(Math.max(...lines(f).map((l) => l.length))).toBeLessThan(200);
    r.unmount();
  });
});

describe('StationApp screen', () => {
  const MIN = 60_000;
  const script: StationEvent[] = [
    started(jig(2, 4)),
    { type: 'station.phase', t: T0, phase: 'running' },
    { type: 'store.stock', t: T0, batches: [{ batchId: 'B-7', available: 40, total: 1000 }, { batchId: 'B-8', available: 5, total: 500 }] },
    { type: 'bridge.connected', t: T0, bridge: 'b0', port: '/dev/ttyACM0' },
    ...slotTo('A1', 'pass', T0 + 1 * MIN),
    { type: 'unit.done', t: T0 + 1 * MIN + 10, slot: 'A1', outcome: 'installed', passFirstTime: true },
    ...slotTo('A2', 'pass', T0 + 2 * MIN),
    { type: 'unit.done', t: T0 + 2 * MIN + 10, slot: 'A2', outcome: 'installed', passFirstTime: false },
    ...slotTo('A3', 'fail', T0 + 3 * MIN),
    { type: 'unit.done', t: T0 + 3 * MIN + 10, slot: 'A3', outcome: 'failed-key-burnt', passFirstTime: false },
    ...slotTo('A4', 'pass', T0 + 4 * MIN),
    { type: 'unit.done', t: T0 + 4 * MIN + 10, slot: 'A4', outcome: 'installed', passFirstTime: true },
    ...slotTo('B1', 'loading', T0 + 5 * MIN),
    { type: 'bridge.disconnected', t: T0 + 5 * MIN, bridge: 'b0', reason: 'USB unplugged' },
  ];

  function mount(events: StationEvent[], rows = 24) {
    const controls = recordingControls();
    const now = T0 + 6 * MIN;
    const r = render(<StationApp source={replay(events)} controls={controls} viewOptions={{ lowStockThreshold: 50 }} size={{ columns: 80, rows }} clock={() => now} tickMs={0} renderIntervalMs={0} />);
    return { ...r, controls };
  }

  it('shows counters, first-pass yield, rolling throughput, uptime, stock and warnings', async () => {
    const r = mount(script);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3'));
    const [title, counters, stock, warn] = lines(f);
    expect(title).toMatch(/^IFPP line-3 · jig-8\.json +RUNNING {2}up 0:06:00$/);
    // 4 units in the first 6 minutes = 40/h; 2 of 4 passed first time.
    expect(counters).toBe('Done 4  ✓ Pass 3  ✗ Fail 1  ⊘ Intr 0  FPY 50.0%  Rate 40/h  Busy 1/8');
    expect(stock).toBe('BPPs left 45  (B-7 40/1000 · B-8 5/500)');
    // 24 lines leave room for one warning line, which says there are more.
    expect(warn).toBe('▲ Bridge b0 disconnected: USB unplugged (+1 more)');
    expect(lines(f).length).toBeLessThan(24);
  });

  it('shows two warning lines on a taller terminal', async () => {
    const r = mount(script, 30);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3'));
    expect(lines(f).slice(3, 5)).toEqual(['▲ Bridge b0 disconnected: USB unplugged', '▲ Low BPP stock: 45 left (warning at 50)']);
  });

  it('shows the operator prompt prominently and removes it when cleared', async () => {
    const r = mount([...script, { type: 'station.prompt', t: T0 + 6 * MIN, message: 'Press both start buttons' }]);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3'));
    expect(f).toMatch(/┏━+┓\n┃ ▶ Press both start buttons +┃\n┗━+┛/);
    const cleared = mount([...script, { type: 'station.prompt', t: T0 + 6 * MIN, message: 'Press both start buttons' }, { type: 'station.prompt', t: T0 + 6 * MIN + 1, message: null }]);
    expect(await waitForFrame(cleared.lastFrame, (x) => x.includes('line-3'))).not.toContain('Press both');
  });

  // An operator abort in the middle of a panel, as the station reports it: the phase first,
  // then each loading slot's interruption with what it did to the load.
  const LOAD_CUT = 'load failed after the secure channel opened: load stopped before call 19 of 40: operator abort';
  const aborted: StationEvent[] = [
    ...script.slice(0, 4),
    ...slotTo('A1', 'pass', T0 + 1 * MIN),
    { type: 'unit.done', t: T0 + 1 * MIN + 10, slot: 'A1', outcome: 'installed', passFirstTime: true },
    ...slotTo('A2', 'pass', T0 + 1 * MIN),
    { type: 'unit.done', t: T0 + 1 * MIN + 10, slot: 'A2', outcome: 'installed', passFirstTime: true },
    ...slotTo('A3', 'pass', T0 + 1 * MIN),
    { type: 'unit.done', t: T0 + 1 * MIN + 10, slot: 'A3', outcome: 'installed', passFirstTime: true },
    ...slotTo('A4', 'pass', T0 + 1 * MIN),
    { type: 'unit.done', t: T0 + 1 * MIN + 10, slot: 'A4', outcome: 'installed', passFirstTime: false },
    ...slotTo('B1', 'fail', T0 + 1 * MIN),
    { type: 'unit.done', t: T0 + 1 * MIN + 10, slot: 'B1', outcome: 'failed-key-burnt', passFirstTime: false },
    ...['B2', 'B3', 'B4'].flatMap((id) => slotTo(id, 'loading', T0 + 2 * MIN)),
    { type: 'station.phase', t: T0 + 3 * MIN, phase: 'aborted', reason: 'operator abort' },
    ...['B2', 'B3', 'B4'].flatMap((id): StationEvent[] => [
      { type: 'slot.state', t: T0 + 3 * MIN + 5, slot: id, state: 'interrupted', reason: LOAD_CUT, code: 'FPA_ABORTED' },
      { type: 'slot.result', t: T0 + 3 * MIN + 5, slot: id, outcome: 'interrupted', code: 'FPA_ABORTED', reason: LOAD_CUT, millis: 60_000, attempt: 1 },
      { type: 'unit.done', t: T0 + 3 * MIN + 5, slot: id, outcome: 'interrupted', passFirstTime: false },
    ]),
  ];

  it('counts an aborted panel as interrupted, not failed, and leaves it out of the yield', async () => {
    const r = mount(aborted);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3') && x.includes('INTERRUPTED'));
    // 3 first passes over the 5 units that passed or failed: 60 %. 8 units in 6 minutes: 80/h.
    expect(lines(f)[1]).toBe('Done 8  ✓ Pass 4  ✗ Fail 1  ⊘ Intr 3  FPY 60.0%  Rate 80/h  Busy 0/8');
  });

  it('says in an interrupted cell what stopped it; the detail pane keeps what that did to the load', async () => {
    const r = mount(aborted);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3') && x.includes('INTERRUPTED'));
    // B2, B3 and B4, side by side.
    expect(f).toMatch(/│operator abort +││operator abort +││operator abort +│/);
    expect(f).not.toContain('load failed');
    const m = reduceAll(createViewModel(), aborted);
    const pane = render(<DetailPane model={m} slot={m.slots['B2']!} now={T0 + 6 * MIN} width={79} height={14} />).lastFrame()!;
    expect(pane).toMatch(/│ Stopped by operator abort +│\n│ Last error \[FPA_ABORTED\] load failed after the secure channel/);
  });

  it('keeps the counters within 80 columns with a full shift of units, interrupted units by symbol and word', async () => {
    const now = T0 + 20 * MIN;
    const base = reduceAll(createViewModel(), [started(jig(4, 8)), { type: 'station.phase', t: T0, phase: 'running' }]);
    // 300 units in the last 15 minutes: 1200/h, on top of a shift's worth of counts.
    const doneTimes = Array.from({ length: 300 }, (_, i) => now - i * 3000);
    const shift = (interrupted: number, skipped = 0): ViewModel => ({
      ...base,
      lastT: now,
      doneTimes,
      counters: { done: 12_345 + interrupted + skipped, pass: 12_000, fail: 345, interrupted, skipped, passFirstTime: 11_800, byOutcome: {} },
    });
    const frame = async (m: ViewModel) => {
      const r = render(<StationApp source={replay([])} controls={recordingControls()} initialModel={m} size={{ columns: 80, rows: 24 }} clock={() => now} tickMs={0} renderIntervalMs={0} />);
      return waitForFrame(r.lastFrame, (x) => x.includes('line-3'));
    };
    // All of it, not cut at the edge: tighter spacing makes room for the interrupted counter.
    expect(lines(await frame(shift(45)))[1]).toBe('Done 12390 ✓ Pass 12000 ✗ Fail 345 ⊘ Intr 45 FPY 95.6% Rate 1200/h Busy 0/32');
    const text = (m: ViewModel, width: number) => counterLine(m, now, width).map((x) => x.text).join('');
    // A zero counter is shown while there is room, and left out only when space is short.
    expect([text(shift(0), 99), text(shift(0), 79)]).toEqual([
      'Done 12345  ✓ Pass 12000  ✗ Fail 345  ⊘ Intr 0  FPY 95.6%  Rate 1200/h  Busy 0/32',
      'Done 12345  ✓ Pass 12000  ✗ Fail 345  FPY 95.6%  Rate 1200/h  Busy 0/32',
    ]);
    // Narrower still: the outcome counters keep their symbols (never colour alone).
    expect(text(shift(45), 60)).toBe('Done 12390 ✓12000 ✗345 ⊘45 FPY 95.6% Rate 1200/h Busy 0/32');
    // Skipped chips, once there are any, are counted apart in every form; the short form says
    // "Skip" rather than a dash that would read as a minus sign.
    expect(text(shift(45, 7), 99)).toBe('Done 12397  ✓ Pass 12000  ✗ Fail 345  ⊘ Intr 45  – Skip 7  FPY 95.6%  Rate 1200/h  Busy 0/32');
    expect(text(shift(45, 7), 89)).toBe('Done 12397 ✓ Pass 12000 ✗ Fail 345 ⊘ Intr 45 – Skip 7 FPY 95.6% Rate 1200/h Busy 0/32');
    expect(lines(await frame(shift(45, 7)))[1]).toBe('Done 12397 ✓12000 ✗345 ⊘45 Skip 7 FPY 95.6% Rate 1200/h Busy 0/32');
    expect(text(shift(0, 7), 99)).toBe('Done 12352  ✓ Pass 12000  ✗ Fail 345  ⊘ Intr 0  – Skip 7  FPY 95.6%  Rate 1200/h  Busy 0/32');
  });

  it('draws a skipped chip as SKIPPED with why, counted apart from pass and fail, out of the yield', async () => {
    const withSkip: StationEvent[] = [
      ...script,
      ...slotTo('B2', 'skipped', T0 + 5 * MIN),
      { type: 'slot.result', t: T0 + 5 * MIN + 9, slot: 'B2', eid: EID, outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION', reason: SKIP_REASON, millis: 90, attempt: 1 },
      { type: 'unit.done', t: T0 + 5 * MIN + 9, slot: 'B2', eid: EID, outcome: 'skipped', passFirstTime: false },
    ];
    const r = mount(withSkip);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3') && x.includes('SKIPPED'));
    // 2 first passes over the 4 units that passed or failed: 50 %, as without the skipped one.
    expect(lines(f)[1]).toBe('Done 5  ✓ Pass 3  ✗ Fail 1  ⊘ Intr 0  – Skip 1  FPY 50.0%  Rate 50/h  Busy 1/8');
    // B1 (loading) and B2 (skipped) side by side.
    expect(f).toMatch(/│– SKIPPED +│/);
    expect(f).toMatch(/││not for this +││/);
    expect(f).toMatch(/││station: no BPP +││/);
    expect(f).toMatch(/││for this EID +││/);
  });

  it('fits 80x24 with 8 slots in full form even with a prompt and warnings', async () => {
    const r = mount([...script, { type: 'station.prompt', t: T0 + 6 * MIN, message: 'Load panel' }]);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3'));
    expect(f).toContain('╭');
    expect(lines(f).length).toBeLessThan(24);
    expect(Math.max(...lines(f).map((l) => l.length))).toBeLessThan(80);
  });
});
