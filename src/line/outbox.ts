/**
 * A station's outbox to the line database is its own fsync'd journal: every record after the
 * last one the database acknowledged is sent, in order, in chunks; each chunk is one
 * transaction that stores the records, applies the BPP state changes they imply and moves the
 * station's acknowledged seq, so a record's effects are applied exactly once however often
 * the database goes away (docs/line-guide.md, "Offline operation").
 *
 * Effects (each only while the row is in flight for that unit, or for an offline claim of a
 * BPP assigned to this station):
 *   bpp.chosen                 an assigned, loadable, unclaimed BPP becomes in flight for the unit
 *   pir.received               installed (verified success) or failed key burnt
 *   unit.end, unit.reconciled  installed; failed key burnt when bf23.sending was journaled for
 *                              the unit; else loadable again (failed before secure channel)
 *   unit.recovered, unit.reconciled with a recovered PIR
 *                              installed (verified success), also from failed key burnt: the
 *                              chip's signed result outranks a restart that could not ask it
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { JournalRecord } from '../station/journal/journal.ts';
import { BppState } from '../station/store/bpp-store.ts';
import { settleClaim, settleRecoveredClaim } from './settle.ts';
import { dbError, inTransaction, isUnreachable, type Db, type DbClient } from './db.ts';

const CHUNK = 500;

export interface OutboxStatus {
  /** Last seq the database acknowledged. */
  acked: number;
  /** Last seq read from the journal. */
  head: number;
  /** The last round failed because the database is unreachable. */
  offline: boolean;
}

export class JournalOutbox {
  private offset = 0;
  private acked: number | undefined;
  private head = 0;
  private pending: JournalRecord[] = [];
  private offline = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Db,
    private readonly url: string,
    readonly stationId: string,
    private readonly journalPath: string,
    private readonly leaseSeconds = 600,
  ) {}

  status(): OutboxStatus {
    return { acked: this.acked ?? 0, head: this.head, offline: this.offline };
  }

  /** Sends every journaled record not yet acknowledged; resolves with how many were sent. */
  drain(): Promise<number> {
    this.running ??= this.drainOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Drains every `ms` until stop(); failures (database away) are retried at the next tick. */
  start(ms = 1000): void {
    this.timer = setInterval(() => void this.drain().catch(() => undefined), ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async drainOnce(): Promise<number> {
    try {
      if (this.acked === undefined) {
        await this.db.query('INSERT INTO ifpp.stations (station_id) VALUES ($1) ON CONFLICT DO NOTHING', [this.stationId]);
        const r = await this.db.query<{ journal_seq: string }>('SELECT journal_seq FROM ifpp.stations WHERE station_id = $1', [this.stationId]);
        this.acked = Number(r.rows[0]!.journal_seq);
        // After a failed round the commit may or may not have happened: the database decides.
        this.pending = this.pending.filter((p) => p.seq > this.acked!);
      }
      this.readNew();
      let sent = 0;
      while (this.pending.length) {
        const chunk = this.pending.slice(0, CHUNK);
        await inTransaction(this.db, (c) => this.send(c, chunk));
        this.pending.splice(0, chunk.length);
        this.acked = chunk[chunk.length - 1]!.seq;
        sent += chunk.length;
      }
      await this.db.query('UPDATE ifpp.stations SET journal_head = greatest(journal_head, $2), seen_at = now() WHERE station_id = $1', [this.stationId, this.head]);
      this.offline = false;
      return sent;
    } catch (e) {
      if (isUnreachable(e)) this.offline = true;
      this.acked = undefined;
      throw dbError(e, this.url);
    }
  }

  /** Reads complete lines appended since the last read (a torn last line waits for the next). */
  private readNew(): void {
    let fd: number;
    try {
      fd = openSync(this.journalPath, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      const text = buf.subarray(0, n).toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return;
      this.offset += Buffer.byteLength(text.slice(0, end + 1));
      for (const line of text.slice(0, end).split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line) as JournalRecord;
        this.head = Math.max(this.head, r.seq);
        if (r.seq > (this.acked ?? 0)) this.pending.push(r);
      }
    } finally {
      closeSync(fd);
    }
  }

  private async send(c: DbClient, records: JournalRecord[]): Promise<void> {
    const st = this.stationId;
    await c.query(
      `INSERT INTO ifpp.journal (station_id, seq, at, type, unit, record)
       SELECT $1, s, a, t, u, r FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[]) AS x(s, a, t, u, r)
       ON CONFLICT DO NOTHING`,
      [st, records.map((r) => r.seq), records.map((r) => r.at), records.map((r) => r.type), records.map((r) => (typeof r.unit === 'string' ? r.unit : null)), records.map((r) => JSON.stringify(r))],
    );
    for (const r of records) {
      const unit = typeof r.unit === 'string' ? r.unit : undefined;
      const ref = typeof r.batchId === 'string' && typeof r.position === 'number' ? { batchId: r.batchId, position: r.position } : undefined;
      if (!unit || !ref) continue;
      if (r.type === 'bpp.chosen') {
        await c.query(
          `UPDATE ifpp.bpps SET state = 1, claim_station = $3, claim_unit = $4, claimed_at = $5, lease_until = now() + $6::interval, updated_at = now()
            WHERE batch_id = $1 AND position = $2 AND state IN (0, 4) AND claim_unit IS NULL AND assigned_station = $3`,
          [ref.batchId, ref.position, st, unit, r.at, `${this.leaseSeconds} seconds`],
        );
      } else if (r.type === 'pir.received') {
        await settleClaim(c, ref, unit, r.verified === true && r.installed === true ? BppState.installed : BppState.failedKeyBurnt);
      } else if (r.type === 'unit.recovered' || (r.type === 'unit.reconciled' && r.recovered === true)) {
        // A PIR recovered from the chip overrides the failed-key-burnt a restart left (settleRecovered).
        if (r.outcome === 'installed') await settleRecoveredClaim(c, ref, unit);
      } else if (r.type === 'unit.end' || r.type === 'unit.reconciled') {
        if (r.outcome === 'installed') await settleClaim(c, ref, unit, BppState.installed);
        else {
          const sent = await c.query("SELECT 1 FROM ifpp.journal WHERE station_id = $1 AND unit = $2 AND type = 'bf23.sending' LIMIT 1", [st, unit]);
          await settleClaim(c, ref, unit, sent.rowCount ? BppState.failedKeyBurnt : BppState.failedBeforeSecureChannel);
        }
      }
    }
    await c.query('UPDATE ifpp.stations SET journal_seq = $2, journal_head = greatest(journal_head, $2), seen_at = now() WHERE station_id = $1', [st, records[records.length - 1]!.seq]);
  }
}
