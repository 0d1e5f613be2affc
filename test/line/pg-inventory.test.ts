/**
 * Claim semantics of the line inventory against a real PostgreSQL 15 server and real simulated
 * chips (docs/line-guide.md): stations racing for one EID, an expired lease, a chip moved
 * between stations mid-attempt, and the journal outbox feeding `line report`. Each fault test
 * goes on with the shift (real units on in-process chips, journals, outboxes) and ends with
 * the shared check (test/helpers/line-check.ts): every chip at most one profile, every BPP in
 * one final state, `line report` matching the chips.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/line/db.ts';
import { migrate } from '../../src/line/schema.ts';
import { importBatchToLine, importEuiccDataToLine } from '../../src/line/import.ts';
import { PgInventory } from '../../src/line/pg-inventory.ts';
import { JournalOutbox } from '../../src/line/outbox.ts';
import { assignChips } from '../../src/line/assign.ts';
import { lineStatus } from '../../src/line/status.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { toHex } from '../../src/core/bytes.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { EventBus } from '../../src/station/events.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { runUnit } from '../../src/station/orchestrator/unit-runner.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts';
import { checkLine, chipProfiles } from '../helpers/line-check.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';

const why = pgUnavailable();
if (why) console.warn(`line tests skipped: ${why}`);

describe.skipIf(why !== undefined)('line inventory claims (real PostgreSQL)', () => {
  let pg: PgCluster;
  let f: MiniFactory;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    pg = startPgCluster();
    f = await miniFactory({ chips: 6, keys: 2, perEuicc: 2 });
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    f?.close();
    pg?.stop();
  });

  async function line(): Promise<{ url: string; db: Db; batchId: string }> {
    const url = await pg.freshDb();
    const db = openDb(url);
    closers.push(() => db.end());
    await migrate(db, url);
    const { batchId } = await importBatchToLine(db, url, f.batchDir, { checks: bppChecks });
    return { url, db, batchId };
  }
  async function station(url: string, stationId: string, leaseSeconds = 600): Promise<PgInventory> {
    const inv = await PgInventory.open({ url, stationId, leaseSeconds, heartbeatSeconds: 0 });
    closers.push(() => inv.close());
    return inv;
  }
  const allKeys = (eid: string) => f.store.findByEid(eidToBytes(eid)).map((b) => b.otpk);
  const req = (eid: string, unit: string) => ({ eid: eidToBytes(eid), unusedOtpks: allKeys(eid), unit, excluded: new Set<string>(), trustedCis: [] });
  const policy = { blockSize: 255, useLogicalChannel: false, maxAttemptsPerChip: 2, verifyProfileListed: false };

  /**
   * The rest of a station's shift after the fault: real units (runUnit) on in-process chips kept
   * in `chipsDir`, through the station's line inventory, journaled in its own journal, which
   * its outbox delivers at the end (as a line station's outbox does every second).
   */
  function shift(db: Db, url: string, inv: PgInventory, chipsDir: string) {
    const journalPath = join(mkdtempSync(join(f.dir, `journal-${inv.stationId}-`)), 'journal.ndjson');
    let opened: Promise<Journal> | undefined;
    const bus = new EventBus();
    return {
      async load(eid: string) {
        const journal = await (opened ??= Journal.open(journalPath).then((j) => j.journal));
        const { slot } = await f.card(eid, 'S1', chipsDir);
        return runUnit(slot, { inventory: inv, trust: new EuiccTrust(f.euicc), journal, bus, signal: new AbortController().signal, policy });
      },
      async end() {
        await (await opened)?.close();
        return new JournalOutbox(db, url, inv.stationId, journalPath).drain();
      },
    };
  }
  /** The shared end of every fault test (test/helpers/line-check.ts). */
  const check = (db: Db, url: string, chipsDir: string) =>
    checkLine(db, url, { chips: chipProfiles(chipsDir), outDir: mkdtempSync(join(f.dir, 'line-report-')), trust: new EuiccTrust(f.euicc) });
  const chipsFolder = () => mkdtempSync(join(f.dir, 'chips-'));

  it('stations racing for the same EID: one claim wins, the others see an unsettled attempt, never a second BPP', async () => {
    const { url, db } = await line();
    const stations = await Promise.all(['A', 'B', 'C', 'D'].map((s) => station(url, s)));
    for (const eid of f.eids) {
      const results = await Promise.all(stations.map((s, i) => s.claim(req(eid, `${eid}-u${i}`))));
      expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'unsettled')).toHaveLength(stations.length - 1);
    }
    const rows = (await db.query('SELECT eid, count(*) FILTER (WHERE state = 1)::int AS n FROM ifpp.bpps GROUP BY eid')).rows;
    expect(rows.map((r) => r.n)).toEqual(f.eids.map(() => 1));
    // The stations stop there (claimed, nothing journaled) and start again: each gives back the
    // claims its journal never names (audited), as a line station does at start; then the shift
    // goes on, each chip loaded at one of the stations.
    const given = await Promise.all(stations.map((s) => s.releaseOrphans(new Set())));
    expect(given.reduce((a, b) => a + b, 0)).toBe(f.eids.length);
    expect((await db.query("SELECT count(*)::int AS n FROM ifpp.audit WHERE action = 'release-unjournaled-claim'")).rows[0].n).toBe(f.eids.length);
    const chips = chipsFolder();
    const shifts = stations.map((s) => shift(db, url, s, chips));
    const outcomes = await Promise.all(f.eids.map((eid, i) => shifts[i % shifts.length]!.load(eid)));
    expect(outcomes.map((o) => o.outcome)).toEqual(f.eids.map(() => 'installed'));
    for (const s of shifts) await s.end();
    const { results } = await check(db, url, chips);
    expect(results).toHaveLength(f.eids.length);
  });

  it('different EIDs claimed at once by many stations: every BPP claimed at most once, each by one unit', async () => {
    const { url, db } = await line();
    const stations = await Promise.all(Array.from({ length: 6 }, (_, i) => station(url, `S${i}`)));
    // Each station works its own chips, two attempts in a row per chip (the second after the first burnt its key).
    await Promise.all(
      stations.map(async (s, i) => {
        const eid = f.eids[i]!;
        const first = await s.claim(req(eid, `${i}-1`));
        expect(first.kind).toBe('claimed');
        if (first.kind !== 'claimed') return;
        await s.settle(first.bpp, BppState.failedKeyBurnt, `${i}-1`);
        const second = await s.claim({ ...req(eid, `${i}-2`), unusedOtpks: allKeys(eid).filter((k) => toHex(k) !== toHex(first.bpp.otpk)) });
        expect(second.kind).toBe('claimed');
        if (second.kind !== 'claimed') return;
        expect(second.bpp.position).not.toBe(first.bpp.position);
        // While the second attempt is unsettled, even this station gets nothing more for the chip.
        expect((await s.claim({ ...req(eid, `${i}-3`), unusedOtpks: [] })).kind).toBe('unsettled');
        await s.settle(second.bpp, BppState.installed, `${i}-2`);
        const third = await s.claim({ ...req(eid, `${i}-3`), unusedOtpks: [] });
        expect(third.kind).toBe('none');
      }),
    );
    const units = (await db.query('SELECT claim_unit FROM ifpp.bpps WHERE claim_unit IS NOT NULL')).rows.map((r) => r.claim_unit);
    expect(new Set(units).size).toBe(units.length);
    expect(units.length).toBe(12);
  });

  it('an expired lease never makes an in-flight BPP available: other stations still get nothing for that chip; the owner heartbeat renews it', async () => {
    const { url, db } = await line();
    const a = await station(url, 'A', 0); // a lease that expires at once
    const b = await station(url, 'B');
    const eid = f.eids[0]!;
    const c = await a.claim(req(eid, 'a-1'));
    expect(c.kind).toBe('claimed');
    const st = await lineStatus(db, url);
    expect(st.inFlight).toEqual([expect.objectContaining({ station: 'A', unit: 'a-1', stale: true })]);
    const other = await b.claim(req(eid, 'b-1'));
    expect(other).toMatchObject({ kind: 'unsettled', attempts: [expect.objectContaining({ station: 'A', unit: 'a-1' })] });
    expect((await db.query("SELECT count(*)::int AS n FROM ifpp.bpps WHERE state = 1")).rows[0].n).toBe(1);
    // Only the owner's settlement changes it.
    if (c.kind === 'claimed') {
      await b.settle(c.bpp, BppState.failedBeforeSecureChannel, 'b-1'); // not b's claim: no effect
      expect(await a.stateOf(c.bpp)).toBe(BppState.inFlight);
      await a.settle(c.bpp, BppState.failedBeforeSecureChannel, 'a-1');
      expect(await a.stateOf(c.bpp)).toBe(BppState.failedBeforeSecureChannel);
    }
    // Settled by its owner, the chip loads at B.
    const chips = chipsFolder();
    const atB = shift(db, url, b, chips);
    expect((await atB.load(eid)).outcome).toBe('installed');
    await atB.end();
    const { results } = await check(db, url, chips);
    expect(results).toEqual([expect.objectContaining({ eid, slot: 'B/S1' })]);
  });

  it('a chip moved to another station mid-attempt: the second station reads its key state, settles the attempt (audited) and only then loads', async () => {
    const { url, db } = await line();
    const a = await station(url, 'A');
    const b = await station(url, 'B');
    const eid = f.eids[1]!;
    const chips = chipsFolder();
    const { slot } = await f.card(eid, 'B-S1', chips);
    // A claims and is stopped before BF23 (the chip is taken out and put into B).
    const first = await a.claim(req(eid, 'a-unit'));
    expect(first.kind).toBe('claimed');
    // B reads the chip as it always does, then asks for a BPP.
    await slot.activate();
    const fpa = new FpaClient(slot.apdu, { blockSize: 255, useLogicalChannel: false });
    await fpa.selectIsdR();
    const info = await fpa.getFactoryInfo();
    const unused = info.oneTimeKeys.filter((k) => k.state === 'unused').map((k) => k.otpk);
    const blocked = await b.claim({ ...req(eid, 'b-unit'), unusedOtpks: unused });
    expect(blocked.kind).toBe('unsettled');
    if (blocked.kind !== 'unsettled') return;
    const att = blocked.attempts[0]!;
    const key = info.oneTimeKeys.find((k) => toHex(k.otpk) === toHex(att.otpk))!;
    expect(key.state).toBe('unused'); // BF23 never reached the chip
    expect(await b.settleMoved(att, { keyUsed: key.state !== 'unused', profileListed: false }, 'b-unit')).toBe('retired');
    await slot.powerOff();
    // The retired BPP is never loadable again; B's unit loads the one bound to the other key.
    const atB = shift(db, url, b, chips);
    const unit = await atB.load(eid);
    expect(unit.outcome).toBe('installed');
    if (first.kind === 'claimed') {
      const inst = (await db.query('SELECT position FROM ifpp.bpps WHERE state = $1', [BppState.installed])).rows;
      expect(inst).toHaveLength(1);
      expect(inst[0].position).not.toBe(first.bpp.position);
      expect(await b.stateOf(first.bpp)).toBe(BppState.failedKeyBurnt);
      // A's late write for its attempt changes nothing.
      await a.settle(first.bpp, BppState.failedBeforeSecureChannel, 'a-unit');
      expect(await a.stateOf(first.bpp)).toBe(BppState.failedKeyBurnt);
    }
    expect(await b.settleMoved(att, { keyUsed: false, profileListed: false }, 'b-unit')).toBe('already-settled');
    const audit = (await db.query("SELECT actor, action, detail FROM ifpp.audit WHERE action = 'settle-moved-chip'")).rows;
    expect(audit).toEqual([expect.objectContaining({ actor: 'station B', detail: expect.objectContaining({ keyUsed: false, previous: { station: 'A', unit: 'a-unit' } }) })]);
    await atB.end();
    const { results } = await check(db, url, chips);
    expect(results).toEqual([expect.objectContaining({ eid, slot: 'B/S1' })]);
  });

  it('assigned chips loaded from the local copy: the journal outbox drains in order, applies each state once, and line report gives one PLR whose PIRs verify', async () => {
    const { url, db, batchId } = await line();
    await importEuiccDataToLine(db, url, f.euiccData, 'lot-1');
    const chips = f.eids.slice(2, 5);
    await assignChips(db, url, 'st-1', chips);
    // The station loads the assigned chips with its local copy (the offline path), journaling as always.
    const journalPath = join(f.dir, `journal-${Date.now()}`, 'journal.ndjson');
    const { journal } = await Journal.open(journalPath);
    const bus = new EventBus();
    const results = [];
    const chipsDir = chipsFolder();
    for (const eid of chips) {
      const { slot } = await f.card(eid, 'S1', chipsDir);
      results.push(await runUnit(slot, { inventory: new LocalInventory(f.store), trust: new EuiccTrust(f.euicc), journal, bus, signal: new AbortController().signal, policy }));
    }
    await journal.close();
    expect(results.map((r) => r.outcome)).toEqual(['installed', 'installed', 'installed']);

    const outbox = new JournalOutbox(db, url, 'st-1', journalPath);
    pg.kill(); // the database goes away: the outbox keeps everything and says so
    await expect(outbox.drain()).rejects.toMatchObject({ code: 'LINE_DB_UNREACHABLE' });
    expect(outbox.status().offline).toBe(true);
    pg.start();
    const sent = await outbox.drain();
    expect(sent).toBe(readFileSync(journalPath, 'utf8').trim().split('\n').length);
    expect(await outbox.drain()).toBe(0);
    const states = (await db.query('SELECT state, count(*)::int AS n FROM ifpp.bpps WHERE assigned_station = $1 GROUP BY state ORDER BY state', ['st-1'])).rows;
    expect(states).toEqual([
      { state: BppState.available, n: 3 },
      { state: BppState.installed, n: 3 },
    ]);
    expect((await lineStatus(db, url)).stations).toEqual([expect.objectContaining({ station: 'st-1', outboxLag: 0, inFlight: 0 })]);

    const { report, results: plrResults } = await check(db, url, chipsDir);
    expect(report.plrs.map((p) => p.batchId)).toEqual([batchId]);
    expect(plrResults).toHaveLength(3);
    for (const r of plrResults) expect(r.slot).toBe('st-1/S1');
  });
});
