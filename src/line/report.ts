/**
 * `ifpp line report`: the Profile Loading Report per batch and the unit CSV across every
 * station of the line, from the station journals their outboxes delivered, with the same
 * accounting and the same writers as `ifpp report` (station/report). A slot is named
 * "station/slot" so units of different stations stay apart in the CSV.
 */
import type { JournalRecord } from '../station/journal/journal.ts';
import { UnitAccountant, type Accounting } from '../station/report/accounting.ts';
import { writeUnitCsv } from '../station/report/csv.ts';
import { writePlrs, type SmdpfIdentity, type WrittenPlr } from '../station/report/plr.ts';
import { fileStamp } from '../station/report/report-file.ts';
import { dbError, redactUrl, type Db } from './db.ts';

export interface LineReportRun {
  accounting: Accounting;
  plrs: WrittenPlr[];
  csv: { path: string; rows: number };
  stations: string[];
  /** Stations whose outbox has not delivered everything they journaled. */
  lagging: { station: string; lag: number }[];
}

const PAGE = 5000;

export async function lineReport(db: Db, url: string, o: { outDir: string; now?: Date; lineName?: string }): Promise<LineReportRun> {
  const accountant = new UnitAccountant();
  const smdpf = new Map<string, SmdpfIdentity>();
  let stations: { station_id: string; journal_seq: string; journal_head: string }[];
  let n = 0;
  try {
    for (const r of (await db.query<{ batch_id: string; smdpf_name: string; smdpf_oid: string | null }>('SELECT batch_id, smdpf_name, smdpf_oid FROM ifpp.batches')).rows) {
      smdpf.set(r.batch_id, r.smdpf_oid === null ? { name: r.smdpf_name } : { name: r.smdpf_name, oid: r.smdpf_oid });
    }
    stations = (await db.query<{ station_id: string; journal_seq: string; journal_head: string }>('SELECT station_id, journal_seq, journal_head FROM ifpp.stations ORDER BY station_id')).rows;
    // Keyset pages, station by station in journal order: memory grows with units, not records.
    let after: [string, string] = ['', '0'];
    for (;;) {
      const page = await db.query<{ station_id: string; seq: string; record: JournalRecord }>(
        'SELECT station_id, seq, record FROM ifpp.journal WHERE (station_id, seq) > ($1, $2::bigint) ORDER BY station_id, seq LIMIT $3',
        [after[0], after[1], PAGE],
      );
      for (const row of page.rows) {
        const r = row.record;
        // One running number across the line: per-station seqs overlap.
        accountant.add({ ...r, seq: ++n, ...(typeof r.slot === 'string' ? { slot: `${row.station_id}/${r.slot}` } : {}) });
      }
      if (page.rows.length < PAGE) break;
      const last = page.rows[page.rows.length - 1]!;
      after = [last.station_id, last.seq];
    }
  } catch (e) {
    throw dbError(e, url);
  }
  const accounting = accountant.result();
  const now = o.now ?? new Date();
  const stamp = fileStamp(now);
  const plrs = await writePlrs(accounting, {
    outDir: o.outDir,
    stationName: o.lineName ?? 'line',
    generatedAt: now,
    journal: { path: `${redactUrl(url)} (ifpp.journal, ${stations.length} station${stations.length === 1 ? '' : 's'})`, lastSeq: n || null, tornTail: false },
    smdpfOf: (id) => smdpf.get(id),
    stamp,
  });
  const csv = await writeUnitCsv(o.outDir, `units-line-${stamp}`, accounting.units);
  return {
    accounting,
    plrs,
    csv,
    stations: stations.map((s) => s.station_id),
    lagging: stations.filter((s) => Number(s.journal_head) > Number(s.journal_seq)).map((s) => ({ station: s.station_id, lag: Number(s.journal_head) - Number(s.journal_seq) })),
  };
}
