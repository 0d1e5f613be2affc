/**
 * Profile Loading Report (format `ifpp-plr/1`, docs/report-format.md): the project's stand-in
 * for SGP.41 ESBPP03, what the device maker sends back to the SM-DPf. One file per batch: the
 * eUICC-signed PIRs exactly as received (the SM-DPf verifies them itself) and every FPA-side
 * failure. Attempts that never got a BPP have no batch and go to a station-level
 * "unassigned" report, so no unit is left out.
 *
 * Each attempt appears exactly once per file: in `results` when the chip answered with a PIR
 * (or it was settled as installed), otherwise in `failures` — open attempts included, with
 * outcome "open". Skipped attempts (a chip not for this station, eidPolicy.unknownEid "skip")
 * are in no PLR: no BPP and no SM-DPf is involved, and they are not failures. The CSV has them.
 */
import { fromHex } from '../../core/bytes.ts';
import { decodePir } from '../../core/rsp/pir.ts';
import { emptyCounts, keyBurnt, stageOf, type Accounting, type UnitAccount, type UnitStatus } from './accounting.ts';
import { ReportError, ReportFile } from './report-file.ts';

export const PLR_FORMAT = 'ifpp-plr/1';

export interface PlrCounts {
  installed: number;
  failedKeyBurnt: number;
  failedBeforeSecureChannel: number;
  noBpp: number;
  unreachable: number;
  interrupted: number;
  unknown: number;
  open: number;
}

/**
 * Statuses a PLR can hold: every one but `skipped` and `already-provisioned` (nothing was
 * loaded and no key used: nothing for the SM-DPf; both stay in the CSV and in `ifpp report`).
 */
export type PlrStatus = Exclude<UnitStatus, 'skipped' | 'already-provisioned'>;

const COUNT_KEY: Record<PlrStatus, keyof PlrCounts> = {
  installed: 'installed',
  'failed-key-burnt': 'failedKeyBurnt',
  'failed-before-secure-channel': 'failedBeforeSecureChannel',
  'no-bpp': 'noBpp',
  unreachable: 'unreachable',
  interrupted: 'interrupted',
  unknown: 'unknown',
  open: 'open',
};

export function plrCounts(units: Iterable<UnitAccount>): PlrCounts {
  const c = emptyCounts();
  for (const u of units) c[u.status]++;
  const out = {} as PlrCounts;
  for (const [status, key] of Object.entries(COUNT_KEY)) out[key] = c[status as PlrStatus];
  return out;
}

/** Whether an attempt belongs in a Profile Loading Report at all (see the module comment). */
export function inPlr(u: UnitAccount): boolean {
  return u.status !== 'skipped' && u.status !== 'already-provisioned';
}

export interface PlrResult {
  unit: string;
  slot: string | null;
  eid: string | null;
  position: number | null;
  transactionId: string | null;
  iccid?: string;
  outcome: UnitStatus;
  /** base64 of the BF37 exactly as received; null only for an attempt settled as installed without one. */
  pir: string | null;
  pirVerifiedByStation: boolean;
  verifyCode?: string;
  errorResult?: { bppCommandId: string | null; errorReason: string | null };
  settledBy: UnitAccount['settledBy'];
  at: string;
  /**
   * Installed units: true when the chip was finished (unused one-time keys deleted, FPA services
   * closed), false when finishing failed (finishCode says why), null when it was not tried.
   */
  finished?: boolean | null;
  finishCode?: string;
  /** Present (true) for a repair at a bench reader. */
  repair?: true;
  /**
   * Present (true) when the PIR was not received live but read back from the chip's
   * notification list after the station stopped mid-load (and checked the same way).
   */
  recovered?: true;
}

export interface PlrFailure {
  unit: string;
  slot: string | null;
  eid?: string;
  position?: number;
  transactionId?: string;
  iccid?: string;
  outcome: UnitStatus;
  stage: string;
  code: string | null;
  reason: string | null;
  settledBy: UnitAccount['settledBy'];
  at: string;
  keyBurnt: boolean | 'unknown';
  /** Present (true) for a repair at a bench reader. */
  repair?: true;
}

export type PlrEntry = { kind: 'result'; entry: PlrResult } | { kind: 'failure'; entry: PlrFailure };

/** Base64 of the journaled PIR, and its ICCID when the chip put one in notificationMetadata. */
function pirFields(hex: string): { base64: string | null; iccid?: string } {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(hex);
  } catch {
    return { base64: null };
  }
  const base64 = Buffer.from(bytes).toString('base64');
  try {
    const iccid = decodePir(bytes).notificationMetadata.iccid;
    return iccid === undefined ? { base64 } : { base64, iccid };
  } catch {
    return { base64 }; // still forwarded verbatim: the SM-DPf judges it
  }
}

const OPEN_REASON: Record<UnitAccount['lastStep'], string> = {
  started: 'started',
  identified: 'chip identified',
  'bpp-chosen': 'BPP chosen, BF23 not sent',
  'bf23-sending': 'BF23 sent, no result journaled',
  'pir-received': 'PIR received, unit not ended',
};

/** Results hold what the chip answered (or installs settled without an answer); the rest are failures. */
export function isResult(u: UnitAccount): boolean {
  return u.pir !== undefined || u.status === 'installed';
}

/** Where one attempt goes in a PLR, and what it says there. */
export function plrEntry(u: UnitAccount): PlrEntry {
  if (isResult(u)) {
    const p = u.pir ? pirFields(u.pir.hex) : { base64: null };
    const iccid = u.iccid ?? p.iccid;
    const entry: PlrResult = {
      unit: u.unit,
      slot: u.slot ?? null,
      eid: u.eid ?? null,
      position: u.position ?? null,
      transactionId: u.transactionId ?? null,
      ...(iccid !== undefined ? { iccid } : {}),
      outcome: u.status,
      pir: p.base64,
      pirVerifiedByStation: u.pir !== undefined && u.pir.verified && p.base64 !== null,
      ...(u.pir?.verifyCode !== undefined ? { verifyCode: u.pir.verifyCode } : {}),
      ...(u.pir && !u.pir.installed ? { errorResult: { bppCommandId: u.pir.bppCommandId ?? null, errorReason: u.pir.errorReason ?? null } } : {}),
      settledBy: u.settledBy,
      at: u.pir?.at ?? u.ended ?? u.lastAt,
      ...(u.status === 'installed' ? { finished: u.finished ?? null, ...(u.finishCode !== undefined ? { finishCode: u.finishCode } : {}) } : {}),
      ...(u.repair ? { repair: true as const } : {}),
      ...(u.pir?.recovered ? { recovered: true as const } : {}),
    };
    return { kind: 'result', entry };
  }
  let code = u.code ?? null;
  let reason = u.reason ?? null;
  if (u.status === 'open') {
    code = 'UNIT_OPEN';
    reason = `in flight when the station stopped, not reconciled yet (last journaled: ${OPEN_REASON[u.lastStep]})`;
  } else if (u.settledBy === 'reconciled') {
    code ??= 'RECONCILED';
    reason ??= `settled at restart: ${u.reconciledHow ?? 'no detail'}`;
  }
  const entry: PlrFailure = {
    unit: u.unit,
    slot: u.slot ?? null,
    ...(u.eid !== undefined ? { eid: u.eid } : {}),
    ...(u.position !== undefined ? { position: u.position } : {}),
    ...(u.transactionId !== undefined ? { transactionId: u.transactionId } : {}),
    ...(u.iccid !== undefined ? { iccid: u.iccid } : {}),
    outcome: u.status,
    stage: stageOf(u),
    code,
    reason,
    settledBy: u.settledBy,
    at: u.ended ?? u.lastAt,
    keyBurnt: keyBurnt(u),
    ...(u.repair ? { repair: true as const } : {}),
  };
  return { kind: 'failure', entry };
}

export interface SmdpfIdentity {
  name: string;
  oid?: string;
}

export interface PlrHeader {
  /** null: the station-level report of attempts that never got a BPP. */
  batchId: string | null;
  /** From the batch manifest in the store; null when unassigned or the batch is not in the store. */
  smdpf: SmdpfIdentity | null;
  stationName: string;
  generatedAt: Date;
  journal: { path: string; lastSeq: number | null; tornTail: boolean };
}

export interface WrittenPlr {
  path: string;
  batchId: string | null;
  smdpf: SmdpfIdentity | null;
  counts: PlrCounts;
  results: number;
  failures: number;
}

function period(units: readonly UnitAccount[]): { from: string | null; to: string | null } {
  let from: string | undefined;
  let to: string | undefined;
  for (const u of units) {
    const a = u.started ?? u.firstAt;
    const b = u.lastAt;
    if (from === undefined || a < from) from = a;
    if (to === undefined || b > to) to = b;
  }
  return { from: from ?? null, to: to ?? null };
}

/**
 * Writes one PLR with the given attempts into `file`. Entries are written one per line as
 * they are formatted, so the output never exists as one big string.
 */
export async function writePlr(file: ReportFile, header: PlrHeader, units: readonly UnitAccount[]): Promise<Omit<WrittenPlr, 'path'>> {
  const counts = plrCounts(units);
  const head = {
    format: PLR_FORMAT,
    batchId: header.batchId,
    smdpf: header.smdpf,
    station: { name: header.stationName },
    generatedAt: header.generatedAt.toISOString(),
    period: period(units),
    journal: header.journal,
    counts,
  };
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  await file.write(`{\n${lines.join(',\n')},\n`);
  let results = 0;
  let failures = 0;
  // Two passes keep results and failures each in journal order without buffering either list.
  for (const kind of ['result', 'failure'] as const) {
    await file.write(`  ${JSON.stringify(kind === 'result' ? 'results' : 'failures')}: [`);
    let n = 0;
    for (const u of units) {
      if (isResult(u) !== (kind === 'result')) continue;
      await file.write(`${n++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(plrEntry(u).entry)}`);
    }
    await file.write(n === 0 ? ']' : '\n  ]');
    await file.write(kind === 'result' ? ',\n' : '\n}\n');
    if (kind === 'result') results = n;
    else failures = n;
  }
  return { batchId: header.batchId, smdpf: header.smdpf, counts, results, failures };
}

export interface PlrWriteOptions {
  outDir: string;
  stationName: string;
  generatedAt: Date;
  journal: PlrHeader['journal'];
  /** The SM-DPf of a batch, from the store; undefined when the store does not hold it. */
  smdpfOf: (batchId: string) => SmdpfIdentity | undefined;
  /** Only this batch (no unassigned report). */
  batch?: string;
  /** File name time stamp (see fileStamp). */
  stamp: string;
}

/** Batch ids from the store are already safe; a damaged journal's may not be. */
export function safeFileName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || '_';
}

/** Attempts grouped by batch (sorted by batch id), and those without one; skipped ones in neither. */
export function groupByBatch(acc: Accounting): { batches: Map<string, UnitAccount[]>; unassigned: UnitAccount[] } {
  const batches = new Map<string, UnitAccount[]>();
  const unassigned: UnitAccount[] = [];
  for (const u of acc.units) {
    if (!inPlr(u)) continue;
    if (u.batchId === undefined) {
      unassigned.push(u);
      continue;
    }
    let list = batches.get(u.batchId);
    if (!list) batches.set(u.batchId, (list = []));
    list.push(u);
  }
  return { batches: new Map([...batches].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), unassigned };
}

/**
 * Writes `plr-<batchId>-<stamp>.json` for every batch with attempts in the journal (or only
 * `opts.batch`, even when it has none), and `plr-unassigned-<stamp>.json` when attempts
 * without a batch exist and no batch filter is set.
 */
export async function writePlrs(acc: Accounting, opts: PlrWriteOptions): Promise<WrittenPlr[]> {
  const { batches, unassigned } = groupByBatch(acc);
  const jobs: Array<{ batchId: string | null; units: UnitAccount[] }> = [];
  if (opts.batch !== undefined) {
    jobs.push({ batchId: opts.batch, units: batches.get(opts.batch) ?? [] });
  } else {
    for (const [batchId, units] of batches) jobs.push({ batchId, units });
    if (unassigned.length) jobs.push({ batchId: null, units: unassigned });
  }
  const out: WrittenPlr[] = [];
  for (const job of jobs) {
    const name = job.batchId === null ? 'unassigned' : safeFileName(job.batchId);
    const file = await ReportFile.create(opts.outDir, `plr-${name}-${opts.stamp}`, '.json');
    try {
      const smdpf = job.batchId === null ? null : (opts.smdpfOf(job.batchId) ?? null);
      const header: PlrHeader = { batchId: job.batchId, smdpf, stationName: opts.stationName, generatedAt: opts.generatedAt, journal: opts.journal };
      const written = await writePlr(file, header, job.units);
      out.push({ path: await file.commit(), ...written });
    } catch (e) {
      await file.abort();
      if (e instanceof ReportError) throw e;
      throw new ReportError('REPORT_WRITE_FAILED', `cannot write the report for ${job.batchId ?? 'unassigned units'}: ${(e as Error).message}`, {
        hint: 'check free disk space and permissions of the reports folder',
        cause: e,
      });
    }
  }
  return out;
}
