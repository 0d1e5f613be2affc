/**
 * The fixed personalisation of one simulated chip, decoded once from its reel record: EID,
 * CERT.EUICC and SK.EUICC, one-time key pairs, EUICCInfo2, the CI certificates it trusts.
 * Checked on the way in (a reel with a key pair that does not match is refused), because a
 * corrupt reel would otherwise surface as a baffling MAC failure much later.
 */
import { bytesEqual, fromHex, toHex } from '../../core/bytes.ts';
import type { CurveName } from '../../core/crypto/curves.ts';
import { publicKeyFromSecret } from '../../core/crypto/ecdh.ts';
import { isIfppError } from '../../core/errors.ts';
import { parseEid } from '../../core/rsp/eid.ts';
import { parseCertificate, type Certificate } from '../../core/x509/certificate.ts';
import { parseCertificateCached } from './certificate-cache.ts';
import type { ReelChip, ReelHeader } from '../eum/formats.ts';
import { EuiccConfigError } from './errors.ts';

export interface OneTimeKeyPair {
  readonly sk: Uint8Array;
  /** 65-byte uncompressed point. */
  readonly pk: Uint8Array;
  /** Lower-case hex of pk (the key's identity in the chip state). */
  readonly pkHex: string;
}

export interface ChipIdentity {
  readonly eid: string;
  readonly curve: CurveName;
  readonly certEuicc: Uint8Array;
  /** Public key of CERT.EUICC (what a PIR signature verifies with). */
  readonly pkEuicc: Uint8Array;
  readonly skEuicc: Uint8Array;
  readonly otks: readonly OneTimeKeyPair[];
  /** EUICCInfo2 (BF22) as personalised. */
  readonly euiccInfo2: Uint8Array;
  /** CI certificates whose keys the chip verifies CERT.DPpb with. */
  readonly trustAnchors: readonly Certificate[];
  /** ATR override from the reel, if any. */
  readonly atr: Uint8Array | undefined;
  /** CERT.EUM (DER), sent along with signed notifications; absent when the caller gave none. */
  readonly eumCertificate?: Uint8Array | undefined;
}

/** The parts of the reel header a chip needs. */
export type ReelHeaderLike = Pick<ReelHeader, 'curve' | 'ciCertificate'> & Partial<Pick<ReelHeader, 'eumCertificate'>>;

function b64(s: string, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length === 0) throw new EuiccConfigError('EUICC_BAD_REEL', `${what} is not base64`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function hex(s: string, what: string): Uint8Array {
  try {
    return fromHex(s, what);
  } catch (e) {
    throw new EuiccConfigError('EUICC_BAD_REEL', `${what}: ${(e as Error).message}`, { cause: e });
  }
}

function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof EuiccConfigError || !isIfppError(e)) throw e;
    throw new EuiccConfigError('EUICC_BAD_REEL', `${what}: ${e.message}`, { cause: e });
  }
}

/**
 * Decodes and checks a reel record. `extraCiCertificates` adds trust anchors beyond the reel's
 * CI (real chips often trust several CI keys, e.g. one per curve).
 */
export function chipIdentityFromReel(chip: ReelChip, header: ReelHeaderLike, extraCiCertificates: readonly Uint8Array[] = []): ChipIdentity {
  const eid = wrap('reel chip eid', () => parseEid(chip.eid));
  const where = `reel chip ${eid}`;
  const curve = header.curve;
  if (curve !== 'nist' && curve !== 'brp') throw new EuiccConfigError('EUICC_BAD_REEL', `reel curve ${JSON.stringify(curve)} is neither "nist" nor "brp"`);
  const certEuicc = b64(chip.certEuicc, `${where} certEuicc`);
  const cert = wrap(`${where} certEuicc`, () => parseCertificate(certEuicc));
  const skEuicc = hex(chip.skEuicc, `${where} skEuicc`);
  const pkEuicc = wrap(`${where} skEuicc`, () => publicKeyFromSecret(curve, skEuicc));
  if (!bytesEqual(pkEuicc, cert.publicKey.point)) throw new EuiccConfigError('EUICC_BAD_REEL', `${where}: skEuicc does not belong to CERT.EUICC`);
  if (!Array.isArray(chip.otks)) throw new EuiccConfigError('EUICC_BAD_REEL', `${where}: otks is not an array`);
  const otks = chip.otks.map((k, i) => {
    const sk = hex(k.sk, `${where} otks[${i}].sk`);
    const pk = hex(k.pk, `${where} otks[${i}].pk`);
    const derived = wrap(`${where} otks[${i}].sk`, () => publicKeyFromSecret(curve, sk));
    if (!bytesEqual(derived, pk)) throw new EuiccConfigError('EUICC_BAD_REEL', `${where}: otks[${i}].pk does not belong to otks[${i}].sk`);
    return { sk, pk, pkHex: toHex(pk) };
  });
  if (new Set(otks.map((k) => k.pkHex)).size !== otks.length) throw new EuiccConfigError('EUICC_BAD_REEL', `${where}: a one-time key appears twice`);
  const euiccInfo2 = b64(chip.euiccInfo2, `${where} euiccInfo2`);
  const trustAnchors = [b64(header.ciCertificate, 'reel ciCertificate'), ...extraCiCertificates].map((der, i) =>
    wrap(i === 0 ? 'reel ciCertificate' : `extra CI certificate ${i - 1}`, () => parseCertificateCached(der)),
  );
  const atr = chip.atr !== undefined ? hex(chip.atr, `${where} atr`) : undefined;
  const eumCertificate = header.eumCertificate !== undefined ? b64(header.eumCertificate, 'reel eumCertificate') : undefined;
  return { eid, curve, certEuicc, pkEuicc, skEuicc, otks, euiccInfo2, trustAnchors, atr, eumCertificate };
}
