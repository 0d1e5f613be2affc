/**
 * `ifpp report` without the command line: reads the journal once (streaming), accounts every
 * unit attempt, then writes the Profile Loading Reports and the traceability CSV.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isIfppError } from '../../core/errors.ts';
import type { StationConfig } from '../config/schema.ts';
import { journalPath } from '../journal/paths.ts';
import { BppStore } from '../store/bpp-store.ts';
import { UnitAccountant, type Accounting } from './accounting.ts';
import { writeUnitCsv } from './csv.ts';
import { safeFileName, writePlrs, type SmdpfIdentity, type WrittenPlr } from './plr.ts';
import { describeSequenceProblem, scanJournal } from '../journal/scan.ts';
import { fileStamp, ReportError } from './report-file.ts';
import { slotReport, writeSlotCsv, type SlotReport, type SlotReportConfig } from '../metrics/slot-report.ts';

export interface ReportRequest {
  config: Pick<StationConfig, 'name' | 'journal' | 'store' | 'reports'> & SlotReportConfig;
  /** Only this batch: its PLR, and CSV rows of its attempts. */
  batch?: string;
  /** Default: config.reports. */
  outDir?: string;
  /** Report time (generatedAt and file names). Default: now. */
  now?: Date;
}

export interface ReportRun {
  journal: { path: string; records: number; tornTail: boolean; lastSeq: number | null };
  accounting: Accounting;
  plrs: WrittenPlr[];
  csv: { path: string; rows: number };
  /** Per-slot figures over the journal (every batch: a slot's yield is not per batch) and their CSV. */
  slots: SlotReport;
  slotsCsv: { path: string; rows: number };
  /** Batches with attempts in the journal that the store does not hold: their PLR has smdpf null. */
  batchesNotInStore: string[];
  warnings: string[];
}

/** SM-DPf identities of the batches in the store, without creating a store where there is none. */
function storeIdentities(storeDir: string, warnings: string[]): Map<string, SmdpfIdentity> {
  const ids = new Map<string, SmdpfIdentity>();
  if (!existsSync(join(storeDir, 'batches'))) return ids;
  let store: BppStore | undefined;
  try {
    store = BppStore.open(storeDir);
    for (const id of store.batchIds()) {
      const m = store.manifest(id);
      ids.set(id, m.smdpf.oid === undefined ? { name: m.smdpf.name } : { name: m.smdpf.name, oid: m.smdpf.oid });
    }
  } catch (e) {
    warnings.push(`the BPP store ${storeDir} could not be read (${isIfppError(e) ? e.describe() : (e as Error).message}); reports name no SM-DPf`);
  } finally {
    store?.close();
  }
  return ids;
}

export async function generateReports(req: ReportRequest): Promise<ReportRun> {
  const path = journalPath(req.config);
  const accountant = new UnitAccountant();
  const scan = await scanJournal(path, (r) => accountant.add(r));
  const accounting = accountant.result();
  const warnings: string[] = [];
  for (const p of scan.sequenceProblems) warnings.push(`journal ${path} ${describeSequenceProblem(p)} (JOURNAL_SEQUENCE: records were duplicated or reordered; keep a copy and check that only one station writes this journal)`);
  const identities = storeIdentities(req.config.store, warnings);

  const inJournal = new Set(accounting.units.flatMap((u) => (u.batchId === undefined ? [] : [u.batchId])));
  if (req.batch !== undefined && !inJournal.has(req.batch) && !identities.has(req.batch)) {
    const known = [...new Set([...inJournal, ...identities.keys()])].sort();
    throw new ReportError('REPORT_UNKNOWN_BATCH', `batch ${req.batch} is neither in the journal nor in the store`, {
      hint: known.length ? `known batches: ${known.join(', ')}` : 'no batch has been imported or loaded yet',
    });
  }
  const batchesNotInStore = [...inJournal].filter((b) => !identities.has(b) && (req.batch === undefined || b === req.batch)).sort();
  for (const b of batchesNotInStore) warnings.push(`batch ${b} is not in the store ${req.config.store}: its report names no SM-DPf`);

  const now = req.now ?? new Date();
  const stamp = fileStamp(now);
  const outDir = req.outDir ?? req.config.reports;
  const journal = { path, lastSeq: accounting.lastSeq ?? null, tornTail: scan.tornTail };
  const plrs = await writePlrs(accounting, {
    outDir,
    stationName: req.config.name,
    generatedAt: now,
    journal,
    smdpfOf: (id) => identities.get(id),
    stamp,
    ...(req.batch !== undefined ? { batch: req.batch } : {}),
  });
  const units = req.batch === undefined ? accounting.units : accounting.units.filter((u) => u.batchId === req.batch);
  const csv = await writeUnitCsv(outDir, req.batch === undefined ? `units-${stamp}` : `units-${safeFileName(req.batch)}-${stamp}`, units);
  const slots = slotReport(req.config, accounting.units);
  const slotsCsv = await writeSlotCsv(outDir, `slots-${stamp}`, slots);
  return { journal: { ...journal, records: scan.records }, accounting, plrs, csv, slots, slotsCsv, batchesNotInStore, warnings };
}

