/**
 * The chip side of the factory requests BF70–BF73 (project mapping, see core/rsp/factory.ts and
 * docs/protocol.md), over ChipState:
 *
 * - GetFactoryInfo: always answered, also after CloseFpaServices; deleted keys are not listed.
 * - PrepareFactoryLoad: FPA services open, the named key on the chip (unknownOneTimeKey) and
 *   unused (keyAlreadyUsed), then CERT.DPpb (plus given intermediates) verified up to a trusted
 *   CI with role dp-pb at the chip's notion of time (invalidCertificate). On success the chip
 *   remembers PK.DPpb and the key for the one BPP load that follows.
 * - DeleteOneTimeKeys: all unused keys, or the listed ones (consumed ones too); all-or-nothing
 *   when a listed key is not on the chip.
 * - CloseFpaServices: once; afterwards BF71/BF72/BF73 answer fpaServicesClosed.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import type { CurveName } from '../../core/crypto/curves.ts';
import { uncompressPublicKey } from '../../core/crypto/ecdh.ts';
import { isIfppError } from '../../core/errors.ts';
import type { DeleteOneTimeKeysRequest, FactoryDialect, FactoryResultName, PrepareFactoryLoadRequest } from '../../core/rsp/factory.ts';
import type { Certificate } from '../../core/x509/certificate.ts';
import { parseCertificateCached } from './certificate-cache.ts';
import { verifyChain, type ChainFailure } from '../../core/x509/chain.ts';
import type { ChipState } from './chip-state.ts';
import type { ChipIdentity } from './identity.ts';

/** What PrepareFactoryLoad hands to the BPP load that follows. */
export interface PreparedLoad {
  readonly keyIndex: number;
  readonly otpk: Uint8Array;
  readonly otSk: Uint8Array;
  readonly dpPbPublicKey: Uint8Array;
  readonly dpPbCurve: CurveName;
  /** SM-DP OID from CERT.DPpb (subjectAltName registeredID): smdpOid in the PIR. */
  readonly smdpOid: string | undefined;
}

export interface PrepareOutcome {
  readonly result: FactoryResultName;
  readonly prepared?: PreparedLoad;
  /** Why the certificate was refused (for logs and tests). */
  readonly certFailure?: ChainFailure | string;
}

/** Index of the reel key `otpk` names (compressed or uncompressed), or -1. */
export function keyIndexOf(identity: ChipIdentity, otpk: Uint8Array): number {
  let want: string;
  try {
    want = toHex(uncompressPublicKey(identity.curve, otpk));
  } catch {
    return -1;
  }
  return identity.otks.findIndex((k) => k.pkHex === want);
}

export function getFactoryInfo(dialect: FactoryDialect, state: ChipState): Uint8Array {
  return dialect.encodeGetFactoryInfoResponse({
    fpaServices: state.fpaServices,
    oneTimeKeys: state.keys
      .filter((k) => k.state !== 'deleted')
      .map((k) => ({ otpk: fromHex(k.otpk), state: k.state === 'unused' ? 'unused' : 'consumed' })),
  });
}

export function prepareFactoryLoad(identity: ChipIdentity, state: ChipState, req: PrepareFactoryLoadRequest, at: Date): PrepareOutcome {
  if (state.fpaServices === 'closed') return { result: 'fpaServicesClosed' };
  const i = keyIndexOf(identity, req.euiccOtpk);
  const ks = i >= 0 ? state.keys[i] : undefined;
  if (!ks || ks.state === 'deleted') return { result: 'unknownOneTimeKey' };
  if (ks.state === 'consumed') return { result: 'keyAlreadyUsed' };
  let leaf: Certificate;
  let intermediates: Certificate[];
  try {
    leaf = parseCertificateCached(req.dpPbCertificate);
    intermediates = (req.otherCertsInChain ?? []).map((c) => parseCertificateCached(c));
  } catch (e) {
    if (!isIfppError(e)) throw e;
    return { result: 'invalidCertificate', certFailure: e.message };
  }
  const chain = verifyChain({ leaf, intermediates, trustAnchors: identity.trustAnchors, at, role: 'dp-pb' });
  if (!chain.ok) return { result: 'invalidCertificate', certFailure: chain.failure ?? 'no path to a trusted CI' };
  const otk = identity.otks[i]!;
  return {
    result: 'ok',
    prepared: {
      keyIndex: i,
      otpk: otk.pk,
      otSk: otk.sk,
      dpPbPublicKey: leaf.publicKey.point,
      dpPbCurve: leaf.publicKey.curve,
      smdpOid: leaf.extensions.registeredIds[0],
    },
  };
}

export interface DeleteOutcome {
  readonly result: FactoryResultName;
  readonly deleted: number[];
}

export function deleteOneTimeKeys(identity: ChipIdentity, state: ChipState, req: DeleteOneTimeKeysRequest): DeleteOutcome {
  if (state.fpaServices === 'closed') return { result: 'fpaServicesClosed', deleted: [] };
  let targets: number[];
  if (req.keys === undefined) {
    targets = state.keys.flatMap((k, i) => (k.state === 'unused' ? [i] : []));
  } else {
    targets = [];
    for (const pk of req.keys) {
      const i = keyIndexOf(identity, pk);
      if (i < 0 || state.keys[i]!.state === 'deleted') return { result: 'unknownOneTimeKey', deleted: [] };
      if (!targets.includes(i)) targets.push(i);
    }
  }
  if (targets.length === 0) return { result: 'nothingToDelete', deleted: [] };
  for (const i of targets) state.keys[i]!.state = 'deleted';
  return { result: 'ok', deleted: targets };
}

export function closeFpaServices(state: ChipState): FactoryResultName {
  if (state.fpaServices === 'closed') return 'fpaServicesClosed';
  state.fpaServices = 'closed';
  return 'ok';
}

/** Unused one-time keys left on the chip (LPA services stay refused while there are any). */
export function unusedKeys(state: ChipState): number {
  return state.keys.filter((k) => k.state === 'unused').length;
}
