/**
 * A line station killed past BF23 (the chip answered with its PIR; the station died before it
 * was journaled), its chip then seen at another station or back at its own: the chip's install
 * notification settles the attempt `installed` (recovered) in the shared inventory and in the
 * line's Profile Loading Report, with a PIR that verifies, and the chip is finished. Real
 * PostgreSQL 15, real stations on in-process slots; each case ends with the line's three-part
 * check (test/helpers/line-check.ts); the "kill" stops station A's journal at
 * pir.received (everything before it is on disk, nothing after), deterministically.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { simHardware } from '../../src/sim/inprocess/sim-hardware.ts';
import type { StationConfig } from '../../src/station/config/schema.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { PgInventory } from '../../src/line/pg-inventory.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { journalPath } from '../../src/station/journal/paths.ts';
import { runUnit } from '../../src/station/orchestrator/unit-runner.ts';
import { unitPolicyFor } from '../../src/station/orchestrator/unit-policy.ts';
import { loadDialect } from '../../src/station/fpa/dialect-loader.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { NotificationEvent } from '../../src/core/rsp/pir.ts';
import { checkLine, chipProfiles } from '../helpers/line-check.ts';
import { freshLine, lineStationConfig } from '../helpers/line-setup.ts';

const why = pgUnavailable();
if (why) console.warn(`line crash tests skipped: ${why}`);

type Where = 'B after A restarted' | 'B while A is down' | 'A again after its restart' | 'B (alreadyProvisioned "load") while A is down';

describe.skipIf(why !== undefined)('a line station killed past BF23: the chip, seen again anywhere on the line, settles the attempt from its signed result', () => {
  let pg: PgCluster;
  let f: MiniFactory;
  beforeAll(async () => {
    pg = startPgCluster();
    f = await miniFactory({ chips: 4, keys: 2, perEuicc: 2 });
  });
  afterAll(() => {
    f?.close();
    pg?.stop();
  });

  const stationConfig = (name: string, url: string, dir: string, extra: object = {}): Promise<StationConfig> => lineStationConfig(dir, name, url, 1, extra);

  /** Station A loads the chip; its journal stops at pir.received, as a kill -9 there leaves it. */
  async function killedPastBf23(config: StationConfig, url: string, eid: string, stateDir: string): Promise<void> {
    const { journal } = await Journal.open(journalPath(config));
    const inventory = await PgInventory.open({ url, stationId: config.name, heartbeatSeconds: 0 });
    const card = await euiccCardFromReel({ reel: f.reel, eid, stateDir }, 0);
    const sim = simHardware(config);
    sim.slots.get('S1')!.insertCard(card);
    let died!: () => void;
    const dead = new Promise<void>((r) => (died = r));
    const append = journal.append.bind(journal);
    let killed = false;
    journal.append = ((type, fields) => {
      if (type === 'pir.received') killed = true;
      if (!killed) return append(type, fields);
      died();
      return new Promise(() => undefined); // the process is gone: nothing more reaches the disk
    }) as typeof journal.append;
    const policy = unitPolicyFor(config, await loadDialect(config.loading.dialect));
    void runUnit(sim.slots.get('S1')!, { inventory, trust: new EuiccTrust(f.euicc), journal, bus: new EventBus(), policy, signal: new AbortController().signal });
    await dead;
    await journal.close();
    await inventory.close();
  }

  /** The station started on the line (restart reconciliation), with `eid` in its socket or none; runs its units and stops. */
  async function startStation(config: StationConfig, eid: string | undefined, stateDir: string): Promise<{ events: StationEvent[]; byOutcome: Record<string, number> }> {
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => void events.push(e));
    const sim = simHardware(config);
    if (eid) sim.slots.get('S1')!.insertCard(await euiccCardFromReel({ reel: f.reel, eid, stateDir }, 0));
    const station = await Station.open(config, { bus, hardware: sim.hardware });
    try {
      const summary = eid ? await station.run({ units: 1 }) : { byOutcome: {} };
      return { events, byOutcome: summary.byOutcome };
    } finally {
      await station.close();
    }
  }

  it.each<[Where, number]>([
    ['B after A restarted', 0],
    ['B while A is down', 1],
    ['A again after its restart', 2],
    // No already-provisioned check: the claim finds A's attempt unsettled and settles it from the chip.
    ['B (alreadyProvisioned "load") while A is down', 3],
  ])('seen at %s: installed (recovered) in the inventory and the PLR, PIR verified, chip finished', async (where, chip) => {
    const { url, db, batchId } = await freshLine(pg, f);
    try {
      const eid = f.eids[chip]!;
      const stateDir = join(f.dir, `chips-moved-${chip}`);
      const base = join(f.dir, `line-moved-${chip}`);
      const a = await stationConfig('A', url, join(base, 'A'));
      const load = where === 'B (alreadyProvisioned "load") while A is down';
      const b = await stationConfig('B', url, join(base, 'B'), load ? { eidPolicy: { alreadyProvisioned: 'load' } } : {});

      await killedPastBf23(a, url, eid, stateDir);
      const rowOf = async () =>
        (await db.query<{ state: number; claim_station: string; claim_unit: string }>("SELECT state, claim_station, claim_unit FROM ifpp.bpps WHERE eid = $1 AND state <> 0 AND state <> 4", [Buffer.from(eid, 'hex')])).rows;
      const [claimed] = await rowOf();
      expect(claimed).toMatchObject({ state: BppState.inFlight, claim_station: 'A' });

      let seen: { events: StationEvent[]; byOutcome: Record<string, number> };
      if (where === 'B while A is down' || load) {
        seen = await startStation(b, eid, stateDir);
        await startStation(a, undefined, stateDir);
      } else {
        await startStation(a, undefined, stateDir); // the restart: BF23 sent, no result -> retired, unknown
        expect((await rowOf())[0]!.state).toBe(BppState.failedKeyBurnt);
        seen = await startStation(where === 'A again after its restart' ? a : b, eid, stateDir);
      }
      // Nothing loaded again: the chip already holds the profile (its earlier attempt's).
      expect(seen.byOutcome).toEqual({ 'already-provisioned': 1 });

      // The row that attempt claimed is installed, still naming it; nothing in flight.
      expect(await rowOf()).toEqual([{ state: BppState.installed, claim_station: 'A', claim_unit: claimed!.claim_unit }]);
      const chipState = JSON.parse(readFileSync(join(stateDir, `${eid}.json`), 'utf8')) as { profiles: unknown[]; keys: { state: string }[]; notifications?: { event: number }[] };
      expect(chipState.profiles).toHaveLength(1);
      // Finished, and only after the recovered PIR was journaled: no spare key left; the install
      // notification stays on the chip (docs/protocol.md, "Finishing a chip").
      expect(chipState.keys.filter((k) => k.state === 'unused')).toEqual([]);
      expect(chipState.notifications?.map((n) => n.event)).toEqual([NotificationEvent.notificationInstall]);
      const settling = where === 'A again after its restart' ? 'A' : 'B';
      const order = (
        await db.query<{ type: string }>("SELECT type FROM ifpp.journal WHERE station_id = $1 AND unit = $2 AND type IN ('unit.reconciled', 'unit.recovered', 'unit.finished') ORDER BY seq", [settling, claimed!.claim_unit])
      ).rows.map((r) => r.type);
      expect(order).toEqual(settling === 'A' ? ['unit.reconciled', 'unit.reconciled', 'unit.finished'] : ['unit.recovered', 'unit.finished']);

      // The line's three-part check (chips, rows, report), then this unit in it: recovered, finished.
      const trust = new EuiccTrust(f.euicc);
      const { report, results } = await checkLine(db, url, { chips: chipProfiles(stateDir), outDir: join(base, 'reports'), trust, label: where });
      expect(report.accounting.anomalies).toEqual([]);
      const unit = report.accounting.units.find((u) => u.unit === claimed!.claim_unit)!;
      expect(unit).toMatchObject({ status: 'installed', finished: true, pir: { recovered: true, verified: true, installed: true } });
      expect((results as unknown as { unit: string }[]).find((x) => x.unit === claimed!.claim_unit)).toMatchObject({ eid, outcome: 'installed', recovered: true, pirVerifiedByStation: true });
    } finally {
      await db.end();
    }
  });
});
