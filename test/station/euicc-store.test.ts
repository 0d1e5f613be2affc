import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    expect(r.skipped).toEqual([{ line: 6, reason: 'EID missing or its check digits are wrong' }]);

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
});
