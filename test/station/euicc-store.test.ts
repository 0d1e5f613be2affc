import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EuiccStore, importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { createCi, issueEum, issueEuicc } from '../../src/sim/pki/issue.ts';
import { makeEid } from '../../src/core/rsp/eid.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import { verifyChain } from '../../src/core/x509/chain.ts';

describe('station eUICC data store', () => {
  it('imports an eUICC data file and finds CERT.EUICC by EID with a verifiable chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
    const ci = createCi({ curve: 'nist' });
    const eum = issueEum({ ci, curve: 'nist' });
    const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');
    // Out of EID order on purpose: the import sorts.
    const eids = [7, 3, 11, 5].map((n) => makeEid('89049032' + String(n).padStart(22, '0')));
    const certs = new Map(eids.map((e) => [e, issueEuicc({ eum, eid: e, curve: 'nist' }).der]));
    const lines = [
      JSON.stringify({ format: 'ifpp-euicc-data/1', eum: 'Test EUM', eumCertificate: b64(eum.der), ciCertificate: b64(ci.der), curve: 'nist', count: 5 }),
      ...eids.map((e) => JSON.stringify({ eid: e, certEuicc: b64(certs.get(e)!), otpks: [], euiccInfo2: '' })),
      JSON.stringify({ eid: '89049032000000000000000000000000', certEuicc: 'AAAA' }), // bad check digits
    ];
    const file = join(dir, 'euicc-data.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await importEuiccData(join(dir, 'store'), file, 'lot-1');
    expect(r.count).toBe(4);
    expect(r.skipped).toEqual([{ line: 6, code: 'EUICC_DATA_BAD_EID', reason: 'EID missing or its check digits are wrong' }]);
    expect(r.warnings).toEqual([]);

    const store = EuiccStore.open(join(dir, 'store'));
    for (const e of eids) {
      const rec = store.lookup(e)!;
      expect(Buffer.from(rec.certEuicc).equals(Buffer.from(certs.get(e)!))).toBe(true);
      const chain = verifyChain({
        leaf: parseCertificate(rec.certEuicc),
        intermediates: [parseCertificate(rec.eumCertificate)],
        trustAnchors: [parseCertificate(rec.ciCertificate)],
        at: new Date(),
        role: 'euicc',
      });
      expect(chain.ok).toBe(true);
    }
    expect(store.lookup(makeEid('89049032' + '9'.repeat(22)))).toBeUndefined();
    store.close();
    await expect(importEuiccData(join(dir, 'store'), file, 'lot-1')).rejects.toMatchObject({ code: 'EUICC_DATA_EXISTS' });
  });

  it('a store opened with lookForNew finds chips of a data set imported after it was opened (a line station copying a new lot); a plain store does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-new-'));
    const ci = createCi({ curve: 'nist' });
    const eum = issueEum({ ci, curve: 'nist' });
    const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');
    const header = JSON.stringify({ format: 'ifpp-euicc-data/1', eum: 'Test EUM', eumCertificate: b64(eum.der), ciCertificate: b64(ci.der), curve: 'nist', count: 1 });
    const lot = async (name: string, n: number) => {
      const eid = makeEid('89049032' + String(n).padStart(22, '0'));
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, [header, JSON.stringify({ eid, certEuicc: b64(issueEuicc({ eum, eid, curve: 'nist' }).der), otpks: [] })].join('\n') + '\n');
      await importEuiccData(join(dir, 'store'), file, name);
      return eid;
    };
    const first = await lot('lot-1', 1);
    const station = EuiccStore.open(join(dir, 'store'), { lookForNew: true });
    const plain = EuiccStore.open(join(dir, 'store'));
    const later = await lot('lot-2', 2);
    expect(station.lookup(first)?.source).toBe('lot-1');
    expect(station.lookup(later)?.source).toBe('lot-2');
    expect(station.names).toEqual(['lot-1', 'lot-2']);
    expect(plain.lookup(later)).toBeUndefined();
    station.close();
    plain.close();
    expect(station.lookup(later)).toBeUndefined(); // closed: nothing is opened again
  });

  describe('hostile or conflicting files', () => {
    const ci = createCi({ curve: 'nist' });
    const eum = issueEum({ ci, curve: 'nist' });
    const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');
    const header = (e = eum, c = ci) => JSON.stringify({ format: 'ifpp-euicc-data/1', eum: 'Test EUM', eumCertificate: b64(e.der), ciCertificate: b64(c.der), curve: 'nist', count: 1 });
    const eid = makeEid('89049032' + '4'.repeat(22));
    const chip = (cert: Uint8Array) => JSON.stringify({ eid, certEuicc: b64(cert), otpks: ['04' + 'ab'.repeat(64)], euiccInfo2: '' });
    const write = (dir: string, name: string, lines: string[]) => {
      const f = join(dir, name);
      writeFileSync(f, lines.join('\n') + '\n');
      return f;
    };

    it.each(['null', '3', '[]', '"x"'])('a header line %s is EUICC_DATA_MALFORMED naming the file and line 1', async (text) => {
      const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
      const f = write(dir, 'd.ndjson', [text]);
      await expect(importEuiccData(join(dir, 'store'), f, 'x')).rejects.toMatchObject({ code: 'EUICC_DATA_MALFORMED', message: expect.stringContaining(`${f} line 1 is `) });
    });

    it('a chip line that is null, a number or an array is skipped with a code and its line, the rest imported', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
      const f = write(dir, 'd.ndjson', [header(), 'null', '12', '[1]', chip(issueEuicc({ eum, eid, curve: 'nist' }).der)]);
      const r = await importEuiccData(join(dir, 'store'), f, 'x');
      expect(r.count).toBe(1);
      expect(r.skipped).toEqual([
        { line: 2, code: 'EUICC_DATA_BAD_LINE', reason: 'is null, not a chip object' },
        { line: 3, code: 'EUICC_DATA_BAD_LINE', reason: 'is number, not a chip object' },
        { line: 4, code: 'EUICC_DATA_BAD_LINE', reason: 'is an array, not a chip object' },
      ]);
    });

    it('refuses an EID already imported with a different CERT.EUICC, and warns about another lot of EUM/CI', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
      const store = join(dir, 'store');
      const first = issueEuicc({ eum, eid, curve: 'nist' }).der;
      await importEuiccData(store, write(dir, 'a.ndjson', [header(), chip(first)]), 'a');
      // The same data again under another name: same certificate, nothing to refuse or warn.
      const same = await importEuiccData(store, write(dir, 'b.ndjson', [header(), chip(first)]), 'b');
      expect(same.skipped).toEqual([]);
      expect(same.warnings).toEqual([]);
      // Another lot: another EUM under another CI, re-issuing the same EID.
      const ci2 = createCi({ curve: 'nist' });
      const eum2 = issueEum({ ci: ci2, curve: 'nist' });
      const other = issueEuicc({ eum: eum2, eid, curve: 'nist' }).der;
      const f = write(dir, 'c.ndjson', [header(eum2, ci2), chip(other)]);
      const r = await importEuiccData(store, f, 'c');
      expect(r.count).toBe(0);
      expect(r.skipped).toEqual([{ line: 2, code: 'EUICC_DATA_CERT_CONFLICT', reason: expect.stringContaining(`EID ${eid} is already in the store (eUICC data "a")`) }]);
      expect(r.warnings).toEqual([expect.stringMatching(/EUM certificate differs/), expect.stringMatching(/CI certificate differs/)]);
      const s = EuiccStore.open(store);
      expect(Buffer.from(s.lookup(eid)!.certEuicc).equals(Buffer.from(first))).toBe(true);
      s.close();
      expect(statSync(join(store, 'euicc', 'c', 'header.json')).mode & 0o777).toBe(0o600);
    });
  });

  describe('all or nothing, nothing left behind', () => {
    const ci = createCi({ curve: 'nist' });
    const eum = issueEum({ ci, curve: 'nist' });
    const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');
    const header = JSON.stringify({ format: 'ifpp-euicc-data/1', eum: 'Test EUM', eumCertificate: b64(eum.der), ciCertificate: b64(ci.der), curve: 'nist', count: 8 });
    const chips = [1, 2, 3, 4, 5, 6].map((n) => {
      const eid = makeEid('89049032' + String(n).padStart(22, '0'));
      return JSON.stringify({ eid, certEuicc: b64(issueEuicc({ eum, eid, curve: 'nist' }).der), otpks: [], euiccInfo2: '' });
    });
    // A copy cut off in the middle of the sixth chip's line.
    const truncated = [header, ...chips].join('\n').slice(0, -40);

    it('a truncated file with allOrNothing is EUICC_DATA_REJECTED naming the line, and the store is left as it was (not even created)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
      const f = join(dir, 'cut.ndjson');
      writeFileSync(f, truncated);
      const store = join(dir, 'store');
      await expect(importEuiccData(store, f, 'lot', { allOrNothing: true })).rejects.toMatchObject({ code: 'EUICC_DATA_REJECTED', message: expect.stringContaining('line 7: EUICC_DATA_BAD_LINE') });
      expect(existsSync(store)).toBe(false);
      // Into an existing store: it keeps exactly what it had, and no half-built folder.
      mkdirSync(store);
      await importEuiccData(store, f, 'good-lines'); // without allOrNothing: the 5 good chips
      const before = readdirSync(join(store, 'euicc')).sort();
      await expect(importEuiccData(store, f, 'again', { allOrNothing: true })).rejects.toMatchObject({ code: 'EUICC_DATA_REJECTED' });
      expect(readdirSync(join(store, 'euicc')).sort()).toEqual(before);
      const s = EuiccStore.open(store);
      expect(s.names).toEqual(['good-lines']);
      s.close();
    });

    it('a refused header leaves no index.importing folder and no new store folders', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
      const f = join(dir, 'bad.ndjson');
      writeFileSync(f, JSON.stringify({ format: 'something-else/1' }) + '\n' + chips[0] + '\n');
      await expect(importEuiccData(join(dir, 'store'), f, 'index')).rejects.toMatchObject({ code: 'EUICC_DATA_FORMAT' });
      expect(existsSync(join(dir, 'store'))).toBe(false);
      mkdirSync(join(dir, 'store', 'euicc'), { recursive: true });
      await expect(importEuiccData(join(dir, 'store'), f, 'index')).rejects.toMatchObject({ code: 'EUICC_DATA_FORMAT' });
      expect(readdirSync(join(dir, 'store', 'euicc'))).toEqual([]);
    });
  });
});
