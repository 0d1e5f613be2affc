import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { SLOT_STATES } from '../../src/station/events.ts';
import type { SlotState, StationEvent } from '../../src/station/events.ts';
import { createViewModel, reduceAll } from '../../src/ui/state/view-model.ts';
import type { SlotView } from '../../src/ui/state/view-model.ts';
import { computeGridLayout } from '../../src/ui/state/layout.ts';
import { STATE_LOOK } from '../../src/ui/format.ts';
import { SlotCell, wrapWords } from '../../src/ui/components/SlotCell.tsx';
import { SlotGrid } from '../../src/ui/components/SlotGrid.tsx';
import { StationApp } from '../../src/ui/app.tsx';
import { EID, ICCID, T0, jig, lines, recordingControls, renderSized, replay, slotTo, started, waitForFrame } from './helpers.tsx';

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
    expect(counters).toBe('Done 4  ✓ Pass 3  ✗ Fail 1  FPY 50.0%  Rate 40/h  Busy 1/8');
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

  it('fits 80x24 with 8 slots in full form even with a prompt and warnings', async () => {
    const r = mount([...script, { type: 'station.prompt', t: T0 + 6 * MIN, message: 'Load panel' }]);
    const f = await waitForFrame(r.lastFrame, (x) => x.includes('line-3'));
    expect(f).toContain('╭');
    expect(lines(f).length).toBeLessThan(24);
    expect(Math.max(...lines(f).map((l) => l.length))).toBeLessThan(80);
  });
});
