/**
 * The end of every line fault test (issue 16): after the fault and the rest of the shift,
 *   1. every chip holds at most one profile (the simulated chips' own state),
 *   2. every BPP is in exactly one final state (no row left in flight; a chip's profile is the
 *      one BPP row of that chip that says installed, and no installed row lacks its chip),
 *   3. `line report` matches the chips: nothing open, nothing pushed twice, every outbox
 *      drained, the PLRs' results and the CSV's installed units are exactly the chips holding
 *      a profile (EID and transactionId), and every PIR verifies with the chip's CERT.EUICC.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Db } from '../../src/line/db.ts';
import { lineReport, type LineReportRun } from '../../src/line/report.ts';
import { decodePir } from '../../src/core/rsp/pir.ts';
import { fromHex } from '../../src/core/bytes.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { verifyPir } from '../../src/station/fpa/verify-pir.ts';
import type { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { csvObjects } from './csv.ts';

/** EID (upper-case hex) → transactionIds (lower-case hex) of the profiles the chip holds. */
export type ChipProfiles = Map<string, string[]>;

/** The profiles of every simulated chip whose state is kept in `stateDir` (`<EID>.json`). */
export function chipProfiles(stateDir: string): ChipProfiles {
  const out: ChipProfiles = new Map();
  if (!existsSync(stateDir)) return out;
  for (const f of readdirSync(stateDir).filter((n) => /^[0-9A-Fa-f]{32}\.json$/.test(n))) {
    const s = JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as { eid: string; profiles: { transactionId?: string }[] };
    out.set(s.eid.toUpperCase(), s.profiles.map((p) => (p.transactionId ?? '').toLowerCase()));
  }
  return out;
}

export interface PlrResult {
  eid: string;
  slot: string;
  pir: string;
  transactionId: string;
}

export interface LineCheck {
  report: LineReportRun;
  /** Every batch's PLR results. */
  results: PlrResult[];
  profiles: ChipProfiles;
}

const hex = (b: Buffer): string => Buffer.from(b).toString('hex');

/**
 * The three-part check, strict: a chip moved after its station was killed past BF23 is settled
 * installed from its install notification (test/line/line-crash-moved.test.ts), so no allowance.
 */
export async function checkLine(db: Db, url: string, o: { chips: ChipProfiles; outDir: string; trust: EuiccTrust; label?: string }): Promise<LineCheck> {
  // 1. At most one profile per chip.
  const over = [...o.chips].filter(([, p]) => p.length > 1);
  expect(over, 'chips holding more than one profile').toEqual([]);
  const onChips = new Map([...o.chips].filter(([, p]) => p.length === 1).map(([eid, p]) => [eid, p[0]!]));

  // 2. Every BPP final; the installed rows are the chips' profiles.
  const rows = (await db.query<{ eid: Buffer; state: number; transaction_id: Buffer; batch_id: string; position: number }>('SELECT eid, state, transaction_id, batch_id, position FROM ifpp.bpps')).rows;
  expect(
    rows.filter((r) => r.state === BppState.inFlight).map((r) => `${r.batch_id}#${r.position}`),
    'BPPs left in flight',
  ).toEqual([]);
  const installed = new Map<string, string>();
  for (const r of rows.filter((x) => x.state === BppState.installed)) {
    const eid = hex(r.eid).toUpperCase();
    expect(installed.has(eid), `chip ${eid} has two BPPs installed`).toBe(false);
    installed.set(eid, hex(r.transaction_id));
  }
  const unsettled = [...onChips].filter(([eid, tx]) => installed.get(eid) !== tx);
  expect(unsettled.map(([e]) => e), 'chips whose profile is not their installed BPP').toEqual([]);
  for (const [eid, tx] of installed) expect(onChips.get(eid), `installed BPP of chip ${eid} is the profile it holds`).toBe(tx);
  const settled = new Map([...onChips].filter(([eid]) => installed.has(eid)));

  // 3. The line report matches the chips.
  const report = await lineReport(db, url, { outDir: o.outDir });
  expect(report.accounting.duplicatesPushed).toEqual([]);
  expect(report.accounting.open.map((u) => u.unit), 'attempts left open').toEqual([]);
  expect(report.lagging, 'outboxes not drained').toEqual([]);
  const results = report.plrs.filter((p) => p.batchId !== null).flatMap((p) => (JSON.parse(readFileSync(p.path, 'utf8')) as { results: PlrResult[] }).results);
  const sorted = (m: Iterable<[string, string]>) => [...m].map(([e, t]) => `${e}:${t.toLowerCase()}`).sort();
  expect(sorted(results.map((r) => [r.eid.toUpperCase(), r.transactionId])), 'PLR results = chips holding their installed profile').toEqual(sorted(settled));
  const csvInstalled = csvObjects(report.csv.path).filter((r) => r.outcome === 'installed');
  expect(sorted(csvInstalled.map((r): [string, string] => [(r.eid ?? '').toUpperCase(), r.transactionId ?? ''])), 'CSV installed units = chips holding their installed profile').toEqual(sorted(settled));
  for (const r of results) {
    const pir = decodePir(new Uint8Array(Buffer.from(r.pir, 'base64')));
    expect(verifyPir(pir, o.trust.certificateFor(r.eid), fromHex(r.transactionId)), `PIR of ${r.eid}`).toEqual({ ok: true, installed: true });
  }
  return { report, results, profiles: o.chips };
}
