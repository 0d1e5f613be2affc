/**
 * The line database's schema, as versioned migrations. `migrate` applies the ones a database
 * lacks, each in its own transaction, under an advisory lock so that two `ifpp line init` (or
 * stations starting at once) never apply one twice; running it again changes nothing.
 * Migrations are append-only: a released one is never edited, a change is a new version.
 */
import { dbError, type Db } from './db.ts';
import { LineError } from './errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** BppState numbers are the local store's (station/store/bpp-store.ts), so both read alike. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inventory, eUICC data, station journals, audit',
    sql: `
CREATE TABLE ifpp.batches (
  batch_id     text PRIMARY KEY,
  smdpf_name   text NOT NULL,
  smdpf_oid    text,
  manifest     jsonb NOT NULL,          -- the stored manifest (station/store/manifest.ts)
  imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ifpp.bpps (
  batch_id         text NOT NULL REFERENCES ifpp.batches,
  position         integer NOT NULL,    -- record number in the batch index (as in the local store)
  eid              bytea NOT NULL,
  otpk             bytea NOT NULL,
  transaction_id   bytea NOT NULL,
  iccid            bytea NOT NULL,
  sha256           bytea NOT NULL,
  bpp              bytea,               -- NULL: metadata-only inventory (benchmarks)
  state            smallint NOT NULL,
  assigned_station text,                -- pre-assigned for offline work: only this station claims it
  claim_station    text,                -- who holds the in-flight claim
  claim_unit       text,                -- the unit attempt that holds it
  claimed_at       timestamptz,
  lease_until      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch_id, position)
);
CREATE INDEX bpps_eid ON ifpp.bpps (eid);
CREATE INDEX bpps_in_flight ON ifpp.bpps (claim_station) WHERE state = 1;
CREATE INDEX bpps_assigned ON ifpp.bpps (assigned_station) WHERE assigned_station IS NOT NULL;
CREATE TABLE ifpp.rejections (
  batch_id text NOT NULL REFERENCES ifpp.batches,
  line     integer NOT NULL,
  eid      text,
  code     text NOT NULL,
  reason   text NOT NULL,
  PRIMARY KEY (batch_id, line)
);
CREATE TABLE ifpp.euicc_sets (
  name        text PRIMARY KEY,
  info        jsonb NOT NULL,           -- header: EUM, curve, EUM and CI certificates
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ifpp.euicc_certs (
  eid        bytea NOT NULL,
  set_name   text NOT NULL REFERENCES ifpp.euicc_sets,
  cert_euicc bytea NOT NULL,
  PRIMARY KEY (eid, set_name)
);
CREATE TABLE ifpp.stations (
  station_id  text PRIMARY KEY,
  seen_at     timestamptz NOT NULL DEFAULT now(),
  journal_seq bigint NOT NULL DEFAULT 0,   -- last journal record received from its outbox
  journal_head bigint NOT NULL DEFAULT 0,  -- last journal record it reported writing (lag = head - seq)
  info        jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE ifpp.journal (
  station_id text NOT NULL,
  seq        bigint NOT NULL,
  at         timestamptz NOT NULL,
  type       text NOT NULL,
  unit       text,
  record     jsonb NOT NULL,
  PRIMARY KEY (station_id, seq)
);
CREATE TABLE ifpp.audit (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  batch_id text,
  position integer,
  detail   jsonb NOT NULL DEFAULT '{}'
);
`,
  },
  {
    version: 2,
    name: 'claim function: one EID at a time, SKIP LOCKED',
    sql: `
-- One round trip per claim. Under a transaction-scoped advisory lock on the EID, a chip with an
-- unsettled attempt by another unit gets no new BPP (its in-flight rows come back as
-- 'unsettled'); otherwise one loadable row bound to one of its unused keys, not assigned to
-- another station and not excluded, is set in flight for this unit. SKIP LOCKED keeps a claim
-- from waiting on a row another transaction is changing (a release, a settlement).
CREATE FUNCTION ifpp.claim_bpp(p_eid bytea, p_otpks bytea[], p_station text, p_unit text, p_excluded text[], p_preferred text[], p_lease interval)
RETURNS TABLE (kind text, batch_id text, pos integer, otpk bytea, transaction_id bytea, iccid bytea, claim_station text, claim_unit text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(encode(p_eid, 'hex'), 8089));
  RETURN QUERY
    SELECT 'unsettled'::text, b.batch_id, b.position, b.otpk, b.transaction_id, b.iccid, b.claim_station, b.claim_unit
      FROM ifpp.bpps b WHERE b.eid = p_eid AND b.state = 1 AND b.claim_unit IS DISTINCT FROM p_unit;
  IF FOUND THEN RETURN; END IF;
  RETURN QUERY
    WITH c AS (
      SELECT b.batch_id, b.position FROM ifpp.bpps b
       WHERE b.eid = p_eid AND b.state IN (0, 4) AND b.otpk = ANY (p_otpks)
         AND (b.assigned_station IS NULL OR b.assigned_station = p_station)
         AND NOT (b.batch_id || '#' || b.position = ANY (p_excluded))
       ORDER BY (b.batch_id = ANY (p_preferred)) DESC, b.batch_id, b.position
       LIMIT 1 FOR UPDATE SKIP LOCKED)
    UPDATE ifpp.bpps u SET state = 1, claim_station = p_station, claim_unit = p_unit, claimed_at = now(),
           lease_until = now() + p_lease, updated_at = now()
      FROM c WHERE u.batch_id = c.batch_id AND u.position = c.position
    RETURNING 'claimed'::text, u.batch_id, u.position, u.otpk, u.transaction_id, u.iccid, u.claim_station, u.claim_unit;
END
$fn$;
`,
  },
];

/** Any fixed number: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 0x1f99_0001;

export interface MigrateResult {
  applied: number[];
  version: number;
}

export async function migrate(db: Db, url: string): Promise<MigrateResult> {
  let c;
  try {
    c = await db.connect();
  } catch (e) {
    throw dbError(e, url);
  }
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await c.query('CREATE SCHEMA IF NOT EXISTS ifpp');
    await c.query('CREATE TABLE IF NOT EXISTS ifpp.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const have = new Set((await c.query<{ version: number }>('SELECT version FROM ifpp.migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...have);
    const known = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    if (newest > known) {
      throw new LineError('LINE_SCHEMA_NEWER', `the line database has schema version ${newest}; this ifpp knows up to ${known}`, {
        hint: 'update ifpp on this machine to the version the line runs',
      });
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (have.has(m.version)) continue;
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await c.query('INSERT INTO ifpp.migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw new LineError('LINE_MIGRATION_FAILED', `schema migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
      }
      applied.push(m.version);
    }
    return { applied, version: known };
  } catch (e) {
    throw dbError(e, url);
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    c.release();
  }
}

/** Refuses a database that `line init` has not brought to this version. */
export async function requireSchema(db: Db, url: string): Promise<void> {
  let v: number;
  try {
    const r = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM ifpp.migrations');
    v = r.rows[0]?.v ?? 0;
  } catch (e) {
    throw dbError(e, url);
  }
  const known = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (v < known) throw new LineError('LINE_DB_NOT_INITIALISED', `the line database is at schema version ${v}, this ifpp needs ${known}`, { hint: 'run ifpp line init --db URL' });
  if (v > known) throw new LineError('LINE_SCHEMA_NEWER', `the line database has schema version ${v}; this ifpp knows up to ${known}`, { hint: 'update ifpp on this machine' });
}
