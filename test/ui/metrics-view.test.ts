/**
 * The UI's share of production metrics: slot figures and wear in the detail pane, the per-slot
 * summary view (y), out-of-service and low-yield slots in the header warnings, and the plain log.
 */
import { describe, expect, it } from 'vitest';
import { createViewModel, reduceAll, activeWarnings } from '../../src/ui/state/view-model.ts';
import { detailLines } from '../../src/ui/components/DetailPane.tsx';
import { summaryLines } from '../../src/ui/components/SummaryView.tsx';
import { handleKey, initialUiState } from '../../src/ui/state/keys.ts';
import { createPlainLog } from '../../src/ui/plain-log.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { emptyFigures } from '../../src/station/metrics/slot-stats.ts';
import { T0, jig, started } from './helpers.tsx';

const text = (segs: { text: string }[][]): string[] => segs.map((l) => l.map((s) => s.text).join(''));

function events(): StationEvent[] {
  const run = { ...emptyFigures(), units: 3, judged: 3, installed: 2, passFirstTime: 2, fpy: 2 / 3, byOutcome: { installed: 2, 'failed-key-burnt': 1 }, codes: { PIR_ERROR: 1 } };
  const history = { ...run, units: 40, judged: 40, installed: 30, passFirstTime: 28, fpy: 0.7, codes: { PIR_ERROR: 6, CARD_NO_ATR: 4 } };
  return [
    started(jig(1, 2)),
    { type: 'slot.stats', t: T0 + 1000, slot: 'A1', bridge: 'b0', run, history, cycles: 95, cycleLimit: 100, service: 'warning', recentYield: 0.5, yieldFlag: 'slot A1: first-pass yield 50% over its last 20 units, other slots 95%: check its contacts' },
    { type: 'slot.service', t: T0 + 2000, slot: 'A2', status: 'out-of-service', cycles: 100, limit: 100, message: 'slot A2 out of service: 100 contact cycles reached its pogo limit of 100' },
    {
      type: 'station.summary', t: T0 + 3000, final: false, periodSeconds: 60, uptimeMs: 3000, units: 3, ratePerHour: 3600, lastPeriod: { units: 3, ratePerHour: 3600 }, fpy: 2 / 3,
      byOutcome: { installed: 2, 'failed-key-burnt': 1 }, stock: [{ batchId: 'B1', available: 7, total: 10 }], outOfService: ['A2'], flagged: ['A1'],
      slots: [
        { slot: 'A1', bridge: 'b0', units: 3, fpy: 2 / 3, historyUnits: 40, historyFpy: 0.7, cycles: 95, cycleLimit: 100, service: 'warning', yieldFlag: 'low' },
        { slot: 'A2', bridge: 'b0', units: 0, fpy: null, historyUnits: 12, historyFpy: 1, cycles: 100, cycleLimit: 100, service: 'out-of-service' },
      ],
    },
  ];
}

describe('metrics on screen', () => {
  it('the detail pane shows the slot figures, its wear and the yield flag', () => {
    const m = reduceAll(createViewModel(), events());
    const lines = text(detailLines(m, m.slots.A1!, T0 + 4000, 200, 40));
    expect(lines).toContain('Stats run 3 units, FPY 66.7% · all time 40 units, FPY 70% · top failures PIR_ERROR×6 CARD_NO_ATR×4');
    expect(lines).toContain('Wear  95/100 contact cycles  maintenance due soon  recent FPY 50%');
    expect(lines.some((l) => l.startsWith('Flag  slot A1: first-pass yield 50%'))).toBe(true);
    // A slot with no unit yet still tells its wear announcement
    const a2 = text(detailLines(m, m.slots.A2!, T0 + 4000, 200, 40));
    expect(a2.some((l) => l.startsWith('Wear  slot A2 out of service'))).toBe(true);
  });

  it('y toggles the per-slot summary view; Esc closes it', () => {
    const m = reduceAll(createViewModel(), events());
    const on = handleKey(initialUiState(), m, { input: 'y' }).ui;
    expect(on.summary).toBe(true);
    expect(handleKey(on, m, { input: '', escape: true }).ui.summary).toBe(false);
    const lines = text(summaryLines(m, 120, 20));
    expect(lines[0]).toBe('Per-slot summary  latest: 3 units, FPY 66.7%, 3600/h');
    expect(lines[1]).toMatch(/^slot\s+bridge\s+run\s+FPY\s+all time\s+FPY\s+cycles\s+service$/);
    expect(lines[2]).toMatch(/^A1\s+b0\s+3\s+66\.7%\s+40\s+70%\s+95\/100\s+warning · LOW YIELD$/);
    expect(lines[3]).toMatch(/^A2\s+b0\s+0\s+—\s+12\s+100%\s+100\/100\s+OUT OF SERVICE$/);
  });

  it('the header warns of slots out of service and slots flagged for low yield', () => {
    const m = reduceAll(createViewModel(), events());
    const w = activeWarnings(m, T0 + 4000);
    expect(w.find((x) => x.key === 'service:A2')).toMatchObject({ level: 'error' });
    expect(w.find((x) => x.key === 'yield:A1')).toMatchObject({ level: 'warn' });
  });

  it('the headless log prints summaries and wear changes, not per-unit stats', () => {
    const out: string[] = [];
    const log = createPlainLog((l) => out.push(l), { timestamps: false });
    for (const e of events()) log(e);
    expect(out.some((l) => l.includes('stats:'))).toBe(false);
    expect(out).toContain('A2   OUT OF SERVICE: slot A2 out of service: 100 contact cycles reached its pogo limit of 100');
    expect(out.at(-1)).toBe('-    summary: 3 units, 3600/h, FPY 66.7% (2 installed, 1 failed-key-burnt), 7 BPPs left; out of service: A2; low recent yield: A1');
  });
});
