/**
 * A card pulled out of its socket in the middle of a load, through the real station, bridge
 * driver and bridge simulator on a pty: the unit ends "interrupted" with a reason that says what
 * it cost and what to do, nothing is lost in the journal, and the chip put back in gets its next
 * BPP (the spent one is never pushed again).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';
import { BppStore, BppState } from '../../src/station/store/bpp-store.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';

type SlotResult = Extract<StationEvent, { type: 'slot.result' }>;

describe('card pulled mid-load', () => {
  it('interrupts only that unit, says what was spent and what to do, and the chip put back gets its next BPP', async () => {
    const f = await miniFactory({ chips: 2, keys: 2, perEuicc: 2 });
    f.close(); // the station opens the stores itself
    const stateDir = join(f.dir, 'chips');
    const card = (i: number) => euiccCardFromReel({ reel: f.reel, eid: f.eids[i]!, stateDir }, 0);
    const pulled = await card(0);
    const steady = await card(1);
    const sim = await BridgeSim.start({ slots: 2, link: join(f.dir, 'bridge0'), timeScale: 0, cards: [pulled, steady] });
    // The operator pulls chip 0 when the 8th call of its BPP load arrives (well after BF23).
    pulled.faults.removeAtLoadCall = 8;
    pulled.onRemoval = () => sim.removeCard(0);

    const cfgPath = join(f.dir, 'station.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        format: 'ifpp-station/1',
        name: 'removal',
        kind: 'socket-programmer',
        store: 'store',
        journal: 'journal',
        reports: 'reports',
        bridges: [{ id: 'b0', port: 'bridge0', slots: 2 }],
        slots: [
          { id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 },
          { id: 'S2', bridge: 'b0', channel: 1, row: 1, col: 2 },
        ],
      }),
    );
    const config = await requireConfig(cfgPath);
    const bus = new EventBus();
    const results: SlotResult[] = [];
    bus.on((e) => {
      if (e.type === 'slot.result') results.push(e);
    });
    const station = await Station.open(config, { bus, bridgeOptions: { heartbeatMs: 0 } });
    // The operator: a finished unit comes out; the pulled chip goes back into its socket.
    bus.on((e) => {
      if (e.type !== 'unit.done') return;
      setTimeout(async () => {
        if (e.slot === 'S1' && e.outcome === 'interrupted') sim.insertCard(0, await card(0));
        else sim.removeCard(e.slot === 'S1' ? 0 : 1);
      }, 5);
    });
    const summary = await station.run({ units: 3 });
    await station.close();
    await sim.close();

    expect(summary.byOutcome).toEqual({ interrupted: 1, installed: 2 });
    const s1 = results.filter((r) => r.slot === 'S1');
    expect(s1.map((r) => r.outcome)).toEqual(['interrupted', 'installed']);
    expect(s1[0]).toMatchObject({ code: 'CARD_REMOVED', eid: f.eids[0] });
    expect(s1[0]!.reason).toMatch(/card removed during the load: its BPP is spent/);
    expect(results.find((r) => r.slot === 'S2')).toMatchObject({ outcome: 'installed', attempt: 1 });

    // Nothing lost: every unit closed in the journal, no BPP pushed twice; the spent BPP is
    // marked so, the next one installed.
    const { records } = await Journal.read(join(config.journal, 'journal.ndjson'));
    const acc = accountUnits(records);
    expect(acc.open).toEqual([]);
    expect(acc.duplicatesPushed).toEqual([]);
    const interrupted = records.find((r) => r.type === 'unit.end' && r.outcome === 'interrupted');
    expect(interrupted).toMatchObject({ code: 'CARD_REMOVED', stage: 'load', eid: f.eids[0] });
    const store = BppStore.open(config.store);
    const states = store.findByEid(eidToBytes(f.eids[0]!)).map((b) => b.state).sort();
    store.close();
    expect(states).toEqual([BppState.installed, BppState.failedKeyBurnt].sort());
  });
});
