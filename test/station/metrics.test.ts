/**
 * Production metrics without hardware: the per-slot fold, the recent-yield rule, the persisted
 * cycle ledger (two instances stand for the station and the reset command), the wear limits,
 * and the periodic summary on fake clocks.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EventOf, type StationEvent } from '../../src/station/events.ts';
import { SlotStatsTable, unitsFromAccounts } from '../../src/station/metrics/slot-stats.ts';
import { RecentYield } from '../../src/station/metrics/recent-yield.ts';
import { WearLedger, wearPath } from '../../src/station/metrics/wear-ledger.ts';
import { slotWear } from '../../src/station/metrics/wear-policy.ts';
import { RESET_RECORD, SlotMetrics } from '../../src/station/metrics/slot-metrics.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';
import type { JournalRecord } from '../../src/station/journal/journal.ts';
import { DEFAULTS, type StationConfig } from '../../src/station/config/schema.ts';
import { validateStationConfig } from '../../src/station/config/validate.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ifpp-metrics-'));
}

function config(dir: string, over: Partial<StationConfig> = {}): StationConfig {
  return {
    format: 'ifpp-station/1',
    name: 'm',
    kind: 'socket-programmer',
    store: join(dir, 'store'),
    journal: join(dir, 'journal'),
    reports: join(dir, 'reports'),
    bridges: [{ id: 'b0', port: '/dev/null', baudRate: 921600, slots: 2 }],
    slots: ['S1', 'S2'].map((id, i) => ({ id, bridge: 'b0', channel: i, row: 1, col: i + 1, enabled: true })),
    loading: { ...DEFAULTS.loading, retry: { ...DEFAULTS.loading.retry } },
    eidPolicy: { verifyCheckDigits: true, unknownEid: 'fail', alreadyProvisioned: 'skip' },
    postChecks: { verifyProfileListed: true, deleteUnusedOneTimeKeys: false, closeFpaServices: false },
    maintenance: { sockets: { socket: { cycleLimit: 4, warnAtPercent: 50 } } },
    metrics: { summaryEverySeconds: 30, recentYield: { units: 10, minUnits: 5, dropPoints: 20 } },
    source: { file: join(dir, 'station.json'), dir },
    ...over,
  };
}

let seq = 0;
function rec(type: string, fields: Record<string, unknown>): JournalRecord {
  seq++;
  return { seq, at: new Date(1_700_000_000_000 + seq * 1000).toISOString(), type, ...fields };
}

describe('per-slot figures', () => {
  it('count a unit once over its attempts: first-pass yield, outcomes and final failure codes per slot and bridge', () => {
    const records = [
      rec('unit.start', { unit: 'u1', slot: 'S1', attempt: 1 }),
      rec('unit.end', { unit: 'u1', slot: 'S1', eid: 'E1', outcome: 'installed', millis: 4000 }),
      // retried after a burnt key: installed, not first pass
      rec('unit.start', { unit: 'u2', slot: 'S1', attempt: 1 }),
      rec('unit.end', { unit: 'u2', slot: 'S1', outcome: 'failed-key-burnt', code: 'PIR_ERROR', millis: 3000 }),
      rec('unit.start', { unit: 'u2#2', slot: 'S1', attempt: 2 }),
      rec('unit.end', { unit: 'u2#2', slot: 'S1', outcome: 'installed', millis: 8000 }),
      rec('unit.start', { unit: 'u3', slot: 'S2', attempt: 1 }),
      rec('unit.end', { unit: 'u3', slot: 'S2', outcome: 'unreachable', code: 'CARD_NO_ATR', millis: 100 }),
      rec('unit.start', { unit: 'u4', slot: 'S2', attempt: 1 }),
      rec('unit.end', { unit: 'u4', slot: 'S2', outcome: 'interrupted', code: 'ABORTED', millis: 100 }),
      rec('unit.start', { unit: 'u5', slot: 'S2', attempt: 1 }), // open: not a unit yet
    ];
    const units = unitsFromAccounts(accountUnits(records).units);
    expect(units).toHaveLength(4);
    const t = new SlotStatsTable(units);
    const s1 = t.get('S1');
    expect(s1).toMatchObject({ units: 2, judged: 2, installed: 2, passFirstTime: 1, fpy: 0.5, byOutcome: { installed: 2 }, codes: {} });
    expect(s1.meanInstallMillis).toBe(6000);
    const s2 = t.get('S2');
    // the interrupted unit is no verdict: out of the yield, its code still counted
    expect(s2).toMatchObject({ units: 2, judged: 1, installed: 0, fpy: 0, codes: { CARD_NO_ATR: 1, ABORTED: 1 } });
    expect(t.total()).toMatchObject({ units: 4, judged: 3, passFirstTime: 1 });
    expect(t.byBridge((s) => (s === 'S1' ? 'b0' : 'b1')).get('b1')!.units).toBe(2);
  });

  it('recent-yield rule flags a slot only with enough units and a drop of dropPoints below the others', () => {
    const r = new RecentYield({ units: 10, minUnits: 5, dropPoints: 20 });
    for (let i = 0; i < 10; i++) r.add('S2', true);
    for (let i = 0; i < 4; i++) r.add('S1', false);
    expect(r.flags()).toEqual([]); // S1 has 4 < minUnits
    r.add('S1', true); // S1: 1/5 = 20% vs 100%
    const f = r.flags();
    expect(f.map((x) => x.slot)).toEqual(['S1']);
    expect(f[0]!.message).toMatch(/20% over its last 5 units, other slots 100%/);
    // the window slides: ten good units bring S1 back
    for (let i = 0; i < 10; i++) r.add('S1', true);
    expect(r.flags()).toEqual([]);
    // exactly dropPoints below is flagged; one point less is not
    const edge = new RecentYield({ units: 10, minUnits: 10, dropPoints: 20 });
    for (let i = 0; i < 10; i++) edge.add('A', i < 8);
    for (let i = 0; i < 10; i++) edge.add('B', true);
    expect(edge.flags().map((x) => x.slot)).toEqual(['A']);
    const under = new RecentYield({ units: 10, minUnits: 10, dropPoints: 21 });
    for (let i = 0; i < 10; i++) under.add('A', i < 8);
    for (let i = 0; i < 10; i++) under.add('B', true);
    expect(under.flags()).toEqual([]);
  });
});

describe('contact-cycle ledger', () => {
  it('persists counts across instances, takes resets appended by another writer, and ignores a torn line', () => {
    const path = join(tmp(), 'journal', 'slot-cycles.ndjson');
    const station = WearLedger.open(path);
    for (let i = 0; i < 3; i++) station.addCycle('S1', 1);
    station.addCycle('S2', 1);
    expect(WearLedger.open(path).cycles('S1')).toBe(3); // a restart reads the same counts
    const cli = WearLedger.open(path);
    const r = cli.reset('S1', 'alice', 'pogo block replaced', new Date('2026-01-02T03:04:05Z'));
    expect(r).toMatchObject({ slot: 'S1', by: 'alice', cycles: 3, at: '2026-01-02T03:04:05.000Z', note: 'pogo block replaced' });
    expect(station.refresh().map((x) => x.id)).toEqual([r.id]);
    expect(station.cycles('S1')).toBe(0);
    expect(station.addCycle('S1')).toBe(1);
    writeFileSync(path, readFileSync(path, 'utf8') + '{"type":"cycle","slot":"S2"'); // torn tail
    const again = WearLedger.open(path);
    expect([again.cycles('S1'), again.cycles('S2')]).toEqual([1, 1]);
    again.compact();
    const compacted = WearLedger.open(path);
    expect([compacted.cycles('S1'), compacted.cycles('S2'), compacted.allResets().length]).toEqual([1, 1, 1]);
  });

  it('wear status: warning from warnAtPercent of the limit, out of service at the limit', () => {
    const cfg = { kind: 'panel-jig' as const, maintenance: { sockets: { pogo: { cycleLimit: 10, warnAtPercent: 80 }, clam: { cycleLimit: 3, warnAtPercent: 90 } } } };
    expect(slotWear(cfg, { id: 'A' }, 7)).toMatchObject({ socket: 'pogo', status: 'ok', warnAt: 8 });
    expect(slotWear(cfg, { id: 'A' }, 8).status).toBe('warning');
    expect(slotWear(cfg, { id: 'A' }, 10).status).toBe('out-of-service');
    expect(slotWear(cfg, { id: 'A', socket: 'clam' }, 3)).toMatchObject({ socket: 'clam', limit: 3, status: 'out-of-service' });
  });

  it('config: socket kinds and metrics are checked, with defaults and clear problems', () => {
    const base = { name: 'x', kind: 'socket-programmer', store: 's', journal: 'j', reports: 'r', bridges: [{ id: 'b0', port: 'p', slots: 2 }] };
    const ok = validateStationConfig(
      { ...base, slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1, socket: 'clam' }], maintenance: { sockets: { clam: { cycleLimit: 5000 } } }, metrics: { summaryEverySeconds: 10 } },
      { file: 'x.json', dir: '/tmp' },
    );
    expect(ok.problems).toEqual([]);
    expect(ok.config!.maintenance!.sockets.clam).toEqual({ cycleLimit: 5000, warnAtPercent: 90 });
    expect(ok.config!.maintenance!.sockets.pogo!.cycleLimit).toBe(100_000);
    expect(ok.config!.metrics).toEqual({ summaryEverySeconds: 10, recentYield: { units: 50, minUnits: 20, dropPoints: 15 } });
    const bad = validateStationConfig(
      { ...base, slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1, socket: 'clamp' }], maintenance: { sockets: { clam: { cycleLimit: 0 } } }, metrics: { recentYield: { units: 10, minUnits: 20 } } },
      { file: 'x.json', dir: '/tmp' },
    );
    const msgs = bad.problems.map((p) => `${p.path}: ${p.message} (${p.hint})`);
    expect(msgs.some((m) => /maintenance\.sockets\.clam\.cycleLimit/.test(m))).toBe(true);
    expect(msgs.some((m) => /slots\[0\]\.socket: no socket kind "clamp"/.test(m))).toBe(true);
    expect(msgs.some((m) => /minUnits \(20\) is more than units \(10\)/.test(m))).toBe(true);
  });
});

describe('SlotMetrics: service states, stats events and summaries', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits station.summary every summaryEverySeconds on the clock, and a final one at stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'], now: 1_000_000 });
    const dir = tmp();
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => events.push(e));
    const journaled: Array<[string, Record<string, unknown>]> = [];
    const m = SlotMetrics.open(config(dir), [], bus, { journal: async (t, f) => journaled.push([t, f]) });
    await m.start();
    bus.emit({ type: 'store.stock', t: Date.now(), batches: [{ batchId: 'B1', available: 9, total: 10 }] });
    vi.advanceTimersByTime(10_000);
    bus.emit({ type: 'slot.result', t: Date.now(), slot: 'S1', outcome: 'installed', millis: 4000, attempt: 1 });
    bus.emit({ type: 'unit.done', t: Date.now(), slot: 'S1', outcome: 'installed', passFirstTime: true });
    vi.advanceTimersByTime(20_000 + 30_000 + 29_999);
    const summaries = () => events.filter((e): e is EventOf<'station.summary'> => e.type === 'station.summary');
    expect(summaries().map((s) => s.t - 1_000_000)).toEqual([30_000, 60_000]);
    const first = summaries()[0]!;
    expect(first).toMatchObject({ final: false, periodSeconds: 30, units: 1, fpy: 1, byOutcome: { installed: 1 }, stock: [{ batchId: 'B1', available: 9 }], outOfService: [] });
    expect(first.ratePerHour).toBe(120);
    expect(first.slots.map((s) => [s.slot, s.units, s.fpy])).toEqual([
      ['S1', 1, 1],
      ['S2', 0, null],
    ]);
    expect(summaries()[1]!.lastPeriod).toEqual({ units: 0, ratePerHour: 0 });
    vi.advanceTimersByTime(1);
    expect(summaries()).toHaveLength(3);
    m.stop();
    m.stop();
    expect(summaries().map((s) => s.final)).toEqual([false, false, false, true]);
    const stats = events.find((e): e is EventOf<'slot.stats'> => e.type === 'slot.stats')!;
    expect(stats).toMatchObject({ slot: 'S1', bridge: 'b0', run: { units: 1, fpy: 1 }, history: { units: 1 }, cycles: 0, cycleLimit: 4, service: 'ok' });
    expect(journaled).toEqual([]);
  });

  it('takes a slot out of service at its limit, refuses it, and brings it back on a reset journaled once', async () => {
    const dir = tmp();
    const cfg = config(dir);
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => events.push(e));
    const journaled: Array<[string, Record<string, unknown>]> = [];
    const opts = { journal: async (t: string, f: Record<string, unknown>) => journaled.push([t, f]), resetPollMs: 60_000 };
    const m = SlotMetrics.open(cfg, [], bus, opts);
    await m.start();
    expect([m.contact('S1'), m.contact('S1')]).toEqual([true, true]);
    const service = () => events.filter((e): e is EventOf<'slot.service'> => e.type === 'slot.service').map((e) => [e.slot, e.status, e.cycles]);
    expect(service()).toEqual([['S1', 'warning', 2]]);
    expect([m.contact('S1'), m.contact('S1')]).toEqual([true, true]);
    expect(m.contact('S1')).toBe(false); // the fifth unit is refused, not counted
    expect(m.wear('S1').cycles).toBe(4);
    expect(m.outOfService()).toEqual(['S1']);
    expect(service().at(-1)).toEqual(['S1', 'out-of-service', 4]);
    WearLedger.open(wearPath(cfg)).reset('S1', 'bob');
    expect(m.contact('S1')).toBe(true);
    const back = events.filter((e): e is EventOf<'slot.service'> => e.type === 'slot.service').at(-1)!;
    expect(back).toMatchObject({ slot: 'S1', status: 'ok', cycles: 0, resetBy: 'bob' });
    expect(journaled.map(([t, f]) => [t, f.slot, f.by, f.cycles])).toEqual([[RESET_RECORD, 'S1', 'bob', 4]]);
    m.stop();
    // A restart: the reset is already journaled, the count (1) persisted.
    const records = journaled.map(([type, f], i): JournalRecord => ({ seq: i + 1, at: new Date().toISOString(), type, ...f }));
    const again = SlotMetrics.open(cfg, records, new EventBus(), opts);
    await again.start();
    again.stop();
    expect(again.wear('S1').cycles).toBe(1);
    expect(journaled).toHaveLength(1);
  });
});
