import { describe, expect, it } from 'vitest';
import type { StationEvent } from '../../src/station/events.ts';
import {
  activeWarnings,
  busySlotIds,
  createViewModel,
  firstPassYield,
  orderedSlots,
  reduce,
  reduceAll,
  slotElapsedMs,
  slotWhy,
  stockLeft,
  throughputPerHour,
  uptimeMs,
} from '../../src/ui/state/view-model.ts';
import { EID, ICCID, SKIP_REASON, T0, jig, slotTo, started } from './helpers.tsx';

const MIN = 60_000;

function unitDone(slot: string, t: number, outcome: 'installed' | 'failed-key-burnt' | 'no-bpp' | 'interrupted' | 'skipped', passFirstTime: boolean): StationEvent {
  return { type: 'unit.done', t, slot, outcome, passFirstTime };
}

describe('view model', () => {
  it('lays slots out in row/column order and starts idle', () => {
    const m = reduce(createViewModel(), started([...jig(2, 2)].reverse()));
    expect(m.slotOrder).toEqual(['A1', 'A2', 'B1', 'B2']);
    expect(orderedSlots(m).map((s) => s.state)).toEqual(['idle', 'idle', 'idle', 'idle']);
    expect(m.station).toEqual({ name: 'line-3', config: 'jig-8.json', kind: 'panel-jig' });
    expect(m.phase).toBe('starting');
  });

  it('follows a slot through a load: EID, ICCID, progress, elapsed frozen at pass', () => {
    let m = reduceAll(createViewModel(), [started(jig(1, 2)), ...slotTo('A1', 'loading', T0 + 1000)]);
    const s = m.slots['A1']!;
    expect(s.state).toBe('loading');
    expect(s.eid).toBe(EID);
    expect(s.iccid).toBe(ICCID);
    expect(s.progress).toEqual({ bytesSent: 4500, bytesTotal: 10000, segmentsSent: 18, segmentsTotal: 40 });
    expect(s.startedAt).toBe(T0 + 1000);
    expect(busySlotIds(m)).toEqual(['A1']);
    m = reduce(m, { type: 'slot.state', t: T0 + 9000, slot: 'A1', state: 'pass' });
    expect(slotElapsedMs(m.slots['A1']!, T0 + 60_000)).toBe(8000);
    expect(busySlotIds(m)).toEqual([]);
  });

  it('keeps unchanged slot objects when another slot changes', () => {
    const m1 = reduceAll(createViewModel(), [started(jig(1, 2)), ...slotTo('A1', 'loading', T0 + 1)]);
    const m2 = reduce(m1, { type: 'slot.progress', t: T0 + 100, slot: 'A1', bytesSent: 5000, bytesTotal: 10000, segmentsSent: 20, segmentsTotal: 40 });
    expect(m2.slots['A2']).toBe(m1.slots['A2']);
    expect(m2.slots['A1']).not.toBe(m1.slots['A1']);
  });

  it('records the failure reason and code, and keeps the last error after the next card arrives', () => {
    let m = reduceAll(createViewModel(), [started(jig(1, 1)), ...slotTo('A1', 'fail', T0 + 10)]);
    expect(m.slots['A1']).toMatchObject({ state: 'fail', reason: 'card rejected segment 7', code: 'EUICC_6A80' });
    expect(m.slots['A1']!.lastError).toMatchObject({ code: 'EUICC_6A80', reason: 'card rejected segment 7' });
    m = reduceAll(m, [{ type: 'slot.state', t: T0 + 100, slot: 'A1', state: 'idle' }, { type: 'slot.state', t: T0 + 200, slot: 'A1', state: 'present' }]);
    expect(m.slots['A1']).toMatchObject({ state: 'present', eid: null, reason: null, startedAt: T0 + 200 });
    expect(m.slots['A1']!.lastError?.reason).toBe('card rejected segment 7');
  });

  it('says a result without a reason in words', () => {
    const m = reduceAll(createViewModel(), [
      started(jig(1, 1)),
      ...slotTo('A1', 'identified', T0),
      { type: 'slot.result', t: T0 + 50, slot: 'A1', outcome: 'no-bpp', millis: 40, attempt: 1 },
      { type: 'slot.state', t: T0 + 51, slot: 'A1', state: 'fail' },
    ]);
    expect(m.slots['A1']!.reason).toBe('no BPP for this EID');
  });

  it('a retry keeps the EID and restarts the clock', () => {
    let m = reduceAll(createViewModel(), [started(jig(1, 1)), ...slotTo('A1', 'fail', T0)]);
    m = reduce(m, { type: 'slot.state', t: T0 + 5000, slot: 'A1', state: 'powered' });
    expect(m.slots['A1']).toMatchObject({ state: 'powered', eid: EID, reason: null, progress: null, startedAt: T0 + 5000, endedAt: null });
  });

  it('keeps a bounded ring of recent events, coalescing progress, and a bounded APDU list', () => {
    let m = reduce(createViewModel({ recentLimit: 5, apduLimit: 3 }), started(jig(1, 1)));
    m = reduceAll(m, slotTo('A1', 'loading', T0));
    for (let i = 0; i < 50; i++) {
      m = reduce(m, { type: 'slot.progress', t: T0 + 100 + i, slot: 'A1', bytesSent: i * 100, bytesTotal: 5000, segmentsSent: i, segmentsTotal: 50 });
      m = reduce(m, { type: 'slot.apdu', t: T0 + 100 + i, slot: 'A1', summary: `STORE DATA ${i}`, sw: i === 49 ? '6A80' : '9000', micros: 1000 });
    }
    const s = m.slots['A1']!;
    expect(s.recent).toHaveLength(5);
    expect(s.recent.filter((e) => e.type === 'slot.progress')).toHaveLength(1);
    expect(s.recent[s.recent.length - 1]).toMatchObject({ type: 'slot.progress', bytesSent: 4900 });
    expect(s.apdus.map((a) => a.summary)).toEqual(['STORE DATA 47', 'STORE DATA 48', 'STORE DATA 49']);
    expect(s.apduCount).toBe(50);
    expect(s.apduErrors).toBe(1);
    expect(s.apduMicros).toBe(50_000);
    // The next card starts a fresh APDU summary.
    const next = reduceAll(m, [{ type: 'slot.state', t: T0 + 500, slot: 'A1', state: 'idle' }, { type: 'slot.state', t: T0 + 600, slot: 'A1', state: 'present' }]).slots['A1']!;
    expect([next.apduCount, next.apduErrors, next.apdus.length]).toEqual([0, 0, 0]);
  });

  it('counts units, pass/fail and first-pass yield from unit.done', () => {
    const m = reduceAll(createViewModel(), [
      started(jig(1, 4)),
      unitDone('A1', T0 + 1 * MIN, 'installed', true),
      unitDone('A2', T0 + 2 * MIN, 'installed', false),
      unitDone('A3', T0 + 3 * MIN, 'failed-key-burnt', false),
      unitDone('A4', T0 + 4 * MIN, 'installed', true),
    ]);
    expect(m.counters).toMatchObject({ done: 4, pass: 3, fail: 1, interrupted: 0, passFirstTime: 2 });
    expect(m.counters.byOutcome).toEqual({ installed: 3, 'failed-key-burnt': 1 });
    expect(firstPassYield(m)).toBe(0.5);
    expect(firstPassYield(reduce(createViewModel(), started(jig(1, 1))))).toBeNull();
  });

  it('counts interrupted units apart: not failures, and not in the first-pass yield', () => {
    const m = reduceAll(createViewModel(), [
      started(jig(1, 4)),
      unitDone('A1', T0 + 1 * MIN, 'installed', true),
      unitDone('A2', T0 + 2 * MIN, 'failed-key-burnt', false),
      unitDone('A3', T0 + 3 * MIN, 'interrupted', false),
      unitDone('A4', T0 + 3 * MIN, 'interrupted', false),
    ]);
    expect(m.counters).toEqual({ done: 4, pass: 1, fail: 1, interrupted: 2, skipped: 0, passFirstTime: 1, byOutcome: { installed: 1, 'failed-key-burnt': 1, interrupted: 2 } });
    // 1 first pass over the 2 units that ended pass or fail (not over all 4 done).
    expect(firstPassYield(m)).toBe(0.5);
    // Interrupted units alone give no yield yet, rather than 0 %.
    const onlyInterrupted = reduceAll(createViewModel(), [started(jig(1, 1)), unitDone('A1', T0 + MIN, 'interrupted', false)]);
    expect(firstPassYield(onlyInterrupted)).toBeNull();
  });

  it('counts skipped units (chips not for this station) apart: not failures, and not in the first-pass yield', () => {
    const m = reduceAll(createViewModel(), [
      started(jig(1, 4)),
      unitDone('A1', T0 + 1 * MIN, 'installed', true),
      unitDone('A2', T0 + 2 * MIN, 'no-bpp', false),
      unitDone('A3', T0 + 3 * MIN, 'skipped', false),
      unitDone('A4', T0 + 3 * MIN, 'skipped', false),
    ]);
    expect(m.counters).toEqual({ done: 4, pass: 1, fail: 1, interrupted: 0, skipped: 2, passFirstTime: 1, byOutcome: { installed: 1, 'no-bpp': 1, skipped: 2 } });
    expect(firstPassYield(m)).toBe(0.5);
    expect(firstPassYield(reduceAll(createViewModel(), [started(jig(1, 1)), unitDone('A1', T0 + MIN, 'skipped', false)]))).toBeNull();
  });

  it('a skipped slot says why, ends its clock, and is not recorded as an error', () => {
    let m = reduceAll(createViewModel(), [started(jig(1, 1)), ...slotTo('A1', 'fail', T0)]);
    const failure = m.slots['A1']!.lastError;
    m = reduceAll(m, [
      { type: 'slot.state', t: T0 + 100, slot: 'A1', state: 'idle' },
      ...slotTo('A1', 'skipped', T0 + 200),
      { type: 'slot.result', t: T0 + 205, slot: 'A1', eid: EID, outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION', reason: SKIP_REASON, millis: 5, attempt: 1 },
      { type: 'unit.done', t: T0 + 205, slot: 'A1', eid: EID, outcome: 'skipped', passFirstTime: false },
    ]);
    const a1 = m.slots['A1']!;
    expect(a1).toMatchObject({ state: 'skipped', eid: EID, batchId: null, reason: SKIP_REASON, code: 'EID_NOT_FOR_THIS_STATION', outcome: 'skipped', endedAt: T0 + 204 });
    expect(slotWhy(a1)).toBe(SKIP_REASON);
    expect(a1.lastError).toBe(failure);
    expect(busySlotIds(m)).toEqual([]);
  });

  it('an interrupted slot names the abort that stopped it; its own reason stays the last error', () => {
    const consequence = 'load failed after the secure channel opened: transport error on bridge b0';
    let m = reduceAll(createViewModel(), [
      started(jig(1, 2)),
      ...slotTo('A1', 'loading', T0 + 1000),
      { type: 'station.phase', t: T0 + 2000, phase: 'aborted', reason: 'Emergency stop pressed: all slots stopped' },
      { type: 'slot.state', t: T0 + 2001, slot: 'A1', state: 'interrupted', reason: consequence, code: 'BRIDGE_IO' },
    ]);
    const a1 = m.slots['A1']!;
    expect({ interruptedBy: a1.interruptedBy, why: slotWhy(a1), lastError: a1.lastError }).toEqual({
      interruptedBy: 'Emergency stop pressed: all slots stopped',
      why: 'Emergency stop pressed: all slots stopped',
      lastError: { t: T0 + 2001, code: 'BRIDGE_IO', reason: consequence },
    });
    // An abort from before the unit started is not its cause: the slot's own reason is shown.
    m = reduceAll(m, [
      { type: 'station.phase', t: T0 + 3000, phase: 'running' },
      ...slotTo('A2', 'identified', T0 + 4000),
      { type: 'slot.state', t: T0 + 5000, slot: 'A2', state: 'interrupted', reason: 'Stopped: the lid is open', code: 'JIG_GUARD_OPEN' },
    ]);
    expect([m.slots['A2']!.interruptedBy, slotWhy(m.slots['A2']!)]).toEqual([null, 'Stopped: the lid is open']);
    // A retry of the same card forgets the cause along with the reason.
    m = reduce(m, { type: 'slot.state', t: T0 + 6000, slot: 'A1', state: 'powered' });
    expect(m.slots['A1']!.interruptedBy).toBeNull();
  });

  it('computes a rolling throughput from event times, not the wall clock', () => {
    let m = reduce(createViewModel({ throughputWindowMs: 10 * MIN }), started(jig(1, 1)));
    expect(throughputPerHour(m, T0 + 30_000)).toBeNull(); // nothing done yet: no rate
    m = reduce(m, unitDone('A1', T0 + 2_000, 'installed', true));
    m = reduce(m, unitDone('A1', T0 + 4_000, 'installed', true));
    expect(throughputPerHour(m, T0 + 5_000)).toBeNull(); // 5 s in: too early to call it a rate
    expect(throughputPerHour(m, T0 + 30_000)).toBeNull(); // two units are not a rate either
    m = reduce(m, unitDone('A1', T0 + 6_000, 'installed', true));
    expect(throughputPerHour(m, T0 + 30_000)).toBeCloseTo(360, 6); // 3 in the first 30 s
    m = reduce(createViewModel({ throughputWindowMs: 10 * MIN }), started(jig(1, 1)));
    // 12 units in the first 6 minutes: 2 a minute.
    for (let i = 1; i <= 12; i++) m = reduce(m, unitDone('A1', T0 + i * 30_000, 'installed', true));
    expect(throughputPerHour(m, T0 + 6 * MIN)).toBeCloseTo(120, 6);
    // 20 minutes in, the window is the last 10 minutes: nothing done there.
    expect(throughputPerHour(m, T0 + 20 * MIN)).toBe(0);
    // 3 more units between minute 19 and 20: 3 in 10 minutes = 18/h.
    for (const k of [19, 19.5, 20]) m = reduce(m, unitDone('A1', T0 + k * MIN, 'installed', true));
    expect(throughputPerHour(m, T0 + 20 * MIN)).toBeCloseTo(18, 6);
    // Old entries are pruned as time moves on.
    expect(m.doneTimes.every((t) => t > T0 + 10 * MIN)).toBe(true);
    expect(uptimeMs(m, T0 + 20 * MIN)).toBe(20 * MIN);
  });

  it('warns about low stock, an empty store, disconnected bridges and recent station warnings', () => {
    let m = reduceAll(createViewModel({ lowStockThreshold: 50, warningTtlMs: MIN }), [
      started(jig(1, 1)),
      { type: 'store.stock', t: T0, batches: [{ batchId: 'B1', available: 30, total: 100 }, { batchId: 'B2', available: 15, total: 100 }] },
      { type: 'bridge.connected', t: T0, bridge: 'b0', port: '/dev/ttyACM0' },
      { type: 'bridge.connected', t: T0, bridge: 'b1', port: '/dev/ttyACM1' },
      { type: 'bridge.disconnected', t: T0 + 10, bridge: 'b1', reason: 'USB unplugged' },
      { type: 'station.warning', t: T0 + 20, code: 'SLOW', message: 'bridge b0 is slow' },
    ]);
    expect(stockLeft(m)).toBe(45);
    expect(activeWarnings(m, T0 + 30).map((w) => [w.level, w.text])).toEqual([
      ['error', 'Bridge b1 disconnected: USB unplugged'],
      ['warn', 'Low BPP stock: 45 left (warning at 50)'],
      ['warn', 'bridge b0 is slow'],
    ]);
    // The station warning expires; the bridge reconnects; stock runs out.
    m = reduceAll(m, [
      { type: 'bridge.connected', t: T0 + 2 * MIN, bridge: 'b1', port: '/dev/ttyACM1' },
      { type: 'store.stock', t: T0 + 2 * MIN, batches: [{ batchId: 'B1', available: 0, total: 100 }] },
    ]);
    expect(activeWarnings(m, T0 + 2 * MIN).map((w) => w.text)).toEqual(['No BPPs left: import a batch to continue']);
  });

  it('tracks phase, prompt and stop', () => {
    let m = reduceAll(createViewModel(), [
      started(jig(1, 1)),
      { type: 'station.phase', t: T0 + 1, phase: 'waiting-for-panel' },
      { type: 'station.prompt', t: T0 + 1, message: 'Load panel' },
    ]);
    expect(m.phase).toBe('waiting-for-panel');
    expect(m.prompt).toBe('Load panel');
    m = reduce(m, { type: 'station.stopped', t: T0 + 2, reason: 'operator quit' });
    expect(m).toMatchObject({ phase: 'stopped', stoppedReason: 'operator quit', prompt: null });
  });

  it('shows a slot the station never announced on an extra row instead of dropping it', () => {
    const m = reduceAll(createViewModel(), [started(jig(2, 2)), { type: 'slot.state', t: T0, slot: 'X9', state: 'present' }, { type: 'slot.state', t: T0, slot: 'X10', state: 'present' }]);
    expect(m.slotOrder).toEqual(['A1', 'A2', 'B1', 'B2', 'X9', 'X10']);
    expect([m.slots['X9']!.row, m.slots['X9']!.col, m.slots['X10']!.row, m.slots['X10']!.col]).toEqual([3, 1, 3, 2]);
  });

  it('a new station.started resets everything', () => {
    const m1 = reduceAll(createViewModel(), [started(jig(1, 1)), unitDone('A1', T0 + 1, 'installed', true)]);
    const m2 = reduce(m1, started(jig(1, 2), T0 + 1000));
    expect(m2.counters.done).toBe(0);
    expect(m2.slotOrder).toEqual(['A1', 'A2']);
    expect(m2.startedAt).toBe(T0 + 1000);
  });
});

describe('stop and abort warnings', () => {
  it('says why the station stopped or that the run was aborted', () => {
    const base = reduce(createViewModel(), started(jig(1, 1)));
    const stopped = reduce(base, { type: 'station.stopped', t: T0 + 1, reason: 'emergency stop pressed' });
    expect(activeWarnings(stopped, T0 + 2)[0]).toEqual({ level: 'error', key: 'phase', text: 'Station stopped: emergency stop pressed' });
    const aborted = reduce(base, { type: 'station.phase', t: T0 + 1, phase: 'aborted', reason: 'operator' });
    expect(activeWarnings(aborted, T0 + 2)[0]?.text).toBe('Run aborted: operator');
    expect(activeWarnings(base, T0 + 2)).toEqual([]);
  });
});
