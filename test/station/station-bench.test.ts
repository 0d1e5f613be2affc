/**
 * The real station (bridge driver, FPA client, store, journal, orchestration) against the
 * simulated factory over ptys: a bridge simulator holding simulated eUICCs, no jig board
 * (slots start on the bridge's card-detect), a test "handler" that swaps chips when a slot
 * finishes, as a pick-and-place would.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { Station, resultLeds } from '../../src/station/orchestrator/station.ts';
import { createEumWorld } from '../../src/sim/eum/eum-tool.ts';
import { writeEumWorld } from '../../src/sim/eum/write-eum.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';

describe('station against the simulated factory (bridge simulator on a pty)', () => {
  it('a bridge disconnect mid-load fails only its slots, with a clear reason; the other bridge carries on', async () => {
    const f = await miniFactory({ chips: 4, keys: 2, perEuicc: 2 });
    f.close();
    const stateDir = join(f.dir, 'chips');
    const card = (i: number) => euiccCardFromReel({ reel: f.reel, eid: f.eids[i]!, stateDir }, 0);
    const simA = await BridgeSim.start({ slots: 2, link: join(f.dir, 'bridgeA'), timeScale: 0.3, cards: [await card(0), await card(1)] });
    const simB = await BridgeSim.start({ slots: 2, link: join(f.dir, 'bridgeB'), timeScale: 0.3, cards: [await card(2), await card(3)] });
    const cfgPath = join(f.dir, 'station2.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        format: 'ifpp-station/1', name: 'two bridges', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
        bridges: [{ id: 'A', port: 'bridgeA', slots: 2 }, { id: 'B', port: 'bridgeB', slots: 2 }],
        slots: [
          { id: 'A1', bridge: 'A', channel: 0, row: 1, col: 1 }, { id: 'A2', bridge: 'A', channel: 1, row: 1, col: 2 },
          { id: 'B1', bridge: 'B', channel: 0, row: 2, col: 1 }, { id: 'B2', bridge: 'B', channel: 1, row: 2, col: 2 },
        ],
      }),
    );
    const config = await requireConfig(cfgPath);
    const bus = new EventBus();
    const results = new Map<string, Extract<StationEvent, { type: 'slot.result' }>>();
    bus.on((e) => {
      if (e.type === 'slot.result') results.set(e.slot, e);
    });
    const station = await Station.open(config, { bus, bridgeOptions: { heartbeatMs: 200, reconnectMs: 100 } });
    let cut = false;
    bus.on((e) => {
      if (!cut && e.type === 'slot.progress' && e.slot.startsWith('A') && e.segmentsSent >= 4) {
        cut = true;
        void simA.disconnect();
      }
    });
    await station.run({ units: 4 });
    await station.close();
    await simA.close();
    await simB.close();
    expect(cut).toBe(true);
    for (const id of ['B1', 'B2']) expect(results.get(id)?.outcome).toBe('installed');
    for (const id of ['A1', 'A2']) {
      const r = results.get(id)!;
      expect(r.outcome).not.toBe('installed');
      expect(r.reason).toMatch(/bridge .*bridgeA/);
    }
    const { records } = await Journal.read(join(config.journal, 'journal.ndjson'));
    expect(accountUnits(records).duplicatesPushed).toEqual([]);
  });

  it('eidPolicy.unknownEid "skip": a chip of another lot is left untouched and done as skipped, not failed', async () => {
    const f = await miniFactory({ chips: 1, keys: 2, perEuicc: 1 });
    f.close();
    const stateDir = join(f.dir, 'chips');
    // Another lot: its EIDs are in none of this station's eUICC data and no BPP is bound to them.
    const other = createEumWorld({ euiccs: 1, otks: 2, curve: 'nist', firstSerial: 700_000n });
    const otherReel = writeEumWorld(other, join(f.dir, 'other-lot')).reel;
    const foreignEid = other.eidAt(0);
    const foreign = await euiccCardFromReel({ reel: otherReel, eid: foreignEid, stateDir }, 1);
    const ours = await euiccCardFromReel({ reel: f.reel, eid: f.eids[0]!, stateDir }, 0);
    const sim = await BridgeSim.start({ slots: 2, link: join(f.dir, 'bridge0'), timeScale: 0, cards: [ours, foreign] });
    const cfgPath = join(f.dir, 'station-skip.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        format: 'ifpp-station/1', name: 'mixed panel', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
        bridges: [{ id: 'b0', port: 'bridge0', slots: 2 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }, { id: 'S2', bridge: 'b0', channel: 1, row: 1, col: 2 }],
        eidPolicy: { unknownEid: 'skip' },
      }),
    );
    const config = await requireConfig(cfgPath);
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => events.push(e));
    const station = await Station.open(config, { bus, bridgeOptions: { heartbeatMs: 0 } });
    // The unit target counts the skipped chip as done: the run ends after both.
    const summary = await station.run({ units: 2 });
    await station.close();
    await sim.close();
    expect(summary).toMatchObject({ units: 2, byOutcome: { installed: 1, skipped: 1 } });
    const s2 = events.filter((e) => e.type === 'slot.state' && e.slot === 'S2').map((e) => (e as { state: string }).state);
    expect(s2).not.toContain('fail');
    expect(s2.at(-1)).toBe('skipped');
    expect(foreign.chip.state.keys.map((k) => k.state)).toEqual(['unused', 'unused']);
    expect(foreign.chip.state.profiles).toEqual([]);
    const { records } = await Journal.read(join(config.journal, 'journal.ndjson'));
    const acc = accountUnits(records);
    expect(acc.units.map((u) => [u.slot, u.status]).sort()).toEqual([['S1', 'installed'], ['S2', 'skipped']]);
    expect(acc.units.find((u) => u.slot === 'S2')).toMatchObject({ eid: foreignEid, code: 'EID_NOT_FOR_THIS_STATION', reason: expect.stringContaining(foreignEid) });
  });

  it('result lamps: pass or fail for a verdict, neither for a skipped chip', () => {
    expect(resultLeds('installed')).toBe('pass');
    expect(resultLeds('no-bpp')).toBe('fail');
    expect(resultLeds('failed-key-burnt')).toBe('fail');
    expect(resultLeds('skipped')).toBe('both');
  });
});
