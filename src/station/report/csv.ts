/**
 * Per-unit traceability CSV (docs/report-format.md): one row per unit attempt, every attempt
 * in the journal (with or without a batch, open ones included), RFC 4180 (CRLF line ends,
 * fields with a comma, quote or line break quoted, quotes doubled).
 */
import { bppFate, stageOf, type UnitAccount } from './accounting.ts';
import { ReportError, ReportFile } from './report-file.ts';

export const CSV_COLUMNS = [
  'unit',
  'slot',
  'attempt',
  'eid',
  'batchId',
  'position',
  'transactionId',
  'iccid',
  'outcome',
  'stage',
  'code',
  'reason',
  'started',
  'ended',
  'millis',
  'pirVerified',
  'settled',
  'finished',
  'repair',
  'bppFate',
] as const;

export type CsvValue = string | number | boolean | null | undefined;

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: readonly CsvValue[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function unitCsvValues(u: UnitAccount): CsvValue[] {
  const reason = u.reason ?? (u.settledBy === 'reconciled' ? `settled at restart: ${u.reconciledHow ?? 'no detail'}` : undefined);
  return [
    u.unit,
    u.slot,
    u.attempt,
    u.eid,
    u.batchId,
    u.position,
    u.transactionId,
    u.iccid,
    u.status,
    // Where it failed; for open and reconciled attempts, where it was when the station stopped.
    u.status === 'installed' ? u.stage : stageOf(u),
    u.code,
    reason,
    u.started,
    u.ended,
    u.millis,
    u.pir ? u.pir.verified : undefined,
    u.settledBy,
    // Installed units: true/false; empty when finishing was not tried (turned off, or not installed).
    u.status === 'installed' ? u.finished : undefined,
    u.repair ? true : undefined,
    // Every attempt's BPP, whatever the unit's later attempts did: a burnt key is never hidden.
    bppFate(u),
  ];
}

/** Writes the CSV of `units` to `<dir>/<base>.csv` (suffixed if taken); returns its path. */
export function writeUnitCsv(dir: string, base: string, units: Iterable<UnitAccount>): Promise<{ path: string; rows: number }> {
  return writeCsv(dir, base, CSV_COLUMNS, units, unitCsvValues);
}

/** Writes a header and one row per item to `<dir>/<base>.csv` (suffixed if taken). */
export async function writeCsv<T>(dir: string, base: string, columns: readonly string[], items: Iterable<T>, values: (item: T) => CsvValue[]): Promise<{ path: string; rows: number }> {
  const file = await ReportFile.create(dir, base, '.csv');
  let rows = 0;
  try {
    await file.write(csvRow(columns));
    for (const item of items) {
      await file.write(csvRow(values(item)));
      rows++;
    }
    return { path: await file.commit(), rows };
  } catch (e) {
    await file.abort();
    if (e instanceof ReportError) throw e;
    throw new ReportError('REPORT_WRITE_FAILED', `cannot write ${base}.csv in ${dir}: ${(e as Error).message}`, {
      hint: 'check free disk space and permissions of the reports folder',
      cause: e,
    });
  }
}
