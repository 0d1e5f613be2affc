/**
 * In-memory chips for tests and demos: a CI, an EUM, and N personalised chips (EID, CERT.EUICC
 * with SK.EUICC, one-time key pairs, EUICCInfo2) in the reel record shape, plus a CERT.DPpb
 * from the same CI to bind BPPs with. The EUM tool writes real reel files; this skips the file.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import type { CurveName } from '../../core/crypto/curves.ts';
import { generateKeyPair } from '../../core/crypto/ecdh.ts';
import { encodeEuiccInfo2, type EuiccInfo2 } from '../../core/rsp/es10.ts';
import { makeEid } from '../../core/rsp/eid.ts';
import { createCi, issueDpPb, issueEuicc, issueEum, TEST_EID_PREFIX, type IssuedCertificate } from '../pki/issue.ts';
import { REEL_FORMAT, type ReelChip, type ReelHeader } from '../eum/formats.ts';

export interface TestChipsOptions {
  readonly curve: CurveName;
  readonly count?: number;
  readonly keysPerChip?: number;
  /** Individual number of the first chip (EID digits 9..30). */
  readonly firstSerial?: number;
  /** freeNvm advertised in EUICCInfo2 (default 400 000). */
  readonly freeNvm?: number;
  /** Reuse this CI (e.g. to make a second EUM under the same root). */
  readonly ci?: IssuedCertificate;
}

export interface TestChips {
  readonly header: ReelHeader;
  readonly chips: ReelChip[];
  readonly ci: IssuedCertificate;
  readonly eum: IssuedCertificate;
  /** A CERT.DPpb (with its secret key) under the same CI, SM-DP OID 2.999.10. */
  readonly dpPb: IssuedCertificate;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export function testEuiccInfo2(ciSki: Uint8Array, freeNvm: number): EuiccInfo2 {
  return {
    profileVersion: '2.3.1',
    svn: '2.2.2',
    euiccFirmwareVer: '1.0.0',
    extCardResource: { installedApplications: 0, freeNvm, freeRam: 16_000 },
    uiccCapability: [1, 2, 4, 6, 7, 14, 16],
    javacardVersion: '3.0.5',
    globalplatformVersion: '2.3.0',
    rspCapability: [0, 3],
    euiccCiPKIdListForVerification: [ciSki],
    euiccCiPKIdListForSigning: [ciSki],
    euiccCategory: 2,
    ppVersion: '0.0.1',
    sasAcreditationNumber: 'IFPP-SIM-0001',
  };
}

export function makeTestChips(o: TestChipsOptions): TestChips {
  const ci = o.ci ?? createCi({ curve: o.curve, name: `IFPP Test CI ${o.curve}` });
  const eum = issueEum({ ci, curve: o.curve });
  const dpPb = issueDpPb({ ci, curve: o.curve });
  const ski = ci.cert.extensions.subjectKeyIdentifier ?? fromHex('00');
  const chips: ReelChip[] = [];
  for (let i = 0; i < (o.count ?? 1); i++) {
    const serial = String((o.firstSerial ?? 1) + i).padStart(30 - TEST_EID_PREFIX.length, '0');
    const eid = makeEid(TEST_EID_PREFIX + serial);
    const key = generateKeyPair(o.curve);
    const cert = issueEuicc({ eum, eid, curve: o.curve, secretKey: key.secretKey });
    const otks = Array.from({ length: o.keysPerChip ?? 3 }, () => {
      const k = generateKeyPair(o.curve);
      return { sk: toHex(k.secretKey), pk: toHex(k.publicKey) };
    });
    chips.push({
      eid,
      certEuicc: b64(cert.der),
      skEuicc: toHex(key.secretKey),
      otks,
      euiccInfo2: b64(encodeEuiccInfo2(testEuiccInfo2(ski, o.freeNvm ?? 400_000))),
    });
  }
  const header: ReelHeader = { format: REEL_FORMAT, curve: o.curve, ciCertificate: b64(ci.der), eumCertificate: b64(eum.der), count: chips.length };
  return { header, chips, ci, eum, dpPb };
}
