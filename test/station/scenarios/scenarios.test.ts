/**
 * One scenario list, two slot providers: every scenario runs against the in-process simulated
 * slots and against the bridge simulator on a pty (real bridge driver, real serial line). The
 * station, stores, journal and simulated eUICCs are the real ones in both.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory, type MiniFactory } from '../../helpers/mini-factory.ts';
import { euiccCardFromReel } from '../../../src/sim/euicc/card-factory.ts';
import type { SimulatedEuicc } from '../../../src/sim/euicc/euicc-card.ts';
import { requireConfig } from '../../../src/station/config/load.ts';
import type { StationConfig } from '../../../src/station/config/schema.ts';
import { EventBus, type StationEvent } from '../../../src/station/events.ts';
import { Journal } from '../../../src/station/journal/journal.ts';
import { accountUnits } from '../../../src/station/report/accounting.ts';
import { BppStore, BppState } from '../../../src/station/store/bpp-store.ts';
import { EuiccStore } from '../../../src/station/euicc-data/euicc-store.ts';
import { eidToBytes } from '../../../src/core/rsp/eid.ts';
import { decodePir } from '../../../src/core/rsp/pir.ts';
import { ecdsaVerify } from '../../../src/core/crypto/ecdsa.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import { fromHex } from '../../../src/core/bytes.ts';
import { inProcess, ptyBridge, ptyBridgeWithoutApdus, type Rack, type RackKind } from './racks.ts';

type SlotResult = Extract<StationEvent, { type: 'slot.result' }>;

interface Bench {
  f: MiniFactory;
  rack: Rack;
  config: StationConfig;
  bus: EventBus;
  events: StationEvent[];
  card(i: number): Promise<SimulatedEuicc>;
  journal(): Promise<Awaited<ReturnType<typeof Journal.read>>['records']>;
}

/** A socket programmer without a board (units start on card-detect), `slots` sockets on bridge b0. */
async function bench(kind: RackKind, o: { slots: number; chips: number; loaded: number }): Promise<Bench> {
  const f = await miniFactory({ chips: o.chips, keys: 2, perEuicc: 2 });
  f.close(); // the station opens the stores itself
  const stateDir = join(f.dir, 'chips');
  const card = (i: number) => euiccCardFromReel({ reel: f.reel, eid: f.eids[i]!, stateDir }, 0);
  const cards = [];
  for (let i = 0; i < o.loaded; i++) cards.push(await card(i));
  const rack = await kind.create(f.dir, o.slots, cards);
  const cfgPath = join(f.dir, 'station.json');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      format: 'ifpp-station/1',
      name: 'scenario',
      kind: 'socket-programmer',
      store: 'store',
      journal: 'journal',
      reports: 'reports',
      bridges: [{ id: 'b0', port: 'bridge0', slots: o.slots }],
      slots: Array.from({ length: o.slots }, (_, i) => ({ id: `S${i + 1}`, bridge: 'b0', channel: i, row: 1, col: i + 1 })),
      loading: { vcc: 'C', clockHz: 5_000_000 },
    }),
  );
  const config = await requireConfig(cfgPath);
  const bus = new EventBus();
  const events: StationEvent[] = [];
  bus.on((e) => events.push(e));
  return { f, rack, config, bus, events, card, journal: async () => (await Journal.read(join(config.journal, 'journal.ndjson'))).records };
}

const scenarios: { name: string; run(kind: RackKind): Promise<void> }[] = [
  {
    name: 'loads every unit on 4 slots, each PIR verifies with CERT.EUICC, and the journal accounts for each unit once',
    async run(kind) {
      const b = await bench(kind, { slots: 4, chips: 16, loaded: 4 });
      const station = await b.rack.open(b.config, b.bus);
      let fed = 4;
      // The handler: when a slot finishes, take the unit out and put the next one in.
      b.bus.on((e) => {
        if (e.type !== 'unit.done') return;
        const ch = Number(e.slot.slice(1)) - 1;
        setTimeout(async () => {
          b.rack.removeCard(ch);
          if (fed < 12) b.rack.insertCard(ch, await b.card(fed++));
        }, 5);
      });
      const summary = await station.run({ units: 12 });
      await station.close();
      await b.rack.close();
      expect(summary).toMatchObject({ units: 12, byOutcome: { installed: 12 } });
      const records = await b.journal();
      const acc = accountUnits(records);
      expect(acc.units.length).toBe(12);
      expect(acc.open).toEqual([]);
      expect(acc.duplicatesPushed).toEqual([]);
      // Every PIR verifies with the chip's CERT.EUICC from the eUICC data (independently of the station).
      const pirs = records.filter((r) => r.type === 'pir.received');
      expect(pirs.length).toBe(12);
      const es = EuiccStore.open(b.config.store);
      for (const r of pirs) {
        const pir = decodePir(fromHex(String(r.pir)));
        const cert = parseCertificate(es.lookup(String(r.eid))!.certEuicc);
        expect(ecdsaVerify(cert.publicKey.curve, cert.publicKey.point, pir.bf27Raw, pir.signature)).toBe(true);
      }
      es.close();
      expect(b.events.filter((e) => e.type === 'slot.state' && e.state === 'loading').length).toBe(12);
      // On the wire: a bridge with BATCH= gets the STORE DATA blocks in APDUS requests; one without it never sees the verb.
      const verbs = b.rack.verbs;
      if (kind === ptyBridgeWithoutApdus) {
        expect(verbs?.get('APDUS')).toBeUndefined();
        expect(verbs?.get('APDU')).toBeGreaterThan(12 * 25); // about 29 per unit of this small profile
      } else if (verbs) {
        expect(verbs.get('APDUS')).toBeGreaterThan(0);
        expect((verbs.get('APDU') ?? 0) + (verbs.get('APDUS') ?? 0)).toBeLessThan(12 * 15);
      }
    },
  },
  {
    name: 'a card pulled mid-load interrupts only that unit, says what was spent, and the chip put back gets its next BPP',
    async run(kind) {
      const b = await bench(kind, { slots: 2, chips: 2, loaded: 0 });
      const pulled = await b.card(0);
      const steady = await b.card(1);
      // The operator pulls chip 0 when the 8th call of its BPP load arrives (well after BF23).
      pulled.faults.removeAtLoadCall = 8;
      pulled.onRemoval = () => b.rack.removeCard(0);
      const results: SlotResult[] = [];
      b.bus.on((e) => {
        if (e.type === 'slot.result') results.push(e);
      });
      const station = await b.rack.open(b.config, b.bus);
      b.rack.insertCard(0, pulled);
      b.rack.insertCard(1, steady);
      // A finished unit comes out; the pulled chip goes back into its socket.
      b.bus.on((e) => {
        if (e.type !== 'unit.done') return;
        setTimeout(async () => {
          if (e.slot === 'S1' && e.outcome === 'interrupted') b.rack.insertCard(0, await b.card(0));
          else b.rack.removeCard(e.slot === 'S1' ? 0 : 1);
        }, 5);
      });
      const summary = await station.run({ units: 3 });
      await station.close();
      await b.rack.close();

      expect(summary.byOutcome).toEqual({ interrupted: 1, installed: 2 });
      const s1 = results.filter((r) => r.slot === 'S1');
      expect(s1.map((r) => r.outcome)).toEqual(['interrupted', 'installed']);
      expect(s1[0]).toMatchObject({ code: 'CARD_REMOVED', eid: b.f.eids[0] });
      expect(s1[0]!.reason).toMatch(/card removed during the load: its BPP is spent/);
      expect(results.find((r) => r.slot === 'S2')).toMatchObject({ outcome: 'installed', attempt: 1 });
      // Nothing lost: every unit closed, no BPP pushed twice; the spent BPP marked, the next installed.
      const records = await b.journal();
      const acc = accountUnits(records);
      expect(acc.open).toEqual([]);
      expect(acc.duplicatesPushed).toEqual([]);
      expect(records.find((r) => r.type === 'unit.end' && r.outcome === 'interrupted')).toMatchObject({ code: 'CARD_REMOVED', stage: 'load', eid: b.f.eids[0] });
      const store = BppStore.open(b.config.store);
      const states = store.findByEid(eidToBytes(b.f.eids[0]!)).map((x) => x.state).sort();
      store.close();
      expect(states).toEqual([BppState.installed, BppState.failedKeyBurnt].sort());
    },
  },
  {
    name: 'a chip that goes mute after BF23 burns that key; the retry installs its spare BPP',
    async run(kind) {
      const b = await bench(kind, { slots: 1, chips: 1, loaded: 0 });
      const chip = await b.card(0);
      chip.faults.muteAtLoadCall = 5;
      const station = await b.rack.open(b.config, b.bus);
      b.rack.insertCard(0, chip);
      const summary = await station.run({ units: 1 });
      await station.close();
      await b.rack.close();
      expect(summary.byOutcome).toEqual({ installed: 1 });
      expect(b.events.find((e) => e.type === 'slot.result')).toMatchObject({ outcome: 'installed', attempt: 2 });
      const records = await b.journal();
      expect(records.filter((r) => r.type === 'unit.end').map((r) => r.outcome)).toEqual(['failed-key-burnt', 'installed']);
      expect(accountUnits(records).duplicatesPushed).toEqual([]);
      const store = BppStore.open(b.config.store);
      const states = store.findByEid(eidToBytes(b.f.eids[0]!)).map((x) => x.state).sort();
      store.close();
      expect(states).toEqual([BppState.installed, BppState.failedKeyBurnt].sort());
    },
  },
  {
    name: 'an operator abort interrupts the unit in flight, nothing is lost, and a chip put back after resume is loaded',
    async run(kind) {
      const b = await bench(kind, { slots: 1, chips: 1, loaded: 0 });
      const station = await b.rack.open(b.config, b.bus);
      // Abort when the load is under way; resume and put the chip back once the unit is done.
      let aborted = false;
      b.bus.on((e) => {
        if (e.type === 'slot.progress' && !aborted) {
          aborted = true;
          station.controls.abort();
        }
        if (e.type === 'unit.done' && e.outcome === 'interrupted') {
          setTimeout(async () => {
            b.rack.removeCard(0);
            station.controls.resume();
            b.rack.insertCard(0, await b.card(0));
          }, 5);
        }
      });
      b.rack.insertCard(0, await b.card(0));
      const summary = await station.run({ units: 2 });
      await station.close();
      await b.rack.close();
      expect(summary.byOutcome).toEqual({ interrupted: 1, installed: 1 });
      const records = await b.journal();
      const acc = accountUnits(records);
      expect(acc.open).toEqual([]);
      expect(acc.duplicatesPushed).toEqual([]);
      expect(records.find((r) => r.type === 'unit.end' && r.outcome === 'interrupted')).toMatchObject({ code: 'ABORTED', stage: 'load', reason: expect.stringMatching(/^stopped: operator abort \(the load was cut after the BPP was sent/) });
    },
  },
];

describe('station scenarios: the bridge link', () => {
  it('a lost bridge answer mid-load is found by the answer check (BRIDGE_ANSWER_LOST), that BPP is spent, and the slot loads the spare', async () => {
    const b = await bench(ptyBridge, { slots: 1, chips: 1, loaded: 0 });
    const station = await b.rack.open(b.config, b.bus);
    let dropped = false;
    b.bus.on((e) => {
      // After BF23: the bridge runs the next STORE DATA but its answer never reaches the station.
      if (e.type === 'slot.progress' && e.segmentsSent >= 3 && !dropped) {
        dropped = true;
        b.rack.bridge!.dropNextResponse();
      }
    });
    b.rack.insertCard(0, await b.card(0));
    const summary = await station.run({ units: 1 });
    await station.close();
    await b.rack.close();
    expect(dropped).toBe(true);
    expect(summary.byOutcome).toEqual({ installed: 1 });
    const records = await b.journal();
    const ends = records.filter((r) => r.type === 'unit.end');
    expect(ends.map((r) => [r.outcome, r.code])).toEqual([['failed-key-burnt', 'BRIDGE_ANSWER_LOST'], ['installed', undefined]]);
    expect(accountUnits(records).duplicatesPushed).toEqual([]);
  }, 120_000);
});

for (const kind of [inProcess, ptyBridge]) {
  describe(`station scenarios: ${kind.name}`, () => {
    for (const s of scenarios) it(s.name, () => s.run(kind), 120_000);
  });
}

// Old bridges keep working: the first scenario (a full run of loads) against a bridge whose INFO has no BATCH=.
describe(`station scenarios: ${ptyBridgeWithoutApdus.name}`, () => {
  const s = scenarios[0]!;
  it(s.name, () => s.run(ptyBridgeWithoutApdus), 120_000);
});
