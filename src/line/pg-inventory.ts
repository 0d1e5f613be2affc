/**
 * The station's BPP inventory in the line's PostgreSQL database (docs/line-guide.md). A claim
 * is one call of ifpp.claim_bpp (schema.ts), committed before the station journals anything
 * about the BPP; every later state change is conditional on this unit still holding the
 * claim, so a claim taken over (moved chip, audited release) is never overwritten. A heartbeat
 * renews the leases of this station's in-flight rows; an expired lease releases nothing.
 */
import type { QueryResultRow } from 'pg';
import { bytesEqual, toHex } from '../core/bytes.ts';
import { BppState } from '../station/store/bpp-store.ts';
import { batchCiKeyId } from '../station/store/batch-trust.ts';
import type { BatchManifest } from '../core/formats/batch-manifest.ts';
import type { BppRef, ClaimRequest, ClaimResult, Inventory, InventoryBpp, InventoryNotice, UnsettledAttempt } from '../station/inventory/inventory.ts';
import { dbError, inTransaction, isUnreachable, openDb, redactUrl, type Db } from './db.ts';
import { LineError } from './errors.ts';
import { requireSchema } from './schema.ts';
import { settleClaim, settleRecoveredClaim } from './settle.ts';
import { AssignedCache } from './assigned-cache.ts';

export interface PgInventoryOptions {
  url: string;
  stationId: string;
  /** Lease on an in-flight claim, renewed by the heartbeat (default 600 s). */
  leaseSeconds?: number;
  /** Heartbeat period (default 15 s); 0: none (tests drive heartbeat()). */
  heartbeatSeconds?: number;
  /** Pool size (default 4: claims are short). */
  connections?: number;
  /** Folder for the copy of the BPPs assigned to this station (offline loading); none: no copy. */
  cacheDir?: string;
  /**
   * When the database is unreachable at open: start from the copy of this station's assigned
   * BPPs saved by an earlier run (LINE_OFFLINE notice) instead of failing; the start completes
   * when the database first answers.
   */
  offlineStart?: boolean;
}

interface ClaimRow {
  kind: 'claimed' | 'unsettled';
  batch_id: string;
  pos: number;
  otpk: Buffer;
  transaction_id: Buffer;
  iccid: Buffer;
  claim_station: string | null;
  claim_unit: string | null;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export class PgInventory implements Inventory {
  readonly kind = 'postgres' as const;
  private manifests = new Map<string, BatchManifest>();
  private tally = new Map<string, Record<BppState, number>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly lease: string;
  private readonly cache: AssignedCache | undefined;
  /** The last database call failed because the server is unreachable. */
  private offline = false;
  /** The start's database steps are done (false after an offline start until the database answers). */
  private ready = false;

  private constructor(
    private readonly db: Db,
    private readonly o: PgInventoryOptions,
  ) {
    this.lease = `${o.leaseSeconds ?? 600} seconds`;
    this.cache = o.cacheDir ? new AssignedCache(o.cacheDir) : undefined;
  }

  static async open(o: PgInventoryOptions): Promise<PgInventory> {
    const db = openDb(o.url, { max: o.connections ?? 4 });
    const inv = new PgInventory(db, o);
    try {
      await inv.goOnline();
    } catch (e) {
      const saved = o.offlineStart && isUnreachable(e) ? inv.cache?.load(o.stationId) : undefined;
      if (!saved) {
        await db.end().catch(() => undefined);
        if (o.offlineStart && isUnreachable(e)) {
          throw new LineError('LINE_DB_UNREACHABLE', `cannot reach the line database ${redactUrl(o.url)} and station ${o.stationId} has no copy of its assigned BPPs yet: ${(e as Error).message}`, {
            hint: 'a line station needs the database once (schema check, eUICC data, its assigned BPPs) before it can start without it: start it when the database is reachable',
            cause: e,
          });
        }
        throw dbError(e, o.url);
      }
      inv.manifests = saved.manifests;
      inv.offline = true;
      inv.notice({
        code: 'LINE_OFFLINE',
        message: `started without the line database (${(e as Error).message}): loading only the ${saved.chips} chips whose BPPs are assigned to this station (${saved.count} BPPs, its copy of ${saved.savedAt}); other chips wait until the database is back`,
      });
    }
    const every = o.heartbeatSeconds ?? 15;
    if (every > 0) {
      inv.timer = setInterval(() => void inv.tick().catch(() => undefined), every * 1000);
      inv.timer.unref();
    }
    return inv;
  }

  /** Schema check, registration, manifests and the copy of the assigned BPPs: once per run. */
  private async goOnline(): Promise<void> {
    await requireSchema(this.db, this.o.url);
    await this.heartbeat();
    await this.refresh();
    await this.cache?.refresh(this.db, this.o.stationId, this.manifests);
    this.ready = true;
  }

  /** The heartbeat's round: after an offline start, the first one that reaches the database finishes the start. */
  private async tick(): Promise<void> {
    if (!this.ready) {
      await this.reconnect();
      return;
    }
    try {
      await this.heartbeat();
      await this.refresh();
      await this.cache?.refresh(this.db, this.o.stationId, this.manifests);
      for (const fn of this.roundHooks) await fn();
    } catch (e) {
      if (isUnreachable(e)) this.setOffline(true, (e as Error).message);
      throw e;
    }
    this.setOffline(false);
  }

  private roundHooks: Array<() => Promise<void>> = [];

  /** Runs `fn` at every heartbeat round that reaches the database (after the start's). */
  onHeartbeat(fn: () => Promise<void>): void {
    this.roundHooks.push(fn);
  }

  private reconnecting: Promise<void> | undefined;

  /** Started offline: completes the start (and what waited for it) once the database answers. */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      try {
        await this.goOnline();
        for (const fn of this.onlineHooks.splice(0)) await fn();
        this.setOffline(false);
      } catch (e) {
        if (isUnreachable(e)) this.setOffline(true, (e as Error).message);
        throw dbError(e, this.o.url);
      } finally {
        this.reconnecting = undefined;
      }
    })();
    return this.reconnecting;
  }

  /**
   * Runs `fn` once the station is online: now, when the database answered at start; else when
   * it first answers (an offline start). The station's start tasks that need the database.
   */
  async whenOnline(fn: () => Promise<void>): Promise<void> {
    if (this.ready) await fn();
    else this.onlineHooks.push(fn);
  }

  private onlineHooks: Array<() => Promise<void>> = [];
  private noticeFns: Array<(n: InventoryNotice) => void> = [];
  private backlog: InventoryNotice[] = [];

  onNotice(fn: (n: InventoryNotice) => void): void {
    this.noticeFns.push(fn);
    for (const n of this.backlog.splice(0)) fn(n);
  }

  /** Tells the station's operator (a station.warning), or keeps it until the station listens. */
  notice(n: InventoryNotice): void {
    if (this.noticeFns.length === 0) this.backlog.push(n);
    for (const f of this.noticeFns) f(n);
  }

  private setOffline(off: boolean, why?: string): void {
    if (off === this.offline) return;
    this.offline = off;
    this.notice(
      off
        ? { code: 'LINE_DB_UNREACHABLE', message: `the line database is unreachable${why ? ` (${why})` : ''}: loading only chips assigned to this station (${this.cache?.size ?? 0} BPPs left); results queue in the journal` }
        : { code: 'LINE_DB_BACK', message: 'the line database is reachable again: every chip can be loaded; the journal outbox sends what queued' },
    );
  }

  /** Unit attempts that claimed in this run (their claims are never orphans). */
  readonly unitsThisRun = new Set<string>();

  /** The pool, for the station's outbox and eUICC copy. */
  get database(): Db {
    return this.db;
  }

  private closers: Array<() => Promise<void>> = [];

  /** Runs before the pool closes (the outbox's last drain). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /**
   * In-flight claims of this station whose unit its journal never names: it stopped between
   * the claim and bpp.chosen, so nothing was sent for them. Given back, audited.
   */
  async releaseOrphans(journaledUnits: ReadonlySet<string>): Promise<number> {
    try {
      return await inTransaction(this.db, async (c) => {
        const r = await c.query<{ batch_id: string; position: number; claim_unit: string }>(
          'SELECT batch_id, position, claim_unit FROM ifpp.bpps WHERE state = 1 AND claim_station = $1 FOR UPDATE',
          [this.o.stationId],
        );
        let n = 0;
        for (const row of r.rows) {
          if (journaledUnits.has(row.claim_unit)) continue;
          await settleClaim(c, { batchId: row.batch_id, position: row.position }, row.claim_unit, BppState.failedBeforeSecureChannel);
          await c.query('INSERT INTO ifpp.audit (actor, action, batch_id, position, detail) VALUES ($1, $2, $3, $4, $5)', [
            `station ${this.o.stationId}`,
            'release-unjournaled-claim',
            row.batch_id,
            row.position,
            JSON.stringify({ unit: row.claim_unit, why: 'claimed, then the station stopped before journaling bpp.chosen: nothing was sent' }),
          ]);
          n++;
        }
        return n;
      });
    } catch (e) {
      throw dbError(e, this.o.url);
    }
  }

  get stationId(): string {
    return this.o.stationId;
  }

  /** BPPs this station's journal already names ("batch/position"): the offline copy never offers them. */
  noteJournaled(keys: Iterable<string>): void {
    for (const k of keys) this.cache?.claimed.add(k);
  }

  /** Registers the station, marks it alive and renews the leases of its in-flight claims. */
  async heartbeat(journalHead?: number): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO ifpp.stations (station_id, journal_head) VALUES ($1, coalesce($2, 0))
         ON CONFLICT (station_id) DO UPDATE SET seen_at = now(), journal_head = greatest(ifpp.stations.journal_head, coalesce($2, 0))`,
        [this.o.stationId, journalHead ?? null],
      );
      await this.db.query(`UPDATE ifpp.bpps SET lease_until = now() + $2::interval WHERE state = 1 AND claim_station = $1`, [this.o.stationId, this.lease]);
    } catch (e) {
      throw dbError(e, this.o.url);
    }
  }

  /** Batch manifests and counts per state (the UI's stock figures). */
  async refresh(): Promise<void> {
    try {
      const b = await this.db.query<{ batch_id: string; manifest: BatchManifest }>('SELECT batch_id, manifest FROM ifpp.batches');
      for (const r of b.rows) this.manifests.set(r.batch_id, r.manifest);
      const c = await this.db.query<{ batch_id: string; state: number; n: string }>('SELECT batch_id, state, count(*) AS n FROM ifpp.bpps GROUP BY 1, 2');
      const t = new Map<string, Record<BppState, number>>();
      for (const r of c.rows) {
        let x = t.get(r.batch_id);
        if (!x) t.set(r.batch_id, (x = { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }));
        x[r.state as BppState] = Number(r.n);
      }
      this.tally = t;
    } catch (e) {
      throw dbError(e, this.o.url);
    }
  }

  manifest(batchId: string): BatchManifest {
    const m = this.manifests.get(batchId);
    if (!m) throw new LineError('LINE_UNKNOWN_BATCH', `batch ${batchId} is not in the line inventory`);
    return m;
  }

  counts(): Map<string, Record<BppState, number>> {
    return new Map([...this.tally].map(([k, v]) => [k, { ...v }]));
  }

  async findByEid(eid: Uint8Array): Promise<InventoryBpp[]> {
    const r = await this.q<{ batch_id: string; position: number; otpk: Buffer; transaction_id: Buffer; iccid: Buffer; state: number; claim_unit: string | null; claim_station: string | null }>(
      'SELECT batch_id, position, otpk, transaction_id, iccid, state, claim_unit, claim_station FROM ifpp.bpps WHERE eid = $1 ORDER BY batch_id, position',
      [Buffer.from(eid)],
    );
    return r.map((x) => ({
      batchId: x.batch_id,
      position: x.position,
      eid,
      otpk: u8(x.otpk),
      transactionId: u8(x.transaction_id),
      iccid: u8(x.iccid),
      state: x.state as BppState,
      claimUnit: x.claim_unit,
      claimStation: x.claim_station,
    }));
  }

  async claim(req: ClaimRequest): Promise<ClaimResult> {
    if (this.manifests.size === 0) await this.refresh();
    const preferred = [...this.manifests.keys()].filter((id) => {
      const ski = batchCiKeyId(this, id);
      return ski !== undefined && req.trustedCis.some((t) => bytesEqual(t, ski));
    });
    this.unitsThisRun.add(req.unit);
    if (!this.ready) await this.reconnect().catch(() => undefined);
    let rows: ClaimRow[];
    try {
      if (!this.ready) throw new LineError('LINE_DB_UNREACHABLE', 'the station has not reached the line database since it started');
      rows = (
        // Named: each pooled connection parses and plans the call once.
        await this.db.query<ClaimRow>({
          name: 'ifpp-claim',
          text: 'SELECT * FROM ifpp.claim_bpp($1, $2::bytea[], $3, $4, $5::text[], $6::text[], $7::interval)',
          values: [
            Buffer.from(req.eid),
            req.unusedOtpks.map((k) => Buffer.from(k)),
            this.o.stationId,
            req.unit,
            // ifpp.claim_bpp names a BPP "batch#position".
            [...req.excluded].map((k) => k.replace(/\/(\d+)$/, '#$1')),
            preferred,
            this.lease,
          ],
        })
      ).rows;
    } catch (e) {
      if (!isUnreachable(e)) throw dbError(e, this.o.url);
      this.setOffline(true, (e as Error).message);
      // Offline: only a BPP assigned to this station (its claim at station level is already durable).
      const own = this.cache?.pick(req);
      if (!own) return { kind: 'unavailable', reason: `line database unreachable: ${(e as Error).message}` };
      this.cache!.claimed.add(`${own.batchId}/${own.position}`);
      return { kind: 'claimed', bpp: { ...own, eid: req.eid, state: BppState.inFlight } };
    }
    this.setOffline(false);
    if (rows.length === 0) return { kind: 'none' };
    if (rows[0]!.kind === 'unsettled') {
      return {
        kind: 'unsettled',
        attempts: rows.map((r) => ({ batchId: r.batch_id, position: r.pos, otpk: u8(r.otpk), transactionId: u8(r.transaction_id), iccid: u8(r.iccid), station: r.claim_station, unit: r.claim_unit })),
      };
    }
    const r = rows[0]!;
    this.cache?.claimed.add(`${r.batch_id}/${r.pos}`);
    if (!this.manifests.has(r.batch_id)) await this.refresh();
    return { kind: 'claimed', bpp: { batchId: r.batch_id, position: r.pos, eid: req.eid, otpk: u8(r.otpk), transactionId: u8(r.transaction_id), iccid: u8(r.iccid), state: BppState.inFlight } };
  }

  async inFlight(): Promise<void> {
    // Already in flight and durable since claim().
  }

  async readBpp(b: InventoryBpp): Promise<Uint8Array> {
    if (this.cache?.has(b)) return this.cache.read(b);
    const r = await this.q<{ bpp: Buffer | null }>('SELECT bpp FROM ifpp.bpps WHERE batch_id = $1 AND position = $2', [b.batchId, b.position]);
    const bytes = r[0]?.bpp;
    if (!bytes) throw new LineError('LINE_BPP_NO_BYTES', `BPP ${b.batchId}#${b.position} has no bytes in the line inventory (imported --metadata-only?)`, { hint: 'import the batch with its BPPs' });
    return u8(bytes);
  }

  async stateOf(b: BppRef): Promise<BppState | undefined> {
    // Offline, a BPP this station claimed from its copy is in flight as far as it knows.
    if (this.offline && this.cache?.claimed.has(`${b.batchId}/${b.position}`)) return BppState.inFlight;
    const r = await this.q<{ state: number }>('SELECT state FROM ifpp.bpps WHERE batch_id = $1 AND position = $2', [b.batchId, b.position]);
    return r[0] ? (r[0].state as BppState) : undefined;
  }

  async settle(b: BppRef, state: BppState, unit: string): Promise<void> {
    try {
      await settleClaim(this.db, b, unit, state);
    } catch (e) {
      // Every settlement follows a journaled record the outbox replays once the database is back.
      if (isUnreachable(e)) {
        this.setOffline(true, (e as Error).message);
        return;
      }
      throw dbError(e, this.o.url);
    }
  }

  async settleRecovered(b: BppRef, unit: string, by: string): Promise<boolean> {
    try {
      return await inTransaction(this.db, async (c) => {
        if (!(await settleRecoveredClaim(c, b, unit))) return false;
        await c.query('INSERT INTO ifpp.audit (actor, action, batch_id, position, detail) VALUES ($1, $2, $3, $4, $5)', [
          `station ${this.o.stationId}`,
          'settle-recovered-pir',
          b.batchId,
          b.position,
          JSON.stringify({ by, unit, why: "the chip's install notification for this transaction verified: installed" }),
        ]);
        return true;
      });
    } catch (e) {
      // Journaled first: the outbox replays the settlement once the database is back.
      if (isUnreachable(e)) {
        this.setOffline(true, (e as Error).message);
        return false;
      }
      throw dbError(e, this.o.url);
    }
  }

  async settleMoved(a: UnsettledAttempt, chip: { keyUsed: boolean; profileListed: boolean }, by: string): Promise<'installed' | 'retired' | 'already-settled'> {
    const installed = chip.keyUsed && chip.profileListed;
    const state = installed ? BppState.installed : BppState.failedKeyBurnt;
    try {
      return await inTransaction(this.db, async (c) => {
        const r = await c.query(
          `UPDATE ifpp.bpps SET state = $4, lease_until = NULL, updated_at = now()
            WHERE batch_id = $1 AND position = $2 AND state = 1 AND claim_unit IS NOT DISTINCT FROM $3`,
          [a.batchId, a.position, a.unit, state],
        );
        if (r.rowCount === 0) return 'already-settled' as const;
        await c.query('INSERT INTO ifpp.audit (actor, action, batch_id, position, detail) VALUES ($1, $2, $3, $4, $5)', [
          `station ${this.o.stationId}`,
          'settle-moved-chip',
          a.batchId,
          a.position,
          JSON.stringify({ by, previous: { station: a.station, unit: a.unit }, otpk: toHex(a.otpk), keyUsed: chip.keyUsed, profileListed: chip.profileListed, newState: state }),
        ]);
        return installed ? ('installed' as const) : ('retired' as const);
      });
    } catch (e) {
      throw dbError(e, this.o.url);
    }
  }

  private async q<T extends object>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      return (await this.db.query<T & QueryResultRow>(sql, params)).rows;
    } catch (e) {
      throw dbError(e, this.o.url);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const f of this.closers.splice(0)) await f().catch(() => undefined);
    await this.db.end().catch(() => undefined);
  }
}
