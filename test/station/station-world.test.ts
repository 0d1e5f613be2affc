/**
 * The real station against the whole simulated factory, as `npm start` runs it: bridge
 * simulator processes on ptys holding simulated eUICCs, a virtual Firmata jig board on a pty
 * driven through johnny-five, and the automatic operator loading panels and pressing the
 * two-hand start.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorld } from '../../src/sim/world/build-world.ts';
import { startWorld } from '../../src/sim/world/run-world.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { journalPath } from '../../src/station/journal/paths.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';
import { generateReports } from '../../src/station/report/generate.ts';

async function world(slots: number, units: number, kind: 'panel-jig' | 'socket-programmer' = 'panel-jig', o: { profile?: string; timeScale?: number } = {}) {
  const out = join(mkdtempSync(join(tmpdir(), 'ifpp-world-')), 'w');
  const timeScale = o.timeScale ?? 0;
  const w = await buildWorld({ out, slots, units, kind, profile: o.profile ?? 'synthetic:2500', timeScale });
  const config = await requireConfig(w.stationFile);
  const store = BppStore.open(config.store);
  await importBatch(store, join(w.dir, w.world.files.batch), { checks: bppChecks });
  store.close();
  await importEuiccData(config.store, join(w.dir, w.world.files.euiccData), 'sim');
  // The operator's first press comes before the station is up; pressing again after 1 s instead
  // of a person's 3 s is not what is under test and saves that wait at every start.
  const handle = await startWorld(w.dir, { timeScale, operator: { repressMs: 1000 } });
  return { config, handle };
}

describe('station with the simulated factory and the virtual jig board', () => {
  // 12 panels: enough cycles of clamp, load and release on every slot for the journal, store and
  // report to have to agree unit by unit; the count itself is not what is under test.
  it('8 slots × 12 panels: every unit installed, every PIR verified, the report complete', async () => {
    const { config, handle } = await world(8, 96);
    const bus = new EventBus();
    const station = await Station.open(config, { bus, jigOptions: { connect: { queryDelayMs: 20 } } });
    handle.operator!.once('done', () => station.requestStop('all units fed'));
    try {
      const summary = await station.run();
      expect(summary.byOutcome).toEqual({ installed: 96 });
    } finally {
      await station.close();
      await handle.close();
    }
    const { records } = await Journal.read(journalPath(config));
    const acc = accountUnits(records);
    expect(acc.units.length).toBe(96);
    expect(acc.open).toEqual([]);
    expect(acc.duplicatesPushed).toEqual([]);
    expect(records.filter((r) => r.type === 'pir.received' && r.verified === true).length).toBe(96);
    const rep = await generateReports({ config });
    expect(JSON.stringify(rep)).toContain('"installed":96');
  }, 240_000);

  it('socket programmer: each socket runs on its own presence input, the operator swaps on the result lamp', async () => {
    const { config, handle } = await world(4, 16, 'socket-programmer');
    const station = await Station.open(config, { jigOptions: { connect: { queryDelayMs: 20 } } });
    handle.operator!.once('done', () => station.requestStop('all units fed'));
    try {
      const summary = await station.run();
      expect(summary.byOutcome).toEqual({ installed: 16 });
    } finally {
      await station.close();
      await handle.close();
    }
    const acc = accountUnits((await Journal.read(journalPath(config))).records);
    expect(acc.units.length).toBe(16);
    expect(acc.duplicatesPushed).toEqual([]);
  }, 120_000);

  it('e-stop mid-load interrupts every slot at once and nothing is lost', async () => {
    // Card time modeled (time scale 1) and a 24 kB profile: a load takes about two seconds, so the
    // e-stop pressed at its third segment reaches the station (Firmata report, filter) while every
    // load is still running. With no card time a 2.5 kB load could end before it arrived.
    const { config, handle } = await world(8, 16, 'panel-jig', { profile: 'synthetic:24000', timeScale: 1 });
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => events.push(e));
    const station = await Station.open(config, { bus, jigOptions: { connect: { queryDelayMs: 20 } } });
    const estop = config.board!.estop!;
    let pressed = false;
    bus.on((e) => {
      if (!pressed && e.type === 'slot.progress' && e.segmentsSent >= 3) {
        pressed = true;
        handle.board.setInput(estop.pin, estop.activeLow ? 0 : 1);
      }
      if (e.type === 'station.phase' && e.phase === 'aborted') setTimeout(() => station.requestStop('test done'), 50);
    });
    try {
      await station.run();
    } finally {
      await station.close();
      await handle.close();
    }
    expect(pressed).toBe(true);
    const results = events.filter((e): e is Extract<StationEvent, { type: 'slot.result' }> => e.type === 'slot.result');
    expect(results.length).toBe(8);
    // The cycle was cut: no unit of it passed after the e-stop, all are accounted for.
    expect(results.filter((r) => r.outcome === 'interrupted' || r.outcome === 'failed-key-burnt').length).toBeGreaterThan(0);
    const { records } = await Journal.read(journalPath(config));
    const acc = accountUnits(records);
    expect(acc.units.length).toBe(8);
    expect(acc.open).toEqual([]);
    expect(acc.duplicatesPushed).toEqual([]);
    // Every slot's power went off and the clamp opened (the virtual board saw it).
    const clamp = config.board!.clamp!.output;
    expect(handle.board.outputs.get(clamp.pin) ?? 0).toBe(clamp.activeLow ? 1 : 0);
  }, 120_000);
});
