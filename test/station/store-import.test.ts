/**
 * The whole delivery path into the station's store: simulated EUM → simulated SM-DPf batch →
 * importBatch with the real checks (bpp-checks.ts) → BppStore lookups. Damaged deliveries:
 * one altered BPP is rejected alone (hash, or signature), a tampered index or a batch under
 * the wrong CI is refused as a whole, and nothing is left half-imported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { isIfppError } from '../../src/core/errors.ts';
import { eidToBytes, isValidEid, makeEid } from '../../src/core/rsp/eid.ts';
import { EuiccStore, importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { createBppChecks, bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppState, BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import type { DeliveredManifest } from '../../src/core/formats/batch-manifest.ts';
import { createCi, issueDpPb } from '../../src/sim/pki/issue.ts';
import { createEumWorld } from '../../src/sim/eum/eum-tool.ts';
import { writeEumWorld } from '../../src/sim/eum/write-eum.ts';
import { bindBatch, type IndexLine } from '../../src/sim/smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../../src/sim/smdpf/identity.ts';
import { loadProfileSource } from '../../src/sim/smdpf/profile-source.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `ifpp-${p}-`));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function readManifest(dir: string): DeliveredManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DeliveredManifest;
}

function writeManifest(dir: string, m: DeliveredManifest): void {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
}

/** Recomputes the manifest's hash and size of `name` after a test altered the file. */
function refreshFileHash(dir: string, name: string): void {
  const m = readManifest(dir);
  const bytes = new Uint8Array(readFileSync(join(dir, name)));
  const f = m.files.find((x) => x.name === name)!;
  f.sha256 = sha(bytes);
  f.bytes = bytes.length;
  writeManifest(dir, m);
}

function indexLines(dir: string): IndexLine[] {
  return readFileSync(join(dir, 'index.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((t) => JSON.parse(t) as IndexLine);
}

function writeIndex(dir: string, lines: IndexLine[]): void {
  writeFileSync(join(dir, 'index.ndjson'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

/** A private copy of the pristine batch for one test to damage. */
function copyBatch(src: string): string {
  const dst = join(tmp('batch-copy'), 'batch');
  cpSync(src, dst, { recursive: true });
  return dst;
}

const IFPP = join(import.meta.dirname, '../../bin/ifpp.js');
const execIfpp = promisify(execFile);

async function ifpp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await execIfpp(process.execPath, [IFPP, ...args])) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function thrown(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isIfppError(e), `expected an IfppError, got ${String(e)}`).toBe(true);
  return e as { code: string; message: string };
}

describe('batch import into the BPP store', () => {
  const world = createEumWorld({ euiccs: 4, otks: 3, curve: 'nist' });
  const worldDir = tmp('store-world');
  const batch = join(tmp('store-batch'), 'batch');
  let lines: IndexLine[];

  beforeAll(async () => {
    writeEumWorld(world, worldDir);
    const euiccData = join(worldDir, 'euicc-data.ndjson');
    await bindBatch({
      euiccData,
      profile: loadProfileSource('synthetic:2000'),
      dp: loadSmdpfIdentity(defaultIdentityPaths(euiccData)),
      out: batch,
      perEuicc: 2,
      iccidStart: '894944999999100001',
    });
    lines = indexLines(batch);
    expect(lines.length).toBe(8);
  });

  it('imports every BPP; choose() finds the one bound to an unused key and readBpp() returns its bytes', async () => {
    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, batch, { checks: bppChecks });
    expect(report.rejected).toEqual([]);
    expect(report.accepted).toBe(8);
    expect(report.count).toBe(8);
    expect(report.warnings).toEqual([]);
    expect(report.batchId).toBe(readManifest(batch).batchId);

    const target = lines[5]!;
    const eid = eidToBytes(target.eid);
    expect(store.findByEid(eid).length).toBe(2);
    const strangerKey = fromHex('04' + '11'.repeat(64));
    const got = store.choose(eid, [strangerKey, fromHex(target.otpk)])!;
    expect(got).toBeDefined();
    expect(toHex(got.otpk)).toBe(target.otpk);
    expect(toHex(got.transactionId)).toBe(target.transactionId);
    expect(toHex(got.iccid)).toBe(target.iccid);
    const bytes = store.readBpp(got);
    expect(bytes.length).toBe(target.length);
    expect(sha(bytes)).toBe(target.sha256);
    // No BPP for a key the chip no longer has, nor for an unknown chip.
    expect(store.choose(eid, [strangerKey])).toBeUndefined();
    expect(store.choose(eidToBytes(makeEid('890490329999999999999999999999')), [fromHex(target.otpk)])).toBeUndefined();
    await expect(importBatch(store, batch, { checks: bppChecks })).rejects.toThrow(/already in the store/);
    store.close();
  });

  it('state changes persist across BppStore.open', async () => {
    const dir = tmp('store');
    let store = BppStore.open(dir);
    await importBatch(store, batch, { checks: bppChecks });
    const [a, b] = [lines[2]!, lines[3]!];
    expect(a.eid).toBe(b.eid);
    const eid = eidToBytes(a.eid);
    const keys = [fromHex(a.otpk), fromHex(b.otpk)];
    const first = store.choose(eid, keys)!;
    expect(toHex(first.otpk)).toBe(a.otpk); // index order: the smaller key first
    store.setState(first, BppState.installed);
    store.close();

    store = BppStore.open(dir);
    const states = store.findByEid(eid).map((x) => [toHex(x.otpk), x.state]);
    expect(states).toEqual([
      [a.otpk, BppState.installed],
      [b.otpk, BppState.available],
    ]);
    expect(toHex(store.choose(eid, keys)!.otpk)).toBe(b.otpk);
    const counts = store.counts().get(readManifest(batch).batchId)!;
    expect(counts[BppState.installed]).toBe(1);
    expect(counts[BppState.available]).toBe(7);
    store.close();
  });

  it('a BPP altered after delivery is rejected alone, with its line and EID (per-BPP hash)', async () => {
    const dir = copyBatch(batch);
    const victim = lines[4]!;
    const file = join(dir, victim.file);
    const data = new Uint8Array(readFileSync(file));
    data[victim.offset + Math.floor(victim.length / 2)]! ^= 0x01;
    writeFileSync(file, data);
    refreshFileHash(dir, victim.file); // only the index's per-BPP hash can catch it now

    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: bppChecks });
    expect(report.accepted).toBe(7);
    expect(report.rejected).toEqual([{ line: 5, eid: victim.eid, code: 'BPP_HASH_MISMATCH', reason: expect.stringMatching(/SHA-256/) }]);
    const eid = eidToBytes(victim.eid);
    const rejected = store.findByEid(eid).find((x) => toHex(x.otpk) === victim.otpk)!;
    expect(rejected.state).toBe(BppState.rejected);
    expect(store.choose(eid, [fromHex(victim.otpk)])).toBeUndefined();
    store.close();
  });

  it('a BPP whose BF23 was altered (hashes made to match) fails the signature check', async () => {
    const dir = copyBatch(batch);
    const all = indexLines(dir);
    const victim = all[1]!;
    const file = join(dir, victim.file);
    const data = new Uint8Array(readFileSync(file));
    const bpp = data.subarray(victim.offset, victim.offset + victim.length);
    const tid = fromHex(victim.transactionId);
    const at = Buffer.from(bpp).indexOf(Buffer.from(tid));
    expect(at).toBeGreaterThan(0);
    bpp[at]! ^= 0x80; // transactionId is covered by smdpSign
    writeFileSync(file, data);
    victim.sha256 = sha(bpp);
    writeIndex(dir, all);
    refreshFileHash(dir, victim.file);
    refreshFileHash(dir, 'index.ndjson');

    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: bppChecks });
    expect(report.accepted).toBe(7);
    expect(report.rejected.map((r) => [r.line, r.eid, r.code])).toEqual([[2, victim.eid, 'BPP_BAD_SIGNATURE']]);
    store.close();
  });

  it('a BPP swapped onto another key of the same chip fails the signature check', async () => {
    // Index lines 0 and 1 are the two BPPs of one chip: exchange their keys (hashes still fine).
    const dir = copyBatch(batch);
    const all = indexLines(dir);
    expect(all[0]!.eid).toBe(all[1]!.eid);
    [all[0]!.otpk, all[1]!.otpk] = [all[1]!.otpk, all[0]!.otpk];
    // Keep the index sorted, as a careful forger would.
    [all[0], all[1]] = [all[1]!, all[0]!];
    writeIndex(dir, all);
    refreshFileHash(dir, 'index.ndjson');
    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: bppChecks });
    expect(report.rejected.map((r) => r.code)).toEqual(['BPP_BAD_SIGNATURE', 'BPP_BAD_SIGNATURE']);
    expect(report.accepted).toBe(6);
    store.close();
  });

  it('a tampered index (hash differs from the manifest) refuses the whole batch', async () => {
    const dir = copyBatch(batch);
    const all = indexLines(dir);
    all[6]!.iccid = '98' + all[6]!.iccid.slice(2).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeIndex(dir, all);
    const storeDir = tmp('store');
    const store = BppStore.open(storeDir);
    const e = await thrown(importBatch(store, dir, { checks: bppChecks }));
    expect(e.code).toBe('BATCH_INDEX_DAMAGED');
    expect(store.batchIds()).toEqual([]);
    expect(readdirSync(join(storeDir, 'batches'))).toEqual([]);
    store.close();
  });

  it('a batch whose CERT.DPpb does not chain to the manifest CI is refused', async () => {
    const dir = copyBatch(batch);
    const m = readManifest(dir);
    m.ciCertificate = Buffer.from(createCi({ curve: 'nist', name: 'IFPP Test CI' }).der).toString('base64');
    writeManifest(dir, m);
    const storeDir = tmp('store');
    const store = BppStore.open(storeDir);
    const e = await thrown(importBatch(store, dir, { checks: bppChecks }));
    expect(e.code).toMatch(/^X509_/);
    expect(e.message).toMatch(/SM-DP\+|DPpb/);
    expect(store.batchIds()).toEqual([]);
    expect(readdirSync(join(storeDir, 'batches'))).toEqual([]);
    store.close();
  });

  it('a batch signed by another SM-DPf under the right CI fails every BPP', async () => {
    // The manifest names a different, valid CERT.DPpb under a CI it also names: the chain
    // passes but no BF23 verifies with that key.
    const dir = copyBatch(batch);
    const ci = createCi({ curve: 'nist' });
    const other = issueDpPb({ ci, curve: 'nist' });
    const m = readManifest(dir);
    m.ciCertificate = Buffer.from(ci.der).toString('base64');
    m.certDpPb = Buffer.from(other.der).toString('base64');
    writeManifest(dir, m);
    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: createBppChecks() });
    expect(report.accepted).toBe(0);
    expect(new Set(report.rejected.map((r) => r.code))).toEqual(new Set(['BPP_BAD_SIGNATURE']));
    expect(existsSync(join(store.dir, 'batches', m.batchId))).toBe(true);
    store.close();
  });

  /** Rewrites the index of a batch copy with `change` applied, hashes refreshed so only the line checks can catch it. */
  function withIndex(change: (all: IndexLine[]) => void): string {
    const dir = copyBatch(batch);
    const all = indexLines(dir);
    change(all);
    writeIndex(dir, all);
    refreshFileHash(dir, 'index.ndjson');
    return dir;
  }

  it.each([
    ['transactionId', (l: IndexLine) => (l.transactionId = l.transactionId.replace(/^./, (c) => (c === '0' ? '1' : '0')))],
    ['iccid', (l: IndexLine) => (l.iccid = l.iccid.replace(/^../, (c) => (c === '98' ? '89' : '98')))],
  ])('an index line whose %s differs from its BPP is refused alone (BATCH_INDEX_MISMATCH)', async (field, alter) => {
    const dir = withIndex((all) => alter(all[3]!));
    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: bppChecks });
    expect(report.accepted).toBe(7);
    expect(report.rejected).toEqual([{ line: 4, eid: lines[3]!.eid, code: 'BATCH_INDEX_MISMATCH', reason: expect.stringContaining(`index.ndjson line 4: ${field}`) }]);
    expect(store.choose(eidToBytes(lines[3]!.eid), [fromHex(lines[3]!.otpk)])).toBeUndefined();
    store.close();
  });

  it('an index line whose EID fails its check digits is refused alone (BATCH_BAD_EID)', async () => {
    const last = lines[7]!;
    const badEid = last.eid.slice(0, 30) + '99';
    expect(isValidEid(badEid)).toBe(false);
    expect(badEid > last.eid).toBe(true); // still sorted
    const dir = withIndex((all) => (all[7]!.eid = badEid));
    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: bppChecks });
    expect(report.rejected.map((r) => [r.line, r.code])).toEqual([[8, 'BATCH_BAD_EID']]);
    store.close();
  });

  it.each([
    ['null', 'null'],
    ['a number', '7'],
    ['an array', '["x"]'],
    ['a string', '"eid"'],
  ])('an index line that is %s is refused with a coded error naming the file and line, not a TypeError', async (_what, text) => {
    const dir = copyBatch(batch);
    const raw = readFileSync(join(dir, 'index.ndjson'), 'utf8').split('\n');
    raw[2] = text;
    writeFileSync(join(dir, 'index.ndjson'), raw.join('\n'));
    refreshFileHash(dir, 'index.ndjson');
    const store = BppStore.open(tmp('store'));
    const report = await importBatch(store, dir, { checks: bppChecks });
    expect(report.accepted).toBe(7);
    expect(report.rejected).toEqual([{ line: 3, code: 'BATCH_BAD_INDEX_LINE', reason: expect.stringMatching(/^index\.ndjson line 3: is (null|number|an array|string), not an object$/) }]);
    store.close();
  });

  it('a manifest count that disagrees with the index refuses the whole batch', async () => {
    const dir = copyBatch(batch);
    const m = readManifest(dir);
    m.count = 9;
    writeManifest(dir, m);
    const storeDir = tmp('store');
    const store = BppStore.open(storeDir);
    const e = await thrown(importBatch(store, dir, { checks: bppChecks }));
    expect(e.code).toBe('BATCH_COUNT_MISMATCH');
    expect(e.message).toMatch(/says 9 BPPs but index\.ndjson has 8/);
    expect(store.batchIds()).toEqual([]);
    expect(readdirSync(join(storeDir, 'batches'))).toEqual([]);
    store.close();
  });

  it('an empty index refuses the batch even when the manifest says 0', async () => {
    const dir = copyBatch(batch);
    writeFileSync(join(dir, 'index.ndjson'), '');
    refreshFileHash(dir, 'index.ndjson');
    const m = readManifest(dir);
    m.count = 0;
    writeManifest(dir, m);
    const store = BppStore.open(tmp('store'));
    expect((await thrown(importBatch(store, dir, { checks: bppChecks }))).code).toBe('BATCH_EMPTY');
    expect(store.batchIds()).toEqual([]);
    store.close();
  });

  it("with the chips' eUICC data in the store, every key must be one the data lists for that EID", async () => {
    const storeDir = tmp('store');
    await importEuiccData(storeDir, join(worldDir, 'euicc-data.ndjson'), 'lot');
    const euicc = EuiccStore.open(storeDir);
    expect(euicc.oneTimeKeys(lines[0]!.eid)?.length).toBe(3);
    const store = BppStore.open(storeDir);
    const good = await importBatch(store, batch, { checks: bppChecks, chipKeys: (e) => euicc.oneTimeKeys(e) });
    expect(good.rejected).toEqual([]);
    store.close();

    // The same batch against data that lists other keys for one chip (another lot's data).
    const victim = lines[2]!;
    const store2 = BppStore.open(tmp('store'));
    const report = await importBatch(store2, batch, {
      checks: bppChecks,
      chipKeys: (e) => (e === victim.eid ? [fromHex('04' + '22'.repeat(64))] : euicc.oneTimeKeys(e)),
    });
    expect(report.rejected.map((r) => [r.eid, r.code])).toEqual([
      [victim.eid, 'BATCH_UNKNOWN_OTPK'],
      [victim.eid, 'BATCH_UNKNOWN_OTPK'],
    ]);
    expect(report.accepted).toBe(6);
    store2.close();
    euicc.close();
  });

  it('store files are owner read/write only and its folders owner only', async () => {
    const storeDir = join(tmp('store-modes'), 'store');
    const store = BppStore.open(storeDir);
    const r = await importBatch(store, batch, { checks: bppChecks });
    store.close();
    await importEuiccData(storeDir, join(worldDir, 'euicc-data.ndjson'), 'lot');
    const mode = (p: string) => statSync(p).mode & 0o777;
    const bdir = join(storeDir, 'batches', r.batchId);
    for (const d of [storeDir, join(storeDir, 'batches'), join(storeDir, 'euicc', 'lot')]) expect([d, mode(d)]).toEqual([d, 0o700]);
    for (const f of readdirSync(bdir)) expect([f, mode(join(bdir, f))]).toEqual([f, 0o600]);
    for (const f of readdirSync(join(storeDir, 'euicc', 'lot'))) expect([f, mode(join(storeDir, 'euicc', 'lot', f))]).toEqual([f, 0o600]);
    // bdir itself was renamed from the import's working folder
    expect(mode(bdir)).toBe(0o700);
  });

  /** A copy whose data file was cut short in transit (manifest untouched): the BPPs past the cut are refused. */
  function truncatedCopy(): { dir: string; cutLines: IndexLine[] } {
    const dir = copyBatch(batch);
    const file = lines[0]!.file;
    expect(lines.every((l) => l.file === file)).toBe(true);
    const data = readFileSync(join(dir, file));
    const cut = Math.floor(data.length / 2);
    writeFileSync(join(dir, file), data.subarray(0, cut));
    return { dir, cutLines: lines.filter((l) => l.offset + l.length > cut) };
  }

  it('importing a good copy completes a batch imported from a truncated one: refused BPPs added, loaded ones untouched', async () => {
    const { dir, cutLines } = truncatedCopy();
    expect(cutLines.length).toBeGreaterThan(0);
    expect(cutLines.length).toBeLessThan(8);
    const storeDir = tmp('store');
    let store = BppStore.open(storeDir);
    const first = await importBatch(store, dir, { checks: bppChecks });
    expect(first.rejected.map((r) => r.code)).toEqual(cutLines.map(() => 'BPP_TRUNCATED'));
    const id = first.batchId;
    // A chip was loaded from the good part before the good copy arrived.
    const loaded = lines.find((l) => !cutLines.includes(l))!;
    const loadedBpp = store.findByEid(eidToBytes(loaded.eid)).find((x) => toHex(x.otpk) === loaded.otpk)!;
    store.setState(loadedBpp, BppState.installed);

    const again = await importBatch(store, batch, { checks: bppChecks });
    expect(again).toMatchObject({ batchId: id, completed: cutLines.length, accepted: 8, rejected: [], count: 8 });
    store.close();

    // On disk: every BPP refused before is available with its right bytes; the loaded one stays installed.
    store = BppStore.open(storeDir);
    const counts = store.counts().get(id)!;
    expect(counts[BppState.rejected]).toBe(0);
    expect(counts[BppState.installed]).toBe(1);
    expect(counts[BppState.available]).toBe(7);
    for (const l of cutLines) {
      const got = store.choose(eidToBytes(l.eid), [fromHex(l.otpk)])!;
      expect(toHex(got.transactionId)).toBe(l.transactionId);
      expect(sha(store.readBpp(got))).toBe(l.sha256);
    }
    expect(store.manifest(id)).toMatchObject({ accepted: 8, rejected: 0, completedAt: expect.any(String) });
    expect(readFileSync(join(storeDir, 'batches', id, 'rejected.ndjson'), 'utf8')).toBe('');
    // Complete now: a third import changes nothing and says so.
    expect((await thrown(importBatch(store, batch, { checks: bppChecks }))).code).toBe('BATCH_ALREADY_IMPORTED');
    store.close();
  });

  it('a copy with another index under the same batch id does not complete it (BATCH_CONFLICT), and a bad copy again adds nothing', async () => {
    const { dir } = truncatedCopy();
    const store = BppStore.open(tmp('store'));
    const first = await importBatch(store, dir, { checks: bppChecks });
    const before = store.counts().get(first.batchId)!;

    const other = copyBatch(batch);
    const all = indexLines(other);
    all[0]!.iccid = all[1]!.iccid;
    writeIndex(other, all);
    refreshFileHash(other, 'index.ndjson');
    expect((await thrown(importBatch(store, other, { checks: bppChecks }))).code).toBe('BATCH_CONFLICT');
    expect(store.counts().get(first.batchId)).toEqual(before);

    // The same truncated copy again: nothing to add, the refusals are listed again.
    const again = await importBatch(store, dir, { checks: bppChecks });
    expect(again.completed).toBe(0);
    expect(again.rejected.length).toBe(first.rejected.length);
    expect(store.counts().get(first.batchId)).toEqual(before);
    store.close();
  });

  it('ifpp bpp import of the good copy completes the batch; bpp list then shows no BPP rejected at import', async () => {
    const { dir, cutLines } = truncatedCopy();
    const root = tmp('cli-complete');
    const cfg = join(root, 'station.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        format: 'ifpp-station/1', name: 'completion', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
        bridges: [{ id: 'b0', port: '/dev/null-bridge', slots: 1 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
      }),
    );
    const first = await ifpp('bpp', 'import', '--config', cfg, dir);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toContain(`${8 - cutLines.length} accepted, ${cutLines.length} rejected of 8`);
    const listBefore = JSON.parse((await ifpp('bpp', 'list', '--config', cfg, '--json')).stdout) as { counts: Record<string, number> }[];
    expect(listBefore[0]!.counts['rejected at import']).toBe(cutLines.length);

    const good = await ifpp('bpp', 'import', '--config', cfg, batch);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(`${cutLines.length} BPPs refused before added from this copy; now 8 accepted, 0 rejected of 8`);
    const list = await ifpp('bpp', 'list', '--config', cfg, '--json');
    const after = JSON.parse(list.stdout) as { counts: Record<string, number> }[];
    expect(after[0]!.counts).toMatchObject({ available: 8, 'rejected at import': 0 });
    const third = await ifpp('bpp', 'import', '--config', cfg, batch);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('BATCH_ALREADY_IMPORTED');
  });

  it('checkBpp refuses what is not a BPP with a typed error', () => {
    const checks = createBppChecks();
    const dp = readManifest(batch).certDpPb;
    expect(() => checks.checkBpp(Uint8Array.of(0x30, 0x00), fromHex(lines[0]!.otpk), new Uint8Array(Buffer.from(dp, 'base64')))).toThrow(
      expect.objectContaining({ code: 'BPP_MALFORMED' }),
    );
  });
});
