/**
 * Station-side BPP inspection: structure, BF23 signature, CERT.DPpb chain, and the metadata
 * (readable because 88 segments are MAC-only). No keys, no decryption: this is what the
 * factory may know of a BPP (SGP.41 GENS09/GENS10).
 */
import { toHex, concatBytes } from '../bytes.ts';
import { isIfppError } from '../errors.ts';
import { ecdsaVerify } from '../crypto/ecdsa.ts';
import { signedDataOf, type Bf23 } from '../rsp/bf23.ts';
import { parseBpp, type Bpp } from '../rsp/bpp.ts';
import { decodeStoreMetadata } from '../rsp/metadata.ts';
import { verifyChain } from '../x509/chain.ts';
import type { Certificate } from '../x509/certificate.ts';

/** MAC bytes at the end of every protected segment. */
const MAC_BYTES = 8;

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface InspectCheck {
  name: 'structure' | 'signature' | 'chain';
  status: CheckStatus;
  reason: string;
}

export interface BppInspection {
  checks: InspectCheck[];
  /** True when no asked check failed (skipped checks were not asked). */
  ok: boolean;
  bytes: number;
  bpp?: {
    transactionId: string;
    remoteOpId: number;
    hostId: string;
    keyType: number;
    keyLen: number;
    smdpOtpk: string;
    replaceSessionKeys: boolean;
    segments: { name: string; tag: string; count: number; bytes: number }[];
    largestSegment: number;
  };
  metadata?: { iccid: string; serviceProviderName: string; profileName: string; profileClass?: number | undefined };
  metadataError?: string;
}

export interface InspectOptions {
  /** CERT.DPpb: the signer to check BF23 against. */
  dpCert?: Certificate;
  /** CI certificates to check CERT.DPpb's chain against. */
  ciCerts?: Certificate[];
  /** otPK.EUICC the BPP is meant for (the signature covers it). */
  euiccOtpk?: Uint8Array;
  /** Time for certificate validity; default now. */
  at?: Date;
}

/** True when smdpSign verifies with PK.DPpb over the BF23 data and the eUICC's one-time key. */
export function verifyBf23Signature(bf23: Bf23, euiccOtpk: Uint8Array, dpCert: Certificate): boolean {
  return ecdsaVerify(dpCert.publicKey.curve, dpCert.publicKey.point, signedDataOf(bf23, euiccOtpk), bf23.smdpSign);
}

/** The metadata carried in the 88 segments, with their MACs stripped (not verified: no keys here). */
export function readMetadata(bpp: Bpp) {
  const parts = bpp.sequenceOf88.items.map((t) => t.value.subarray(0, Math.max(0, t.value.length - MAC_BYTES)));
  return decodeStoreMetadata(concatBytes(...parts));
}

export function inspectBpp(bytes: Uint8Array, opts: InspectOptions = {}): BppInspection {
  const checks: InspectCheck[] = [];
  const out: BppInspection = { checks, ok: false, bytes: bytes.length };
  let bpp: Bpp;
  try {
    bpp = parseBpp(bytes);
    checks.push({ name: 'structure', status: 'pass', reason: 'BF36 with BF23, A0, A1, ' + (bpp.secondSequenceOf87 ? 'A2, ' : '') + 'A3 in order' });
  } catch (e) {
    if (!isIfppError(e)) throw e;
    checks.push({ name: 'structure', status: 'fail', reason: e.message });
    checks.push({ name: 'signature', status: 'skipped', reason: 'structure is broken' });
    checks.push({ name: 'chain', status: opts.dpCert && opts.ciCerts?.length ? 'skipped' : 'skipped', reason: 'structure is broken' });
    return out;
  }
  const b = bpp.bf23;
  const seq = (name: string, tag: string, s: { items: readonly { raw: Uint8Array }[] } | undefined) => ({
    name,
    tag,
    count: s?.items.length ?? 0,
    bytes: s ? s.items.reduce((n, i) => n + i.raw.length, 0) : 0,
  });
  out.bpp = {
    transactionId: toHex(b.transactionId),
    remoteOpId: b.remoteOpId,
    hostId: toHex(b.controlRefTemplate.hostId),
    keyType: b.controlRefTemplate.keyType,
    keyLen: b.controlRefTemplate.keyLen,
    smdpOtpk: toHex(b.smdpOtpk),
    replaceSessionKeys: bpp.secondSequenceOf87 !== undefined,
    segments: [
      seq('firstSequenceOf87 (ConfigureISDP)', 'A0/87', bpp.firstSequenceOf87),
      seq('sequenceOf88 (StoreMetadata)', 'A1/88', bpp.sequenceOf88),
      seq('secondSequenceOf87 (ReplaceSessionKeys)', 'A2/87', bpp.secondSequenceOf87),
      seq('sequenceOf86 (profile elements)', 'A3/86', bpp.sequenceOf86),
    ],
    largestSegment: bpp.sizes.largestSegment,
  };
  try {
    const m = readMetadata(bpp);
    out.metadata = { iccid: m.iccid, serviceProviderName: m.serviceProviderName, profileName: m.profileName, profileClass: m.profileClass };
  } catch (e) {
    if (!isIfppError(e)) throw e;
    out.metadataError = e.message;
  }

  if (!opts.dpCert) {
    checks.push({ name: 'signature', status: 'skipped', reason: 'no CERT.DPpb given (--dp-cert)' });
  } else if (!opts.euiccOtpk) {
    checks.push({ name: 'signature', status: 'skipped', reason: 'the signature covers the eUICC one-time key: give it with --euicc-otpk' });
  } else {
    const ok = verifyBf23Signature(b, opts.euiccOtpk, opts.dpCert);
    checks.push({
      name: 'signature',
      status: ok ? 'pass' : 'fail',
      reason: ok ? 'smdpSign verifies with PK.DPpb for this one-time key' : 'smdpSign does not verify with this CERT.DPpb and one-time key (wrong signer, wrong key, or altered BF23)',
    });
  }

  if (!opts.dpCert || !opts.ciCerts?.length) {
    checks.push({ name: 'chain', status: 'skipped', reason: 'give --dp-cert and --ci-cert to check the CERT.DPpb chain' });
  } else {
    const r = verifyChain({ leaf: opts.dpCert, trustAnchors: opts.ciCerts, at: opts.at ?? new Date(), role: 'dp-pb' });
    checks.push({
      name: 'chain',
      status: r.ok ? 'pass' : 'fail',
      reason: r.ok ? `CERT.DPpb chains to ${r.path[r.path.length - 1]?.subject.text ?? 'the CI'}` : `${r.failure?.code}: ${r.failure?.reason}`,
    });
  }
  out.ok = checks.every((c) => c.status !== 'fail');
  return out;
}
