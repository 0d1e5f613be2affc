/**
 * Reports from the station journal: journals written with the real Journal class, records as
 * the orchestrator writes them (records.ts), including a crash (torn tail, an attempt left in
 * flight) and the restart that reconciles it. Checks the Profile Loading Reports per batch,
 * the unassigned report, the traceability CSV, exactly-once accounting and double-push
 * detection, and `ifpp report` run as a user runs it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { makeEid } from '../../src/core/rsp/eid.ts';
import { encodePir } from '../../src/core/rsp/pir.ts';
import { Journal, JournalError, type JournalRecord } from '../../src/station/journal/journal.ts';
import { journalPath } from '../../src/station/journal/paths.ts';
import type {
  Bf23SendingRecord,
  BppChosenRecord,
  PirReceivedRecord,
  StationRecord,
  UnitEndRecord,
  UnitIdentifiedRecord,
  UnitReconciledRecord,
  UnitStartRecord,
} from '../../src/station/journal/records.ts';
import { accountUnits, type Accounting } from '../../src/station/report/accounting.ts';
import { csvField } from '../../src/station/report/csv.ts';
import { generateReports } from '../../src/station/report/generate.ts';
import { PLR_FORMAT } from '../../src/station/report/plr.ts';
import { scanJournal } from '../../src/station/journal/scan.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { createEumWorld } from '../../src/sim/eum/eum-tool.ts';
import { writeEumWorld } from '../../src/sim/eum/write-eum.ts';
import { bindBatch } from '../../src/sim/smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../../src/sim/smdpf/identity.ts';
import { loadProfileSource } from '../../src/sim/smdpf/profile-source.ts';
import { csvObjects } from '../helpers/csv.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `ifpp-report-${p}-`));

type Rec<T> = Omit<T, 'type'>;

/** Appends records the way the orchestrator does, one typed helper per record kind. */
class Writer {
  constructor(readonly j: Journal) {}
  station(kind: 'station.start' | 'station.stop', r: Rec<StationRecord>) {
    return this.j.append(kind, { ...r });
  }
  start(r: Rec<UnitStartRecord>) {
    return this.j.append('unit.start', { ...r });
  }
  identified(r: Rec<UnitIdentifiedRecord>) {
    return this.j.append('unit.identified', { ...r });
  }
  chosen(r: Rec<BppChosenRecord>) {
    return this.j.append('bpp.chosen', { ...r });
  }
  bf23(r: Rec<Bf23SendingRecord>) {
    return this.j.append('bf23.sending', { ...r });
  }
  pir(r: Rec<PirReceivedRecord>) {
    return this.j.append('pir.received', { ...r });
  }
  end(r: Rec<UnitEndRecord>) {
    return this.j.append('unit.end', { ...r });
  }
  reconciled(r: Rec<UnitReconciledRecord>) {
    return this.j.append('unit.reconciled', { ...r });
  }
}

const eid = (n: number) => makeEid(`8904903200000000000000000${String(n).padStart(5, '0')}`);
const tid = () => toHex(randomBytes(16));

/** A BF37 as a chip returns it: signed (arbitrary bytes here, the report never verifies). */
function pirHex(transactionId: string, iccid: string, ok: boolean): string {
  const bytes = encodePir(
    {
      transactionId: fromHex(transactionId),
      notificationMetadata: { seqNumber: 1, profileManagementOperation: [0], notificationAddress: 'smdpf.example', iccid },
      finalResult: ok ? { kind: 'success', aid: fromHex('a0000005591010ffffffff8900001000') } : { kind: 'error', bppCommandId: 1, errorReason: 8 },
    },
    () => new Uint8Array(randomBytes(64)),
  );
  return toHex(bytes);
}

interface Loaded {
  unit: string;
  eid: string;
  transactionId: string;
  iccid: string;
  pir: string;
}

/** One attempt through to a PIR (success or error) and its unit.end. */
async function load(w: Writer, unit: string, slot: string, n: number, batchId: string, position: number, ok: boolean, attempt = 1): Promise<Loaded> {
  const e = eid(n);
  const transactionId = tid();
  const iccid = `894944999999${String(1000 + position).padStart(6, '0')}${n % 10}`;
  const pir = pirHex(transactionId, iccid, ok);
  await w.start({ unit, slot, attempt });
  await w.identified({ unit, slot, eid: e, unusedKeys: 2 });
  await w.chosen({ unit, slot, eid: e, batchId, position, transactionId, otpk: '04' + '11'.repeat(64), iccid });
  await w.bf23({ unit, batchId, position, transactionId });
  await w.pir({
    unit,
    batchId,
    position,
    eid: e,
    transactionId,
    pir,
    verified: true,
    installed: ok,
    ...(ok ? {} : { bppCommandId: 'configureISDP', errorReason: 'scp03tSecurityError' }),
  });
  await w.end({
    unit,
    slot,
    eid: e,
    batchId,
    position,
    transactionId,
    outcome: ok ? 'installed' : 'failed-key-burnt',
    ...(ok ? { stage: 'post-check' } : { stage: 'load', code: 'PIR_ERROR', reason: 'error in configureISDP(1): scp03tSecurityError(8)' }),
    millis: 1500,
  });
  return { unit, eid: e, transactionId, iccid, pir };
}

const FAIL_REASON = 'chip said "keyAlreadyUsed", refused';
const MULTILINE_REASON = 'no ATR\nafter 3 tries';

interface Scenario {
  path: string;
  loaded: Record<string, Loaded>;
  openTid: string;
}

/** Session 1: every kind of outcome, then a crash leaving u9 in flight and a torn last line. */
async function session1(path: string): Promise<Scenario> {
  const { journal } = await Journal.open(path);
  const w = new Writer(journal);
  await w.station('station.start', { station: 'Line 3', config: '/etc/ifpp/line3.json' });
  const loaded: Record<string, Loaded> = {};
  loaded.u1 = await load(w, 'u1', 'A1', 1, 'B1', 0, true);
  loaded.u2 = await load(w, 'u2', 'A2', 2, 'B1', 1, true);
  loaded.u3 = await load(w, 'u3', 'A3', 3, 'B2', 0, true);
  loaded.u4 = await load(w, 'u4', 'A4', 4, 'B1', 2, false);
  // Failed before the secure channel: BPP chosen, PrepareFactoryLoad refused.
  await w.start({ unit: 'u5', slot: 'B1', attempt: 1 });
  await w.identified({ unit: 'u5', slot: 'B1', eid: eid(5), unusedKeys: 1 });
  await w.chosen({ unit: 'u5', slot: 'B1', eid: eid(5), batchId: 'B2', position: 1, transactionId: 'aa'.repeat(16), otpk: '04' + '22'.repeat(64) });
  await w.end({ unit: 'u5', slot: 'B1', eid: eid(5), batchId: 'B2', position: 1, outcome: 'failed-before-secure-channel', stage: 'prepare', code: 'PREPARE_REFUSED', reason: FAIL_REASON, millis: 300 });
  // No BPP for this chip.
  await w.start({ unit: 'u6', slot: 'B2', attempt: 1 });
  await w.identified({ unit: 'u6', slot: 'B2', eid: eid(6), unusedKeys: 3 });
  await w.end({ unit: 'u6', slot: 'B2', eid: eid(6), outcome: 'no-bpp', stage: 'choose', code: 'NO_BPP', reason: 'no BPP in the store for this EID', millis: 200 });
  // Unreachable: no ATR.
  await w.start({ unit: 'u7', slot: 'B3', attempt: 1 });
  await w.end({ unit: 'u7', slot: 'B3', outcome: 'unreachable', stage: 'activate', code: 'NO_ATR', reason: MULTILINE_REASON, millis: 900 });
  // Interrupted by the e-stop before identification.
  await w.start({ unit: 'u8', slot: 'B4', attempt: 1 });
  await w.end({ unit: 'u8', slot: 'B4', outcome: 'interrupted', stage: 'identify', code: 'ESTOP', reason: 'emergency stop', millis: 50 });
  // In flight when the station is killed: BF23 announced, nothing after.
  const openTid = tid();
  await w.start({ unit: 'u9', slot: 'A1', attempt: 1 });
  await w.identified({ unit: 'u9', slot: 'A1', eid: eid(9), unusedKeys: 2 });
  await w.chosen({ unit: 'u9', slot: 'A1', eid: eid(9), batchId: 'B2', position: 2, transactionId: openTid, otpk: '04' + '33'.repeat(64) });
  await w.bf23({ unit: 'u9', batchId: 'B2', position: 2, transactionId: openTid });
  await journal.close();
  appendFileSync(path, '{"seq":99,"at":"2025-01-01T00:00:00.000Z","type":"unit.end","unit":"u9","outc'); // killed mid-write
  return { path, loaded, openTid };
}

/** The restart: u9 reconciled (the chip was gone), then u4's chip retried on a fresh key. */
async function session2(s: Scenario): Promise<void> {
  const { journal, existing } = await Journal.open(s.path);
  expect(existing.tornTail).toBe(true);
  const w = new Writer(journal);
  await w.station('station.start', { station: 'Line 3', config: '/etc/ifpp/line3.json' });
  await w.reconciled({ unit: 'u9', eid: eid(9), batchId: 'B2', position: 2, transactionId: s.openTid, outcome: 'unknown', how: 'chip no longer in slot A1; key state cannot be read' });
  s.loaded.u10 = await load(w, 'u10', 'A4', 4, 'B1', 3, true, 2);
  await w.station('station.stop', { station: 'Line 3', config: '/etc/ifpp/line3.json', reason: 'end of shift' });
  await journal.close();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const readJson = (p: string): Json => JSON.parse(readFileSync(p, 'utf8'));

function config(root: string) {
  return { name: 'Line 3', journal: join(root, 'journal'), store: join(root, 'store'), reports: join(root, 'reports') };
}

describe('journal scenario with a crash and a restart', () => {
  const root = tmp('scenario');
  const cfg = config(root);
  let s: Scenario;
  let before: Accounting;

  beforeAll(async () => {
    s = await session1(journalPath(cfg));
    before = accountUnits((await Journal.read(s.path)).records);
  });

  it('journalPath puts journal.ndjson in the configured folder', () => {
    expect(journalPath(cfg)).toBe(join(cfg.journal, 'journal.ndjson'));
  });

  it('scanJournal streams exactly what Journal.read returns, torn tail included', async () => {
    const seen: JournalRecord[] = [];
    const scan = await scanJournal(s.path, (r) => seen.push(r));
    const whole = await Journal.read(s.path);
    expect(scan.tornTail).toBe(true);
    expect(whole.tornTail).toBe(true);
    expect(seen).toEqual(whole.records);
    expect(scan.records).toBe(whole.records.length);
  });

  it('before the restart: every attempt once, the in-flight one open, none pushed twice', () => {
    expect(before.units.map((u) => u.unit)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9']);
    expect(before.byOutcome).toEqual({
      installed: 3,
      'failed-key-burnt': 1,
      'failed-before-secure-channel': 1,
      'no-bpp': 1,
      unreachable: 1,
      interrupted: 1,
      unknown: 0,
      skipped: 0,
      'already-provisioned': 0,
      open: 1,
    });
    expect(before.open.map((u) => [u.unit, u.lastStep, u.bf23Sent, u.batchId, u.position])).toEqual([['u9', 'bf23-sending', true, 'B2', 2]]);
    expect(before.duplicatesPushed).toEqual([]);
    expect(before.anomalies).toEqual([]);
    expect(before.stations).toEqual(['Line 3']);
  });

  it('the PLR written before the restart lists the open attempt as a failure with keyBurnt "unknown"', async () => {
    const out = join(root, 'before');
    const run = await generateReports({ config: cfg, outDir: out, now: new Date('2025-03-01T10:00:00Z') });
    expect(run.journal.tornTail).toBe(true);
    const b2 = run.plrs.find((p) => p.batchId === 'B2')!;
    expect(basename(b2.path)).toBe('plr-B2-20250301T100000Z.json');
    expect(b2.counts).toMatchObject({ installed: 1, failedBeforeSecureChannel: 1, open: 1 });
    const plr = readJson(b2.path);
    expect(plr.journal).toEqual({ path: s.path, lastSeq: run.accounting.lastSeq, tornTail: true });
    const open = plr.failures.find((f: Json) => f.unit === 'u9');
    expect(open).toMatchObject({ outcome: 'open', stage: 'load', code: 'UNIT_OPEN', settledBy: 'open', keyBurnt: 'unknown', transactionId: s.openTid, position: 2 });
    expect(open.reason).toMatch(/BF23 sent/);
    expect(run.accounting.open.map((u) => u.unit)).toEqual(['u9']);
  });

  describe('after the restart', () => {
    let acc: Accounting;
    let run: Awaited<ReturnType<typeof generateReports>>;
    const now = new Date('2025-03-01T18:30:05.250Z');

    beforeAll(async () => {
      await session2(s);
      acc = accountUnits((await Journal.read(s.path)).records);
      run = await generateReports({ config: cfg, now });
    });

    it('accounts every attempt exactly once; the reconciled one is settled, not open, not twice', () => {
      const ids = acc.units.map((u) => u.unit);
      expect(ids).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10']);
      expect(new Set(ids).size).toBe(ids.length);
      expect(acc.open).toEqual([]);
      expect(acc.byOutcome).toEqual({
        installed: 4,
        'failed-key-burnt': 1,
        'failed-before-secure-channel': 1,
        'no-bpp': 1,
        unreachable: 1,
        interrupted: 1,
        unknown: 1,
        skipped: 0,
        'already-provisioned': 0,
        open: 0,
      });
      const u9 = acc.units.find((u) => u.unit === 'u9')!;
      expect([u9.status, u9.settledBy, u9.reconciledHow]).toEqual(['unknown', 'reconciled', 'chip no longer in slot A1; key state cannot be read']);
      expect(acc.duplicatesPushed).toEqual([]);
      expect(acc.anomalies).toEqual([]);
    });

    it('writes one PLR per batch and one for units without a BPP, into config.reports', () => {
      expect(run.plrs.map((p) => [basename(p.path), p.batchId])).toEqual([
        ['plr-B1-20250301T183005Z.json', 'B1'],
        ['plr-B2-20250301T183005Z.json', 'B2'],
        ['plr-unassigned-20250301T183005Z.json', null],
      ]);
      expect(readdirSync(cfg.reports).sort()).toEqual(['plr-B1-20250301T183005Z.json', 'plr-B2-20250301T183005Z.json', 'plr-unassigned-20250301T183005Z.json', 'slots-20250301T183005Z.csv', 'units-20250301T183005Z.csv']);
      // No batch is in the (empty) store: said, not hidden.
      expect(run.batchesNotInStore).toEqual(['B1', 'B2']);
      expect(run.warnings.join('\n')).toMatch(/batch B1 is not in the store/);
      // Every attempt is in exactly one report, and once.
      const all = run.plrs.flatMap((p) => {
        const plr = readJson(p.path);
        return [...plr.results, ...plr.failures].map((e: Json) => e.unit as string);
      });
      expect(all.sort()).toEqual(acc.units.map((u) => u.unit).sort());
    });

    it('PLR of batch B1: header, counts, the signed PIRs byte for byte, the key-burnt error', () => {
      const plr = readJson(run.plrs[0]!.path);
      expect(plr).toMatchObject({
        format: PLR_FORMAT,
        batchId: 'B1',
        smdpf: null,
        station: { name: 'Line 3' },
        generatedAt: now.toISOString(),
        counts: { installed: 3, failedKeyBurnt: 1, failedBeforeSecureChannel: 0, noBpp: 0, unreachable: 0, interrupted: 0, unknown: 0, open: 0 },
      });
      expect(plr.period.from <= plr.period.to).toBe(true);
      expect(plr.results.map((r: Json) => r.unit)).toEqual(['u1', 'u2', 'u4', 'u10']);
      expect(plr.failures).toEqual([]);
      for (const r of plr.results) {
        const l = s.loaded[r.unit]!;
        expect(Buffer.from(r.pir, 'base64').toString('hex')).toBe(l.pir);
        expect(r).toMatchObject({ eid: l.eid, transactionId: l.transactionId, iccid: l.iccid, pirVerifiedByStation: true, settledBy: 'end' });
      }
      const u4 = plr.results.find((r: Json) => r.unit === 'u4');
      expect(u4).toMatchObject({ outcome: 'failed-key-burnt', errorResult: { bppCommandId: 'configureISDP', errorReason: 'scp03tSecurityError' }, position: 2 });
      expect(plr.results.find((r: Json) => r.unit === 'u1').errorResult).toBeUndefined();
    });

    it('PLR of batch B2: the refused prepare (key intact) and the reconciled attempt (key unknown)', () => {
      const plr = readJson(run.plrs[1]!.path);
      expect(plr.counts).toEqual({ installed: 1, failedKeyBurnt: 0, failedBeforeSecureChannel: 1, noBpp: 0, unreachable: 0, interrupted: 0, unknown: 1, open: 0 });
      expect(plr.results.map((r: Json) => r.unit)).toEqual(['u3']);
      expect(plr.failures).toEqual([
        expect.objectContaining({ unit: 'u5', eid: eid(5), position: 1, outcome: 'failed-before-secure-channel', stage: 'prepare', code: 'PREPARE_REFUSED', reason: FAIL_REASON, keyBurnt: false, settledBy: 'end' }),
        expect.objectContaining({
          unit: 'u9',
          outcome: 'unknown',
          stage: 'load',
          code: 'RECONCILED',
          reason: 'settled at restart: chip no longer in slot A1; key state cannot be read',
          keyBurnt: 'unknown',
          settledBy: 'reconciled',
          transactionId: s.openTid,
        }),
      ]);
    });

    it('unassigned PLR: no-bpp, unreachable and interrupted units, none dropped', () => {
      const plr = readJson(run.plrs[2]!.path);
      expect(plr).toMatchObject({ format: PLR_FORMAT, batchId: null, smdpf: null, results: [] });
      expect(plr.counts).toEqual({ installed: 0, failedKeyBurnt: 0, failedBeforeSecureChannel: 0, noBpp: 1, unreachable: 1, interrupted: 1, unknown: 0, open: 0 });
      expect(plr.failures.map((f: Json) => [f.unit, f.outcome, f.stage, f.code, f.keyBurnt, f.eid ?? null])).toEqual([
        ['u6', 'no-bpp', 'choose', 'NO_BPP', false, eid(6)],
        ['u7', 'unreachable', 'activate', 'NO_ATR', false, null],
        ['u8', 'interrupted', 'identify', 'ESTOP', false, null],
      ]);
      expect(plr.failures[1].reason).toBe(MULTILINE_REASON);
    });

    it('the CSV has one row per attempt, RFC 4180 quoted, and round-trips every value', () => {
      const text = readFileSync(run.csv.path, 'utf8');
      expect(run.csv.rows).toBe(10);
      expect(text.endsWith('\r\n')).toBe(true);
      expect(text).toContain(',"chip said ""keyAlreadyUsed"", refused",');
      expect(text).toContain(',"no ATR\nafter 3 tries",');
      const rows = csvObjects(run.csv.path);
      expect(rows.map((r) => r.unit)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10']);
      const by = Object.fromEntries(rows.map((r) => [r.unit, r]));
      expect(by.u1).toMatchObject({ slot: 'A1', attempt: '1', eid: eid(1), batchId: 'B1', position: '0', transactionId: s.loaded.u1!.transactionId, iccid: s.loaded.u1!.iccid, outcome: 'installed', millis: '1500', pirVerified: 'true', settled: 'end' });
      expect(by.u1!.started! <= by.u1!.ended!).toBe(true);
      expect(by.u10).toMatchObject({ attempt: '2', batchId: 'B1', position: '3', outcome: 'installed' });
      expect(by.u4).toMatchObject({ outcome: 'failed-key-burnt', stage: 'load', code: 'PIR_ERROR', pirVerified: 'true' });
      expect(by.u5).toMatchObject({ outcome: 'failed-before-secure-channel', reason: FAIL_REASON, pirVerified: '' });
      expect(by.u7).toMatchObject({ outcome: 'unreachable', eid: '', batchId: '', reason: MULTILINE_REASON });
      expect(by.u9).toMatchObject({ outcome: 'unknown', settled: 'reconciled', stage: 'load', millis: '', reason: 'settled at restart: chip no longer in slot A1; key state cannot be read' });
    });

    it('--batch limits the reports to that batch; a second run never overwrites the first', async () => {
      const r1 = await generateReports({ config: cfg, batch: 'B2', now });
      expect(r1.plrs.map((p) => [basename(p.path), p.batchId])).toEqual([['plr-B2-20250301T183005Z-2.json', 'B2']]);
      expect(basename(r1.csv.path)).toBe('units-B2-20250301T183005Z.csv');
      expect(csvObjects(r1.csv.path).map((r) => r.unit)).toEqual(['u3', 'u5', 'u9']);
      // The first B2 report is still there, unchanged.
      expect(readJson(run.plrs[1]!.path).generatedAt).toBe(now.toISOString());
      await expect(generateReports({ config: cfg, batch: 'B9', now })).rejects.toMatchObject({ code: 'REPORT_UNKNOWN_BATCH' });
    });
  });
});

describe('accountUnits', () => {
  const rec = (seq: number, type: string, fields: Record<string, unknown>): JournalRecord => ({ seq, at: `2025-03-01T10:00:${String(seq).padStart(2, '0')}.000Z`, type, ...fields });

  it('lists a BPP announced for BF23 by two different units as pushed twice', () => {
    const acc = accountUnits([
      rec(1, 'unit.start', { unit: 'a', slot: 'A1', attempt: 1 }),
      rec(2, 'bpp.chosen', { unit: 'a', slot: 'A1', eid: eid(1), batchId: 'B1', position: 7, transactionId: 'aa', otpk: '04' }),
      rec(3, 'bf23.sending', { unit: 'a', batchId: 'B1', position: 7, transactionId: 'aa' }),
      rec(4, 'unit.start', { unit: 'b', slot: 'A2', attempt: 1 }),
      rec(5, 'bpp.chosen', { unit: 'b', slot: 'A2', eid: eid(1), batchId: 'B1', position: 7, transactionId: 'aa', otpk: '04' }),
      rec(6, 'bf23.sending', { unit: 'b', batchId: 'B1', position: 7, transactionId: 'aa' }),
      rec(7, 'bf23.sending', { unit: 'b2', batchId: 'B1', position: 8, transactionId: 'bb' }),
    ]);
    expect(acc.duplicatesPushed).toEqual([{ batchId: 'B1', position: 7, sends: [{ unit: 'a', seq: 3 }, { unit: 'b', seq: 6 }] }]);
    // b2 never started: still accounted, as open, with the gap named.
    expect(acc.units.map((u) => [u.unit, u.status])).toEqual([['a', 'open'], ['b', 'open'], ['b2', 'open']]);
    expect(acc.anomalies.map((a) => [a.seq, a.code])).toEqual([[7, 'NO_UNIT_START']]);
  });

  it('a same BPP chosen again after a failure before the secure channel is not a double push', () => {
    const acc = accountUnits([
      rec(1, 'unit.start', { unit: 'a', slot: 'A1', attempt: 1 }),
      rec(2, 'bpp.chosen', { unit: 'a', slot: 'A1', eid: eid(1), batchId: 'B1', position: 3, transactionId: 'aa', otpk: '04' }),
      rec(3, 'unit.end', { unit: 'a', slot: 'A1', outcome: 'failed-before-secure-channel', stage: 'prepare', millis: 5 }),
      rec(4, 'unit.start', { unit: 'b', slot: 'A1', attempt: 2 }),
      rec(5, 'bpp.chosen', { unit: 'b', slot: 'A1', eid: eid(1), batchId: 'B1', position: 3, transactionId: 'aa', otpk: '04' }),
      rec(6, 'bf23.sending', { unit: 'b', batchId: 'B1', position: 3, transactionId: 'aa' }),
      rec(7, 'unit.end', { unit: 'b', slot: 'A1', outcome: 'installed', millis: 5 }),
    ]);
    expect(acc.duplicatesPushed).toEqual([]);
    expect(acc.byOutcome.installed).toBe(1);
    expect(acc.byOutcome['failed-before-secure-channel']).toBe(1);
  });

  it('counts an attempt once even when settled twice; the first settlement wins and the second is named', () => {
    const acc = accountUnits([
      rec(1, 'unit.start', { unit: 'a', slot: 'A1', attempt: 1 }),
      rec(2, 'unit.end', { unit: 'a', slot: 'A1', outcome: 'interrupted', stage: 'identify', millis: 5 }),
      rec(3, 'unit.reconciled', { unit: 'a', outcome: 'unknown', how: 'should not happen' }),
      rec(4, 'unit.start', { unit: 'a', slot: 'A1', attempt: 2 }),
      rec(5, 'unit.end', { unit: 'a', slot: 'A1', outcome: 'exploded', millis: 5 }),
    ]);
    expect(acc.units.map((u) => [u.unit, u.attempt, u.status, u.settledBy])).toEqual([
      ['a', 1, 'interrupted', 'end'],
      ['a', 2, 'unknown', 'end'],
    ]);
    expect(acc.anomalies.map((a) => [a.seq, a.code])).toEqual([
      [3, 'SETTLED_TWICE'],
      [4, 'UNIT_ID_REUSED'],
      [5, 'UNKNOWN_OUTCOME'],
    ]);
    const total = Object.values(acc.byOutcome).reduce((a, b) => a + b, 0);
    expect(total).toBe(acc.units.length);
  });

  it('a reconciled "unknown" is replaced when the chip is seen again; any other second settlement is not', () => {
    const acc = accountUnits([
      rec(1, 'unit.start', { unit: 'a', slot: 'A1', attempt: 1 }),
      rec(2, 'bf23.sending', { unit: 'a', batchId: 'B1', position: 1, transactionId: 'aa' }),
      rec(3, 'unit.reconciled', { unit: 'a', batchId: 'B1', position: 1, outcome: 'unknown', how: 'stopped after BF23' }),
      rec(4, 'unit.reconciled', { unit: 'a', batchId: 'B1', position: 1, outcome: 'failed-key-burnt', how: 'chip seen again: key consumed' }),
      rec(5, 'unit.reconciled', { unit: 'a', batchId: 'B1', position: 1, outcome: 'installed', how: 'should not happen' }),
    ]);
    expect(acc.units.map((u) => [u.unit, u.status, u.settledBy, u.reconciledHow])).toEqual([['a', 'failed-key-burnt', 'reconciled', 'chip seen again: key consumed']]);
    expect(acc.byOutcome['failed-key-burnt']).toBe(1);
    expect(acc.byOutcome.unknown).toBe(0);
    expect(acc.anomalies.map((a) => [a.seq, a.code])).toEqual([[5, 'SETTLED_TWICE']]);
  });

  it('an attempt settled as installed at a later restart, without a PIR, is a result with pir null', async () => {
    const cfg = config(tmp('late-install'));
    const { journal } = await Journal.open(journalPath(cfg));
    const w = new Writer(journal);
    const t = tid();
    await w.start({ unit: 'z', slot: 'A1', attempt: 1 });
    await w.identified({ unit: 'z', slot: 'A1', eid: eid(3), unusedKeys: 1 });
    await w.chosen({ unit: 'z', slot: 'A1', eid: eid(3), batchId: 'B1', position: 4, transactionId: t, otpk: '04' + '44'.repeat(64), iccid: '8949449999990010040' });
    await w.bf23({ unit: 'z', batchId: 'B1', position: 4, transactionId: t });
    await w.reconciled({ unit: 'z', eid: eid(3), batchId: 'B1', position: 4, transactionId: t, outcome: 'unknown', how: 'stopped after BF23' });
    await w.reconciled({ unit: 'z', eid: eid(3), batchId: 'B1', position: 4, transactionId: t, outcome: 'installed', how: 'chip seen again: profile installed' });
    await journal.close();
    const run = await generateReports({ config: cfg, now: new Date('2025-03-01T10:00:00Z') });
    const plr = readJson(run.plrs[0]!.path);
    expect(plr.counts).toMatchObject({ installed: 1, unknown: 0 });
    expect(plr.results).toEqual([
      expect.objectContaining({ unit: 'z', outcome: 'installed', pir: null, pirVerifiedByStation: false, settledBy: 'reconciled', iccid: '8949449999990010040', transactionId: t }),
    ]);
    expect(run.accounting.anomalies).toEqual([]);
  });

  it('an attempt killed between the PIR and unit.end is open in results, its PIR still forwarded', async () => {
    const root = tmp('pir-open');
    const cfg = config(root);
    const { journal } = await Journal.open(journalPath(cfg));
    const w = new Writer(journal);
    const l = await load(w, 'x', 'A1', 1, 'B1', 0, true);
    await journal.close();
    // Drop the unit.end line: the kill came right after pir.received.
    const lines = readFileSync(journalPath(cfg), 'utf8').trimEnd().split('\n');
    writeFileSync(journalPath(cfg), lines.slice(0, -1).join('\n') + '\n');
    const run = await generateReports({ config: cfg, now: new Date('2025-03-01T10:00:00Z') });
    const plr = readJson(run.plrs[0]!.path);
    expect(plr.counts.open).toBe(1);
    expect(plr.results).toEqual([expect.objectContaining({ unit: 'x', outcome: 'open', settledBy: 'open', pir: Buffer.from(fromHex(l.pir)).toString('base64') })]);
    expect(plr.failures).toEqual([]);
  });
});

describe('skipped units (eidPolicy.unknownEid "skip")', () => {
  it('a chip not for this station is settled, in the CSV with its outcome, and in no PLR', async () => {
    const root = tmp('skipped');
    const cfg = config(root);
    const { journal } = await Journal.open(journalPath(cfg));
    const w = new Writer(journal);
    const ours = await load(w, 'a', 'A1', 1, 'B1', 0, true);
    const reason = `not for this station (skipped, left untouched): no BPP in the store is bound to EID ${eid(2)}`;
    await w.start({ unit: 'b', slot: 'A2', attempt: 1 });
    await w.identified({ unit: 'b', slot: 'A2', eid: eid(2), unusedKeys: 2 });
    await w.end({ unit: 'b', slot: 'A2', eid: eid(2), outcome: 'skipped', stage: 'choose', code: 'EID_NOT_FOR_THIS_STATION', reason, millis: 120 });
    await w.start({ unit: 'c', slot: 'A3', attempt: 1 });
    await w.identified({ unit: 'c', slot: 'A3', eid: eid(3), unusedKeys: 0 });
    await w.end({ unit: 'c', slot: 'A3', eid: eid(3), outcome: 'no-bpp', stage: 'choose', code: 'NO_BPP', reason: 'no unused one-time key left', millis: 80 });
    await journal.close();

    const run = await generateReports({ config: cfg, now: new Date('2025-03-01T10:00:00Z') });
    const acc = run.accounting;
    expect(acc.units.map((u) => [u.unit, u.status, u.settledBy])).toEqual([
      ['a', 'installed', 'end'],
      ['b', 'skipped', 'end'],
      ['c', 'no-bpp', 'end'],
    ]);
    expect(acc.byOutcome).toMatchObject({ installed: 1, skipped: 1, 'no-bpp': 1, unknown: 0, open: 0 });
    expect(acc.open).toEqual([]);
    expect(acc.anomalies).toEqual([]);

    const rows = csvObjects(run.csv.path);
    expect(rows.map((r) => r.unit)).toEqual(['a', 'b', 'c']);
    expect(rows[1]).toMatchObject({ slot: 'A2', eid: eid(2), batchId: '', outcome: 'skipped', stage: 'choose', code: 'EID_NOT_FOR_THIS_STATION', reason, millis: '120', settled: 'end', pirVerified: '' });

    // No BPP and no SM-DPf involved: the batch's PLR has only its own unit, and the
    // unassigned report only the real failure.
    expect(run.plrs.map((p) => [p.batchId, p.results, p.failures])).toEqual([
      ['B1', 1, 0],
      [null, 0, 1],
    ]);
    const plrs = run.plrs.map((p) => readJson(p.path));
    expect(plrs.flatMap((p) => [...p.results, ...p.failures]).map((e: { unit: string }) => e.unit)).toEqual([ours.unit, 'c']);
    expect(JSON.stringify(plrs)).not.toContain(eid(2));
    expect(plrs[1].counts).toEqual({ installed: 0, failedKeyBurnt: 0, failedBeforeSecureChannel: 0, noBpp: 1, unreachable: 0, interrupted: 0, unknown: 0, open: 0 });
  });
});

describe('report inputs', () => {
  it('csvField quotes only what RFC 4180 requires', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0)).toBe('0');
    expect(csvField(false)).toBe('false');
  });

  it('a missing journal is a typed error that says why', async () => {
    const cfg = config(tmp('nojournal'));
    await expect(generateReports({ config: cfg })).rejects.toMatchObject({ code: 'JOURNAL_NOT_FOUND' });
  });

  it('a journal corrupted in the middle is refused like Journal.read refuses it', async () => {
    const cfg = config(tmp('corrupt'));
    mkdirSync(cfg.journal, { recursive: true });
    writeFileSync(journalPath(cfg), '{"seq":1,"at":"x","type":"a"}\nnot json\n{"seq":3,"at":"x","type":"c"}\n');
    const e = await generateReports({ config: cfg }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(JournalError);
    expect(e).toMatchObject({ code: 'JOURNAL_CORRUPT' });
    expect(readdirSync(cfg.journal)).toEqual(['journal.ndjson']);
  });

  it('a null record in the journal is JOURNAL_CORRUPT naming the line, not a file-permission error', async () => {
    const cfg = config(tmp('nullrec'));
    mkdirSync(cfg.journal, { recursive: true });
    writeFileSync(journalPath(cfg), '{"seq":1,"at":"x","type":"a"}\nnull\n');
    await expect(generateReports({ config: cfg })).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT', message: expect.stringMatching(/line 2 is null/) });
  });

  it('writes reports group-readable but not world-readable (0640), in a 0750 folder', async () => {
    const cfg = config(tmp('modes'));
    mkdirSync(cfg.journal, { recursive: true });
    writeFileSync(journalPath(cfg), '{"seq":1,"at":"x","type":"station.start","station":"s"}\n');
    const outDir = join(tmp('modes-out'), 'reports');
    const r = await generateReports({ config: cfg, outDir });
    expect(statSync(outDir).mode & 0o777).toBe(0o750);
    expect(statSync(r.csv.path).mode & 0o777).toBe(0o640);
  });

  it('lists repeated or decreasing journal sequence numbers among the report warnings', async () => {
    const cfg = config(tmp('seq'));
    mkdirSync(cfg.journal, { recursive: true });
    writeFileSync(journalPath(cfg), ['{"seq":1,"at":"x","type":"a"}', '{"seq":4,"at":"x","type":"b"}', '{"seq":4,"at":"x","type":"c"}', '{"seq":2,"at":"x","type":"d"}', ''].join('\n'));
    const run = await generateReports({ config: cfg, outDir: tmp('seq-out') });
    const seqWarnings = run.warnings.filter((w) => w.includes('JOURNAL_SEQUENCE'));
    expect(seqWarnings).toEqual([expect.stringMatching(/line 3: seq 4 repeats seq 4/), expect.stringMatching(/line 4: seq 2 is below seq 4/)]);
  });
});

// ------------------------------------------------------------------ the command line

const run = promisify(execFile);
const IFPP = resolve(import.meta.dirname, '../../bin/ifpp.js');

async function ifpp(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [IFPP, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('ifpp report', () => {
  const root = tmp('cli');
  const cfgFile = join(root, 'station.json');
  let batchId: string;
  let smdpfName: string;
  let loaded: Loaded;

  beforeAll(async () => {
    // A minimal valid station: one socket, one bridge; the store holds one real imported batch.
    writeFileSync(
      cfgFile,
      JSON.stringify({
        format: 'ifpp-station/1',
        name: 'CLI test station',
        kind: 'socket-programmer',
        store: 'store',
        journal: 'journal',
        reports: 'reports',
        board: { port: '/dev/null-board' },
        bridges: [{ id: 'b0', port: '/dev/null-bridge', slots: 1 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1, presence: 22 }],
      }),
    );
    const world = createEumWorld({ euiccs: 1, otks: 2, curve: 'nist', smdpfName: 'Test SM-DPf' });
    const worldDir = join(root, 'world');
    writeEumWorld(world, worldDir);
    const euiccData = join(worldDir, 'euicc-data.ndjson');
    const dp = loadSmdpfIdentity(defaultIdentityPaths(euiccData));
    smdpfName = dp.name;
    const bound = await bindBatch({ euiccData, profile: loadProfileSource('synthetic:1000'), dp, out: join(root, 'batch'), perEuicc: 1, iccidStart: '894944999999100001' });
    batchId = bound.batchId;
    const store = BppStore.open(join(root, 'store'));
    await importBatch(store, join(root, 'batch'), { checks: bppChecks });
    store.close();

    const { journal } = await Journal.open(join(root, 'journal', 'journal.ndjson'));
    const w = new Writer(journal);
    await w.station('station.start', { station: 'CLI test station', config: cfgFile });
    loaded = await load(w, 'c1', 'S1', 1, batchId, 0, true);
    await w.start({ unit: 'c2', slot: 'S1', attempt: 1 });
    await w.end({ unit: 'c2', slot: 'S1', outcome: 'unreachable', stage: 'activate', code: 'NO_ATR', reason: 'no ATR', millis: 10 });
    await w.start({ unit: 'c3', slot: 'S1', attempt: 1 });
    await w.end({ unit: 'c3', slot: 'S1', outcome: 'skipped', stage: 'choose', code: 'EID_NOT_FOR_THIS_STATION', reason: 'not for this station', millis: 10 });
    await journal.close();
  });

  it('writes the reports into the configured folder and prints what it wrote', async () => {
    const r = await ifpp(root, 'report', '--config', cfgFile);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(join(root, 'reports')).sort();
    expect(files).toHaveLength(4); // the batch's PLR, the unassigned PLR, units and slots CSVs
    const batchFile = files.find((f) => f.startsWith(`plr-${batchId}-`))!;
    expect(r.stdout).toContain(`wrote reports/${batchFile}: batch ${batchId} (SM-DPf ${smdpfName}): 1 installed`);
    expect(r.stdout).toMatch(/wrote reports\/plr-unassigned-\d{8}T\d{6}Z\.json: units without a BPP: 1 unreachable/);
    expect(r.stdout).toMatch(/wrote reports\/units-\d{8}T\d{6}Z\.csv: 3 unit attempts/);
    expect(r.stdout).toContain('skipped: 1 unit attempt with a chip not for this station');
    expect(r.stdout).toContain('BPPs: 1 loaded, 0 spent without a profile (key used), 0 unknown (sent, no answer yet), 0 given back unused');
    expect(r.stdout).toMatch(/wrote reports\/slots-\d{8}T\d{6}Z\.csv: \d+ slots?/);
    expect(r.stdout).toMatch(/per slot \(whole journal\):\n\s+slot\s+bridge\s+units\s+judged\s+FPY/);
    const plr = readJson(join(root, 'reports', batchFile));
    expect(plr.smdpf.name).toBe(smdpfName);
    expect(plr.station).toEqual({ name: 'CLI test station' });
    expect(Buffer.from(plr.results[0].pir, 'base64').toString('hex')).toBe(loaded.pir);
  });

  it('--json --out prints a summary; --batch of an unknown batch fails with a hint; no --config is a usage error', async () => {
    const out = join(root, 'elsewhere');
    const j = await ifpp(root, 'report', '--config', cfgFile, '--out', out, '--json', '--batch', batchId);
    expect(j.code).toBe(0);
    const summary = JSON.parse(j.stdout);
    expect(summary.reports).toEqual([expect.objectContaining({ batchId, smdpf: expect.objectContaining({ name: smdpfName }), counts: expect.objectContaining({ installed: 1 }), results: 1, failures: 0 })]);
    expect(summary.units).toBe(1);
    expect(summary.bpps).toEqual({ loaded: 1, spent: 0, unknown: 0, unused: 0 });
    expect(summary.duplicatesPushed).toEqual([]);
    expect(readdirSync(out)).toHaveLength(3); // PLR, units CSV, slots CSV

    const bad = await ifpp(root, 'report', '--config', cfgFile, '--batch', 'nope');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('REPORT_UNKNOWN_BATCH');
    expect(bad.stderr).toContain(batchId);

    const usage = await ifpp(root, 'report');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--config');
  });
});
