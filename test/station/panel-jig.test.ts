/**
 * Panel cycles against the in-process jig and slots (no pins, no ptys): two-hand start, clamp,
 * every occupied slot in parallel, release; an e-stop mid-load interrupts every unit in flight,
 * latches until released and reset, and the next cycle loads the chips again. The Firmata path
 * (pins, debouncing, two-hand timing) runs in station-world.test.ts and jig-controller.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Journal } from '../../src/station/journal/journal.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';
import { CSV_COLUMNS, unitCsvValues } from '../../src/station/report/csv.ts';
import { openPanel } from '../helpers/panel.ts';

describe('panel jig (in-process jig and slots)', () => {
  it('an e-stop mid-load interrupts the panel, latches until released, and the next cycle loads it', async () => {
    const { config, jig, bus, events, station, sim, card } = await openPanel(2);
    const load = async () => {
      for (const [i, id] of ['S1', 'S2'].entries()) {
        sim.slots.get(id)!.removeCard();
        sim.slots.get(id)!.insertCard(await card(i));
      }
    };

    // The operator: start each panel; e-stop at the first load progress; release it once the
    // station waits for the safety to clear; then reload the panel and start again.
    let starts = 0;
    let tripped = false;
    let phase = '';
    jig.on('prompt', () => {
      starts++;
      setImmediate(async () => {
        if (starts > 1) await load();
        jig.pressStart();
      });
    });
    bus.on((e) => {
      if (e.type === 'slot.progress' && !tripped) {
        tripped = true;
        jig.pressEstop();
      }
      if (e.type === 'station.phase') {
        // After the release, 'aborted' means: waiting for the e-stop to be released.
        if (e.phase === 'aborted' && phase === 'releasing') setImmediate(() => jig.releaseEstop());
        phase = e.phase;
      }
    });
    const summary = await station.run({ units: 4 });
    await station.close();

    expect(summary.byOutcome).toEqual({ interrupted: 2, installed: 2 });
    expect(starts).toBe(2);
    const results = events.filter((e) => e.type === 'slot.result');
    expect(results.slice(0, 2).map((r) => r.outcome)).toEqual(['interrupted', 'interrupted']);
    // Each interrupted unit names the e-stop, whatever its slot was doing when the power went.
    expect(results.slice(0, 2).map((r) => r.code)).toEqual(['JIG_ESTOP', 'JIG_ESTOP']);
    expect(results.slice(2).map((r) => r.outcome)).toEqual(['installed', 'installed']);
    expect(jig.powered.size).toBe(0);
    expect([...jig.leds.values()]).toEqual(['pass', 'pass']);
    const { records } = await Journal.read(join(config.journal, 'journal.ndjson'));
    const acc = accountUnits(records);
    expect(acc.open).toEqual([]);
    expect(acc.duplicatesPushed).toEqual([]);
    const cut = acc.units.filter((u) => u.status === 'interrupted');
    expect(cut.length).toBeGreaterThanOrEqual(2);
    for (const u of cut) {
      expect(u.code).toBe('JIG_ESTOP');
      const row = unitCsvValues(u);
      expect(row[CSV_COLUMNS.indexOf('code')]).toBe('JIG_ESTOP');
      expect(String(row[CSV_COLUMNS.indexOf('reason')])).toMatch(/^E-stop pressed/);
    }
  }, 120_000);

  it('a jig board lost mid-cycle interrupts every unit in flight, each naming the lost board', async () => {
    const n = 4;
    const { config, jig, ids, bus, events, station } = await openPanel(n);
    jig.once('prompt', () => setImmediate(() => jig.pressStart()));
    let lost = false;
    bus.on((e) => {
      // Units at different stages: the board goes when the first one sends its BPP.
      if (e.type === 'slot.progress' && !lost) {
        lost = true;
        jig.loseBoard();
      }
    });
    const summary = await station.run({ units: n });
    await station.close();

    expect(summary.byOutcome).toEqual({ interrupted: n });
    const results = events.filter((e) => e.type === 'slot.result');
    expect(results.map((r) => r.code)).toEqual(ids.map(() => 'JIG_BOARD_LOST'));
    const acc = accountUnits((await Journal.read(join(config.journal, 'journal.ndjson'))).records);
    expect(acc.units.map((u) => [u.status, u.code])).toEqual(ids.map(() => ['interrupted', 'JIG_BOARD_LOST']));
  }, 120_000);

  it('q while the jig clamps (no slot busy yet) stops the station: the panel is released unloaded, no unit starts', async () => {
    const { config, jig, bus, events, station } = await openPanel(2);
    jig.once('prompt', () => setImmediate(() => jig.pressStart()));
    // The UI's q: it saw no slot busy, so it asks for a plain quit, exactly as the clamp closes.
    let accepted: boolean | undefined;
    bus.on((e) => {
      if (e.type === 'station.phase' && e.phase === 'clamping' && accepted === undefined) accepted = station.quit(false);
    });
    const summary = await station.run();
    await station.close();

    expect(accepted).toBe(true);
    expect(summary).toMatchObject({ units: 0, reason: 'operator quit' });
    expect(events.filter((e) => e.type === 'slot.state' && e.state !== 'idle')).toEqual([]);
    const phases = events.filter((e) => e.type === 'station.phase').map((e) => e.phase);
    expect(phases.slice(phases.indexOf('clamping'))).toEqual(['clamping', 'releasing', 'stopped']);
    expect(jig.powered.size).toBe(0);
    const acc = accountUnits((await Journal.read(join(config.journal, 'journal.ndjson'))).records);
    expect(acc.units).toEqual([]);
  }, 120_000);

  it('a plain quit while a load is in flight is refused and says why (QUIT_REFUSED)', async () => {
    const { sim, jig, bus, events, station } = await openPanel(1);
    sim.jig!.once('prompt', () => setImmediate(() => sim.jig!.pressStart()));
    let refused: boolean | undefined;
    bus.on((e) => {
      if (e.type === 'slot.progress' && refused === undefined) refused = !station.quit(false);
    });
    const summary = await station.run({ units: 1 });
    await station.close();
    expect(refused).toBe(true);
    expect(summary.byOutcome).toEqual({ installed: 1 });
    expect(events.find((e) => e.type === 'station.warning' && e.code === 'QUIT_REFUSED')).toMatchObject({ message: expect.stringMatching(/quit refused: 1 load\(s\) in flight \(S1\)/) });
  }, 120_000);

  it('a jig board lost while waiting for a start, then plugged back in, is picked up: the next start loads the panel without a restart', async () => {
    const { jig, events, station } = await openPanel(2);
    // The operator: the first time the station waits for a start, the board is unplugged and
    // plugged back in; then a start is pressed whenever the station asks for one.
    let prompts = 0;
    jig.on('prompt', () => {
      prompts++;
      setImmediate(() => {
        if (prompts === 1) {
          jig.loseBoard();
          setImmediate(() => jig.boardBack());
        } else jig.pressStart();
      });
    });
    const summary = await station.run({ units: 2 });
    await station.close();

    expect(summary.byOutcome).toEqual({ installed: 2 });
    const warnings = events.filter((e) => e.type === 'station.warning').map((e) => e.code);
    expect(warnings).toContain('JIG_BOARD_LOST');
    expect(warnings).toContain('JIG_BOARD_BACK');
    expect(jig.status().aborted).toBeUndefined();
  }, 120_000);
});
