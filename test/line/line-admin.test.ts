/**
 * The line database's admin side against a real PostgreSQL 15 server (a throwaway cluster):
 * migrations, imports with the local importer's checks, assignment, status, audited release,
 * and the CLI's wiring and errors.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/line/db.ts';
import { migrate, MIGRATIONS } from '../../src/line/schema.ts';
import { importBatchToLine, importEuiccDataToLine } from '../../src/line/import.ts';
import { assignChips, readEidList } from '../../src/line/assign.ts';
import { lineStatus } from '../../src/line/status.ts';
import { releaseBpp } from '../../src/line/release.ts';
import { dbUrl } from '../../src/cli/line-db.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { toHex } from '../../src/core/bytes.ts';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts';

const run = promisify(execFile);
const why = pgUnavailable();
if (why) console.warn(`line tests skipped: ${why}`);

describe.skipIf(why !== undefined)('line database (real PostgreSQL)', () => {
  let pg: PgCluster;
  let f: MiniFactory;
  const pools: Db[] = [];
  const fresh = async () => {
    const url = await pg.freshDb();
    const db = openDb(url);
    pools.push(db);
    return { url, db };
  };

  beforeAll(async () => {
    pg = startPgCluster();
    f = await miniFactory({ chips: 4, keys: 2, perEuicc: 2 });
  });
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
    f?.close();
    pg?.stop();
  });

  it('migrations are versioned and idempotent, also when two run at once', async () => {
    const { url, db } = await fresh();
    const other = openDb(url);
    pools.push(other);
    const [a, b] = await Promise.all([migrate(db, url), migrate(other, url)]);
    expect([...a.applied, ...b.applied]).toEqual(MIGRATIONS.map((m) => m.version));
    expect((await migrate(db, url)).applied).toEqual([]);
    const rows = (await db.query('SELECT version FROM ifpp.migrations ORDER BY version')).rows.map((r) => r.version);
    expect(rows).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('imports a batch with the local importer checks: same rows, states and bytes as the local store; never twice', async () => {
    const { url, db } = await fresh();
    await migrate(db, url);
    const r = await importBatchToLine(db, url, f.batchDir, { checks: bppChecks });
    const [batchId] = f.store.batchIds();
    expect(r.batchId).toBe(batchId);
    const local = [...f.store.entries(batchId!)];
    expect(r.accepted).toBe(local.length);
    const rows = (await db.query('SELECT position, eid, otpk, state, bpp FROM ifpp.bpps ORDER BY position')).rows;
    expect(rows.map((x) => [x.position, toHex(x.eid), toHex(x.otpk), x.state])).toEqual(local.map((e) => [e.position, toHex(e.eid), toHex(e.otpk), e.state]));
    expect(Buffer.from(rows[1].bpp).equals(Buffer.from(f.store.readBpp(local[1]!)))).toBe(true);
    await expect(importBatchToLine(db, url, f.batchDir, { checks: bppChecks })).rejects.toMatchObject({ code: 'LINE_BATCH_EXISTS' });
    expect((await db.query('SELECT count(*)::int AS n FROM ifpp.bpps')).rows[0].n).toBe(local.length);
  });

  it('refuses a batch whose index differs from its manifest, as the local import does, leaving nothing in the database', async () => {
    const { url, db } = await fresh();
    await migrate(db, url);
    const damaged = mkdtempSync(join(tmpdir(), 'ifpp-line-bad-'));
    // Same batch, one index line's hash changed: that BPP must be rejected, the rest kept.
    const { cpSync, readFileSync } = await import('node:fs');
    cpSync(f.batchDir, damaged, { recursive: true });
    const lines = readFileSync(join(damaged, 'index.ndjson'), 'utf8').split('\n');
    const first = JSON.parse(lines[0]!);
    first.sha256 = '00'.repeat(32);
    lines[0] = JSON.stringify(first);
    writeFileSync(join(damaged, 'index.ndjson'), lines.join('\n'));
    const r = await importBatchToLine(db, url, damaged, { checks: bppChecks }).catch((e) => e);
    if (r instanceof Error) {
      expect((r as { code?: string }).code).toBe('BATCH_INDEX_DAMAGED');
      expect((await db.query('SELECT count(*)::int AS n FROM ifpp.batches')).rows[0].n).toBe(0);
      return;
    }
    throw new Error('a batch whose index differs from its manifest must be refused');
  });

  it('imports eUICC data; assigns chips to one station only; reads reels and EID lists', async () => {
    const { url, db } = await fresh();
    await migrate(db, url);
    await importBatchToLine(db, url, f.batchDir, { checks: bppChecks });
    const e = await importEuiccDataToLine(db, url, f.euiccData, 'lot-1');
    expect(e.count).toBe(f.eids.length);
    expect((await db.query('SELECT count(*)::int AS n FROM ifpp.euicc_certs')).rows[0].n).toBe(f.eids.length);
    await expect(importEuiccDataToLine(db, url, f.euiccData, 'lot-1')).rejects.toMatchObject({ code: 'LINE_EUICC_DATA_EXISTS' });

    const reel = await readEidList(f.reel);
    expect(reel.eids).toEqual(f.eids);
    const listFile = join(f.dir, 'eids.txt');
    writeFileSync(listFile, `# two chips\n${f.eids[0]}\n${f.eids[1]}\nnot-an-eid\n`);
    const list = await readEidList(listFile);
    expect(list.eids).toEqual(f.eids.slice(0, 2));
    expect(list.skipped).toEqual([{ line: 4, reason: expect.stringContaining('not an EID') }]);

    const a = await assignChips(db, url, 'st-1', list.eids);
    expect(a).toMatchObject({ station: 'st-1', chips: 2, assigned: 4, elsewhere: [], noBpp: [] });
    const b = await assignChips(db, url, 'st-2', f.eids.slice(1, 3));
    expect(b).toMatchObject({ assigned: 2, elsewhere: [f.eids[1]] });
    const owners = (await db.query('SELECT assigned_station AS s, count(*)::int AS n FROM ifpp.bpps GROUP BY 1 ORDER BY 1')).rows;
    expect(owners).toEqual([
      { s: 'st-1', n: 4 },
      { s: 'st-2', n: 2 },
      { s: null, n: 2 },
    ]);
  });

  it('status shows an expired lease as stale and never releases it; release is audited and refuses a BPP not in flight', async () => {
    const { url, db } = await fresh();
    await migrate(db, url);
    const { batchId } = await importBatchToLine(db, url, f.batchDir, { checks: bppChecks });
    await db.query("INSERT INTO ifpp.stations (station_id, journal_seq, journal_head) VALUES ('st-1', 5, 9)");
    await db.query(
      "UPDATE ifpp.bpps SET state = 1, claim_station = 'st-1', claim_unit = 'u-1', claimed_at = now() - interval '1 hour', lease_until = now() - interval '50 minutes' WHERE position = 0",
    );
    const s = await lineStatus(db, url);
    expect(s.stations).toEqual([expect.objectContaining({ station: 'st-1', inFlight: 1, staleLeases: 1, outboxLag: 4 })]);
    expect(s.inFlight).toEqual([expect.objectContaining({ bpp: `${batchId}#0`, station: 'st-1', unit: 'u-1', stale: true, eid: f.eids[0] })]);
    expect(s.batches[0]!.byState).toMatchObject({ 'in flight': 1 });
    // Reading the status (or the time passing) changed nothing.
    expect((await db.query('SELECT state FROM ifpp.bpps WHERE position = 0')).rows[0].state).toBe(BppState.inFlight);

    await expect(releaseBpp(db, url, { batchId, position: 1 }, { reason: 'test', actor: 'qa', retire: false })).rejects.toMatchObject({ code: 'LINE_NOT_IN_FLIGHT' });
    await expect(releaseBpp(db, url, { batchId, position: 0 }, { reason: ' ', actor: 'qa', retire: false })).rejects.toMatchObject({ code: 'LINE_RELEASE_NO_REASON' });
    const r = await releaseBpp(db, url, { batchId, position: 0 }, { reason: 'station disk lost; chip checked on bench', actor: 'qa', retire: false });
    expect(r.previous).toMatchObject({ station: 'st-1', unit: 'u-1' });
    const row = (await db.query('SELECT state, claim_station, claim_unit FROM ifpp.bpps WHERE position = 0')).rows[0];
    expect(row).toEqual({ state: BppState.failedBeforeSecureChannel, claim_station: null, claim_unit: null });
    const audit = (await db.query('SELECT actor, action, batch_id, position, detail FROM ifpp.audit')).rows;
    expect(audit).toEqual([expect.objectContaining({ actor: 'qa', action: 'release', batch_id: batchId, position: 0, detail: expect.objectContaining({ reason: 'station disk lost; chip checked on bench' }) })]);
  });

  it('the CLI: init, status --json, and an unreachable or uninitialised database is a coded error', async () => {
    const url = await pg.freshDb();
    const ifpp = (...args: string[]) => run(process.execPath, ['bin/ifpp.js', ...args], { env: { ...process.env, IFPP_DB: '' } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const before = await ifpp('line', 'status', '--db', url);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('LINE_DB_NOT_INITIALISED');
    expect((await ifpp('line', 'init', '--db', url)).stdout).toContain('applied 1');
    const st = await ifpp('line', 'status', '--db', url, '--json');
    expect(JSON.parse(st.stdout)).toMatchObject({ schemaVersion: MIGRATIONS.length, stations: [], inFlight: [], batches: [] });
    const gone = await ifpp('line', 'status', '--db', `postgresql://ifpp@${encodeURIComponent(join(pg.dir, 'nowhere'))}/x`);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/LINE_DB_UNREACHABLE: cannot reach the line database/);
    expect(gone.stderr).not.toMatch(/\n\s+at /);
    expect(() => dbUrl(undefined)).toThrow(/--db/);
  });
});
