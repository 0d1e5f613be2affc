/**
 * Two real stations (bridge driver, FPA client, journal, orchestration) on one line database:
 * a real PostgreSQL 15 server, simulated bridges on ptys holding simulated eUICCs. Each station
 * claims from the shared inventory; a chip with another station's unsettled attempt is settled
 * from the chip itself before it is loaded; `line report` gives one PLR for the batch covering
 * both stations, every PIR verifying with CERT.EUICC.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts';
import { checkLine, chipProfiles } from '../helpers/line-check.ts';
import { freshLine as freshLineDb, lineStationConfig } from '../helpers/line-setup.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { importEuiccDataToLine } from '../../src/line/import.ts';
import { PgInventory } from '../../src/line/pg-inventory.ts';
import { lineStatus } from '../../src/line/status.ts';
import { assignChips } from '../../src/line/assign.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';

const why = pgUnavailable();
if (why) console.warn(`line tests skipped: ${why}`);

describe.skipIf(why !== undefined)('two stations on one line database (real PostgreSQL, simulated bridges)', () => {
  let pg: PgCluster;
  let f: MiniFactory;
  beforeAll(async () => {
    pg = startPgCluster();
    f = await miniFactory({ chips: 9, keys: 2, perEuicc: 2 });
  });
  afterAll(() => {
    f?.close();
    pg?.stop();
  });

  const freshLine = (euiccData = f.euiccData) => freshLineDb(pg, f, euiccData);

  /** The factory's eUICC data split in two files: without the chips `late`, and with only them (a lot imported later). */
  function splitEuiccData(late: string[]): { early: string; later: string } {
    const [header, ...chips] = readFileSync(f.euiccData, 'utf8').trim().split('\n');
    const isLate = (l: string) => late.includes((JSON.parse(l) as { eid: string }).eid);
    const write = (name: string, lines: string[]) => {
      const file = join(f.dir, `${name}-${Date.now()}.ndjson`);
      writeFileSync(file, [header, ...lines].join('\n') + '\n');
      return file;
    };
    return { early: write('euicc-early', chips.filter((l) => !isLate(l))), later: write('euicc-later', chips.filter(isLate)) };
  }

  /** A station on the line with one simulated bridge holding these chips (fresh chip state in `stateDir`). */
  async function lineStation(name: string, url: string, eids: string[], stateDir: string, at?: string) {
    const dir = at ?? join(f.dir, `station-${name}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const cards = await Promise.all(eids.map((eid) => euiccCardFromReel({ reel: f.reel, eid, stateDir }, 0)));
    const sim = await BridgeSim.start({ slots: eids.length, link: join(dir, 'bridge0'), timeScale: 0, cards });
    const config = await lineStationConfig(dir, name, url, eids.length);
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => void events.push(e));
    const station = await Station.open(config, { bus, bridgeOptions: { heartbeatMs: 0 } });
    return {
      dir,
      events,
      station,
      sim,
      cards,
      async run(units = eids.length) {
        try {
          return { summary: await station.run({ units }), events };
        } finally {
          await station.close();
          await sim.close();
        }
      },
    };
  }

  it('both stations load from one inventory, a moved chip is settled from the chip first, and line report covers both with verified PIRs', async () => {
    const { url, db, batchId } = await freshLine();
    try {
      // Chip 8 was being loaded at a third station, which stopped mid-attempt; the chip went to station B.
      const other = await PgInventory.open({ url, stationId: 'C', heartbeatSeconds: 0 });
      const moved = f.eids[8]!;
      const stuck = await other.claim({ eid: eidToBytes(moved), unusedOtpks: f.store.findByEid(eidToBytes(moved)).map((b) => b.otpk), unit: 'c-unit', excluded: new Set(), trustedCis: [] });
      expect(stuck.kind).toBe('claimed');
      await other.close();

      const stateDir = join(f.dir, 'chips-line');
      const run = async (name: string, eids: string[]) => (await lineStation(name, url, eids, stateDir)).run();
      const [a, b] = await Promise.all([run('A', f.eids.slice(0, 4)), run('B', [...f.eids.slice(4, 8), moved])]);
      expect(a.summary.byOutcome).toEqual({ installed: 4 });
      expect(b.summary.byOutcome).toEqual({ installed: 5 });
      expect(b.events.some((e) => e.type === 'station.warning' && e.code === 'MOVED_CHIP_SETTLED' && e.message.includes('key unused -> retired'))).toBe(true);

      // Every chip holds one profile; the moved chip's first BPP is retired, never loaded.
      const rows = (await db.query('SELECT eid, state, claim_station FROM ifpp.bpps ORDER BY eid, position')).rows;
      const installed = rows.filter((r) => r.state === BppState.installed);
      expect(installed).toHaveLength(9);
      expect(new Set(installed.map((r) => Buffer.from(r.eid).toString('hex'))).size).toBe(9);
      expect(rows.filter((r) => r.state === BppState.inFlight)).toEqual([]);
      if (stuck.kind === 'claimed') {
        const s = (await db.query('SELECT state FROM ifpp.bpps WHERE batch_id = $1 AND position = $2', [stuck.bpp.batchId, stuck.bpp.position])).rows[0];
        expect(s.state).toBe(BppState.failedKeyBurnt);
      }
      const status = await lineStatus(db, url);
      expect(status.stations.filter((s) => s.station !== 'C').map((s) => [s.station, s.outboxLag, s.inFlight])).toEqual([
        ['A', 0, 0],
        ['B', 0, 0],
      ]);

      const { report, results } = await checkLine(db, url, { chips: chipProfiles(stateDir), outDir: join(f.dir, 'line-reports'), trust: new EuiccTrust(f.euicc) });
      expect(report.plrs.filter((p) => p.batchId !== null).map((p) => p.batchId)).toEqual([batchId]);
      expect(results).toHaveLength(9);
      expect(new Set(results.map((r) => r.slot.split('/')[0]))).toEqual(new Set(['A', 'B']));
    } finally {
      await db.end();
    }
  });

  it('the database stopped mid-shift: assigned chips keep loading from the local copy, the others wait with a message; the outbox drains when it is back', async () => {
    const { url, db } = await freshLine();
    try {
      const assigned = f.eids.slice(0, 3);
      const unassigned = f.eids[3]!;
      await assignChips(db, url, 'A', assigned);
      const stateDir = join(f.dir, 'chips-offline');
      const st = await lineStation('A', url, [...assigned, unassigned], stateDir);
      pg.kill();
      let summary;
      try {
        summary = (await st.run()).summary;
      } finally {
        if (!pg.running()) pg.start();
      }
      expect(summary.byOutcome).toEqual({ installed: 3, 'no-bpp': 1 });
      const waited = st.events.find((e) => e.type === 'slot.result' && e.eid === unassigned);
      expect(waited).toMatchObject({ code: 'INVENTORY_UNAVAILABLE', reason: expect.stringContaining('line database unreachable') });
      // The operator is told what to do on the slot.
      expect(st.events.some((e) => e.type === 'slot.state' && e.code === 'INVENTORY_UNAVAILABLE' && e.reason?.includes('set it aside or wait for the database'))).toBe(true);

      // The database is back: the journal outbox delivers everything in order, states applied once.
      const { JournalOutbox } = await import('../../src/line/outbox.ts');
      const drain = new JournalOutbox(db, url, 'A', join(st.station.config.journal, 'journal.ndjson'));
      await drain.drain();
      const rows = (await db.query('SELECT eid, state FROM ifpp.bpps ORDER BY eid, position')).rows;
      const installedEids = rows.filter((r) => r.state === BppState.installed).map((r) => Buffer.from(r.eid).toString('hex'));
      expect(installedEids.sort()).toEqual([...assigned].sort());
      expect(rows.filter((r) => r.state === BppState.inFlight)).toEqual([]);
      expect((await lineStatus(db, url)).stations).toEqual([expect.objectContaining({ station: 'A', outboxLag: 0 })]);
      const { results } = await checkLine(db, url, { chips: chipProfiles(stateDir), outDir: join(f.dir, 'line-reports-offline'), trust: new EuiccTrust(f.euicc) });
      expect(results.map((r) => r.eid).sort()).toEqual([...assigned].sort());
    } finally {
      await db.end();
    }
  });

  it('a station started while the database is down loads its assigned chips from its saved copy, says so, and takes the others once the database is back, with eUICC data imported into the line meanwhile', async () => {
    // The last chip's eUICC data reaches the line only after the station started (another lot).
    const late = f.eids[4]!;
    const { early, later } = splitEuiccData([late]);
    const { url, db } = await freshLine(early);
    try {
      const assigned = f.eids.slice(0, 3);
      const unassigned = f.eids[3]!;
      await assignChips(db, url, 'A', assigned);
      const stateDir = join(f.dir, 'chips-offline-start');
      // One earlier start with the database there: the station saves its copy of its assignments.
      const first = await lineStation('A', url, [unassigned], stateDir);
      await first.station.close();
      await first.sim.close();

      pg.kill();
      let st;
      try {
        st = await lineStation('A', url, [...assigned, unassigned, late], stateDir, first.dir);
      } catch (e) {
        pg.start();
        throw e;
      }
      expect(st.events).toContainEqual(expect.objectContaining({ type: 'station.warning', code: 'LINE_OFFLINE', message: expect.stringContaining('loading only the 3 chips whose BPPs are assigned to this station') }));
      // The unassigned chip waits with its code, the late lot's chip is unknown; then the database
      // comes back, the late lot is imported into the line, the station copies it (its notice),
      // and both chips are put in again.
      const copied = new Promise<void>((res) =>
        st.station.bus.on((e) => {
          if (e.type === 'station.warning' && e.code === 'LINE_EUICC_DATA' && e.message.includes('"lot-2"')) res();
        }),
      );
      let waiting = 2;
      let back: Promise<void> | undefined;
      st.station.bus.on((e) => {
        if (e.type === 'unit.done' && (e.eid === unassigned || e.eid === late) && e.outcome === 'no-bpp' && --waiting === 0) {
          pg.start();
          back = (async () => {
            await importEuiccDataToLine(db, url, later, 'lot-2');
            await copied;
            for (const ch of [3, 4]) st.sim.insertCard(ch, st.sim.removeCard(ch)!);
          })();
        }
      });
      let summary;
      try {
        summary = (await st.run(7)).summary;
      } finally {
        if (!pg.running()) pg.start();
      }
      await back;
      expect(summary.byOutcome).toEqual({ installed: 5, 'no-bpp': 2 });
      expect(st.events.find((e) => e.type === 'slot.result' && e.eid === unassigned)).toMatchObject({ code: 'INVENTORY_UNAVAILABLE' });
      expect(st.events.find((e) => e.type === 'slot.result' && e.eid === late)).toMatchObject({ code: 'EUICC_UNKNOWN' });
      expect(st.events).toContainEqual(expect.objectContaining({ type: 'station.warning', code: 'LINE_DB_BACK' }));

      // Everything the station did offline reached the database; the report matches the chips.
      const rows = (await db.query('SELECT eid, state FROM ifpp.bpps ORDER BY eid, position')).rows;
      const installedEids = rows.filter((r) => r.state === BppState.installed).map((r) => Buffer.from(r.eid).toString('hex'));
      expect(installedEids.sort()).toEqual([...assigned, unassigned, late].sort());
      expect(rows.filter((r) => r.state === BppState.inFlight)).toEqual([]);
      expect((await lineStatus(db, url)).stations).toEqual([expect.objectContaining({ station: 'A', outboxLag: 0 })]);
      const { results } = await checkLine(db, url, { chips: chipProfiles(stateDir), outDir: join(f.dir, 'line-reports-offline-start'), trust: new EuiccTrust(f.euicc) });
      expect(results.map((r) => r.eid).sort()).toEqual([...assigned, unassigned, late].sort());
    } finally {
      await db.end();
    }
  });
});
