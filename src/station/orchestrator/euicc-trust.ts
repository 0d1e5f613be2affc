/**
 * Trust in a chip's CERT.EUICC: looked up by EID in the imported eUICC data and checked up to
 * its CI (CI → EUM → eUICC). EUM and CI certificates are parsed once per data set and store,
 * however many EuiccTrust objects are made (the station makes one per unit).
 */
import { IfppError } from '../../core/errors.ts';
import { parseCertificate, type Certificate } from '../../core/x509/certificate.ts';
import { verifyChain } from '../../core/x509/chain.ts';
import type { EuiccStore } from '../euicc-data/euicc-store.ts';

export class EuiccTrustError extends IfppError {}

type Parsed = Map<string, { eum: Certificate; ci: Certificate }>;
const parsedByStore = new WeakMap<EuiccStore, Parsed>();

export class EuiccTrust {
  private readonly parsed: Parsed;

  constructor(private readonly store: EuiccStore) {
    let p = parsedByStore.get(store);
    if (!p) parsedByStore.set(store, (p = new Map()));
    this.parsed = p;
  }

  /** CERT.EUICC of `eid`, chain-checked. Throws EuiccTrustError naming the EID and why. */
  certificateFor(eid: string, at: Date = new Date()): Certificate {
    const rec = this.store.lookup(eid);
    if (!rec) {
      throw new EuiccTrustError('EUICC_UNKNOWN', `EID ${eid} is in no imported eUICC data`, {
        hint: 'import the EUM eUICC data for this chip lot (ifpp euicc import), or take the unit out: it is not one of ours',
      });
    }
    let pair = this.parsed.get(rec.source);
    if (!pair) {
      pair = { eum: parseCertificate(rec.eumCertificate), ci: parseCertificate(rec.ciCertificate) };
      this.parsed.set(rec.source, pair);
    }
    const leaf = parseCertificate(rec.certEuicc);
    const r = verifyChain({ leaf, intermediates: [pair.eum], trustAnchors: [pair.ci], at, role: 'euicc' });
    if (!r.ok) {
      throw new EuiccTrustError('EUICC_CERT_INVALID', `CERT.EUICC of ${eid} does not verify: ${r.failure?.code} ${r.failure?.reason}`, {
        hint: 'the eUICC data is damaged or belongs to another EUM; check the import',
      });
    }
    return leaf;
  }
}
