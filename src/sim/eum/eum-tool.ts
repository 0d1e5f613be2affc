/**
 * The simulated EUM: a test PKI (CI, EUM, and the SM-DPf's CERT.DPpb so the chips trust it)
 * and a stream of personalised chips, each with a valid EID, CERT.EUICC, SK.EUICC, K one-time
 * key pairs and an EUICCInfo2. Chips are produced lazily, one at a time, so the writer
 * (write-eum.ts) can emit millions without holding them in memory.
 *
 * With `sgp26`, CERT.DPpb is the GSMA SGP.26 test one. Its CI's private key is not public, so
 * the EUM chain is issued under a generated CI: the chips then verify CERT.DPpb with the SGP.26
 * CI (`ciCertificate`) and sign under the generated one (`eumCiCertificate`).
 */
import { randomBytes } from 'node:crypto';
import type { CurveName } from '../../core/crypto/curves.ts';
import { generateKeyPair } from '../../core/crypto/ecdh.ts';
import { parsePrivateKeyPem } from '../../core/crypto/keys.ts';
import { toHex } from '../../core/bytes.ts';
import { IfppError, InputError } from '../../core/errors.ts';
import { makeEid } from '../../core/rsp/eid.ts';
import { encodeEuiccInfo2, EuiccCategory, RspCapability, UiccCapability, type EuiccInfo2 } from '../../core/rsp/es10.ts';
import { parseCertificate, type Certificate } from '../../core/x509/certificate.ts';
import { createCi, issueDpPb, issueEum, issueEuicc, TEST_EID_PREFIX, type IssuedCertificate } from '../pki/issue.ts';
import { sgp26DpPb } from '../shared-testdata.ts';
import { EUICC_DATA_FORMAT, REEL_FORMAT, type EuiccDataChip, type EuiccDataHeader, type ReelChip, type ReelHeader } from './formats.ts';

export class EumToolError extends IfppError {}

export interface EumWorldOptions {
  /** Number of chips. */
  euiccs: number;
  /** One-time key pairs per chip. */
  otks: number;
  curve: CurveName;
  /** Use the GSMA SGP.26 test CI and CERT.DPpb from ../shared for the SM-DPf. */
  sgp26?: boolean;
  /** Leading EID digits the EUM is constrained to (its EIN); default the SGP.26 test EUM's. */
  eidPrefix?: string;
  /** Individual number of the first chip (the digits between prefix and check digits); default 1. */
  firstSerial?: bigint;
  /** EUM organisation (repeated in every CERT.EUICC subject). */
  eumName?: string;
  /** CN of the generated CERT.DPpb (ignored with sgp26). */
  smdpfName?: string;
}

/** The SM-DPf's signing identity for the simulated world. */
export interface SmdpfIdentityMaterial {
  certDer: Uint8Array;
  curve: CurveName;
  secretKey: Uint8Array;
  /** The CI CERT.DPpb chains to (= the CI the chips trust for verification). */
  ciDer: Uint8Array;
  source: 'generated' | 'sgp26';
}

export interface SimChip {
  /** The public line of the eUICC data file. */
  data: EuiccDataChip;
  /** The reel line (the chip's secrets). */
  reel: ReelChip;
}

export interface EumWorld {
  readonly curve: CurveName;
  readonly count: number;
  readonly otks: number;
  /** CI whose key verifies CERT.DPpb inside the chips. */
  readonly ci: Certificate;
  /** CI of the EUM chain; the same object as `ci` unless sgp26. */
  readonly eumCi: Certificate;
  readonly eum: Certificate;
  readonly smdpf: SmdpfIdentityMaterial;
  readonly euiccDataHeader: EuiccDataHeader;
  readonly reelHeader: ReelHeader;
  /** The EID of chip `i` (0-based), without generating the chip. */
  eidAt(i: number): string;
  /** Generates the chips in EID order (ascending); each call starts again with fresh keys. */
  chips(): Generator<SimChip>;
}

export const DEFAULT_EUM_NAME = 'IFPP Test EUM';
export const MAX_OTKS = 64;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export function createEumWorld(opts: EumWorldOptions): EumWorld {
  const { euiccs, otks, curve } = opts;
  if (!Number.isSafeInteger(euiccs) || euiccs < 1) throw new InputError('EUM_BAD_COUNT', `number of eUICCs must be a positive integer, got ${euiccs}`);
  if (!Number.isSafeInteger(otks) || otks < 1 || otks > MAX_OTKS) {
    throw new InputError('EUM_BAD_OTKS', `one-time keys per chip must be 1..${MAX_OTKS}, got ${otks}`, { hint: 'SGP.41 chips hold a small number of one-time key pairs' });
  }
  const prefix = opts.eidPrefix ?? TEST_EID_PREFIX;
  if (!/^\d{2,24}$/.test(prefix)) throw new InputError('EUM_BAD_EID_PREFIX', `EID prefix "${prefix}" must be 2 to 24 decimal digits`, { hint: 'e.g. 89049032 (the SGP.26 test EIN)' });
  const serialDigits = 30 - prefix.length;
  const first = opts.firstSerial ?? 1n;
  const last = first + BigInt(euiccs) - 1n;
  if (first < 0n || String(last).length > serialDigits) {
    throw new InputError('EUM_EID_RANGE', `serials ${first}..${last} do not fit in the ${serialDigits} digits after prefix ${prefix}`);
  }
  const eidAt = (i: number) => makeEid(prefix + String(first + BigInt(i)).padStart(serialDigits, '0'));

  // PKI: one CI for the world unless the SM-DPf is SGP.26's.
  const eumCiIssued = createCi({ curve, name: 'IFPP Test CI', serial: certSerial() });
  let smdpf: SmdpfIdentityMaterial;
  if (opts.sgp26) {
    const s = sgp26DpPb(curve);
    if (!s) {
      throw new EumToolError('EUM_SGP26_MISSING', 'the GSMA SGP.26 test certificates are not in ../shared/rsp-testdata/sgp26', {
        hint: 'run without --sgp26 (a generated CI and CERT.DPpb are used), or set IFPP_SHARED_DIR',
      });
    }
    const key = parsePrivateKeyPem(s.keyPem);
    smdpf = { certDer: s.certDer, curve: key.curve, secretKey: key.secretKey, ciDer: s.ciDer, source: 'sgp26' };
  } else {
    const dp = issueDpPb({ ci: eumCiIssued, curve, serial: certSerial(), ...(opts.smdpfName ? { name: opts.smdpfName, org: opts.smdpfName } : {}) });
    smdpf = { certDer: dp.der, curve, secretKey: dp.secretKey!, ciDer: eumCiIssued.der, source: 'generated' };
  }
  const org = opts.eumName ?? DEFAULT_EUM_NAME;
  const eum = issueEum({ ci: eumCiIssued, org, name: org, eidPrefix: prefix, serial: certSerial() });
  const ci = opts.sgp26 ? parseCertificate(smdpf.ciDer) : eumCiIssued.cert;
  const eumCi = eumCiIssued.cert;

  const ski = (c: Certificate) => {
    const k = c.extensions.subjectKeyIdentifier;
    if (!k) throw new EumToolError('EUM_CI_NO_SKI', `CI certificate "${c.subject.text}" has no subjectKeyIdentifier`);
    return k;
  };
  const euiccInfo2 = b64(encodeEuiccInfo2(simEuiccInfo2(ski(ci), ski(eumCi))));

  const common = {
    curve,
    ciCertificate: b64(ci.raw),
    ...(opts.sgp26 ? { eumCiCertificate: b64(eumCi.raw) } : {}),
    eumCertificate: b64(eum.der),
    count: euiccs,
  };
  const euiccDataHeader: EuiccDataHeader = {
    format: EUICC_DATA_FORMAT,
    eum: org,
    eumCertificate: common.eumCertificate,
    ciCertificate: common.ciCertificate,
    ...(common.eumCiCertificate ? { eumCiCertificate: common.eumCiCertificate } : {}),
    curve,
    count: euiccs,
  };
  const reelHeader: ReelHeader = {
    format: REEL_FORMAT,
    curve,
    ciCertificate: common.ciCertificate,
    ...(common.eumCiCertificate ? { eumCiCertificate: common.eumCiCertificate } : {}),
    eumCertificate: common.eumCertificate,
    count: euiccs,
  };

  function* chips(): Generator<SimChip> {
    for (let i = 0; i < euiccs; i++) yield makeChip(eum, eidAt(i), curve, otks, euiccInfo2);
  }

  return { curve, count: euiccs, otks, ci, eumCi, eum: eum.cert, smdpf, euiccDataHeader, reelHeader, eidAt, chips };
}

/**
 * 8 random bytes whose first byte is 01..7F: a positive INTEGER that DER encodes minimally as
 * given (a 00 first byte followed by one below 80 would be a non-minimal encoding).
 */
function certSerial(): Uint8Array {
  const s = new Uint8Array(randomBytes(8));
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

function makeChip(eum: IssuedCertificate, eid: string, curve: CurveName, otks: number, euiccInfo2: string): SimChip {
  const cert = issueEuicc({ eum, eid, curve, serial: certSerial() });
  const keys = Array.from({ length: otks }, () => generateKeyPair(curve));
  const certEuicc = b64(cert.der);
  return {
    data: { eid, certEuicc, otpks: keys.map((k) => toHex(k.publicKey)), euiccInfo2 },
    reel: { eid, certEuicc, skEuicc: toHex(cert.secretKey!), otks: keys.map((k) => ({ sk: toHex(k.secretKey), pk: toHex(k.publicKey) })), euiccInfo2 },
  };
}

/**
 * A plausible EUICCInfo2 for a simulated IFPP chip: SGP.22 v2.3-era values, USIM/ISIM/Milenage/
 * TUAK/Java Card, 400 kB free, and the CI key ids it verifies with and signs under.
 */
export function simEuiccInfo2(verifyCiSki: Uint8Array, signCiSki: Uint8Array): EuiccInfo2 {
  return {
    profileVersion: '2.3.1',
    svn: '2.3.0',
    euiccFirmwareVer: '1.0.0',
    extCardResource: { installedApplications: 0, freeNvm: 400_000, freeRam: 16_000 },
    uiccCapability: [UiccCapability.usimSupport, UiccCapability.isimSupport, UiccCapability.akaMilenage, UiccCapability.akaTuak128, UiccCapability.javacard],
    javacardVersion: '3.0.5',
    globalplatformVersion: '2.3.0',
    rspCapability: [RspCapability.additionalProfile, RspCapability.testProfileSupport],
    euiccCiPKIdListForVerification: [verifyCiSki],
    euiccCiPKIdListForSigning: [signCiSki],
    euiccCategory: EuiccCategory.values.mediumEuicc,
    ppVersion: '1.0.0',
    sasAcreditationNumber: 'IFPP-TEST-SAS-0000',
  };
}
