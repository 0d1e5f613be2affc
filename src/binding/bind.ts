/**
 * SM-DPf side: binds an Unprotected Profile Package (SAIP DER) to one eUICC one-time public
 * key, producing a Bound Profile Package (SGP.22 §2.5). Simulator and test use only: the
 * station never imports src/binding/.
 *
 * Every BPP gets a fresh ephemeral SM-DPf key pair (forward secrecy, SGP.41): Z = ECDH(otSK.DP,
 * otPK.EUICC), session keys per the primer, BF23 signed with SK.DPpb.
 */
import { randomBytes } from 'node:crypto';
import type { CurveName } from '../core/crypto/curves.ts';
import { ecdhSharedSecret, generateKeyPair, isValidPublicKey } from '../core/crypto/ecdh.ts';
import { ecdsaSign } from '../core/crypto/ecdsa.ts';
import { bf23DataToSign, encodeBf23 } from '../core/rsp/bf23.ts';
import { buildBpp } from '../core/rsp/bpp.ts';
import { eidToBytes } from '../core/rsp/eid.ts';
import { encodeConfigureIsdp, encodeReplaceSessionKeys, encodeStoreMetadata, type ConfigureIsdpRequest, type ProfileMetadata } from '../core/rsp/metadata.ts';
import { IfppError } from '../core/errors.ts';
import { BspSession } from './bsp.ts';

export class BindError extends IfppError {}

export interface BindOptions {
  /** The profile: SAIP DER (a sequence of profile elements). */
  upp: Uint8Array;
  /** EID of the target chip (32 digits); enters the key derivation. */
  eid: string;
  /** otPK.EUICC: the one-time public key this BPP is bound to (65-byte uncompressed). */
  euiccOtpk: Uint8Array;
  /** Curve of the one-time key; found from the key when omitted. */
  otCurve?: CurveName;
  /** SK.DPpb signs BF23. */
  dpPb: { curve: CurveName; secretKey: Uint8Array };
  metadata: ProfileMetadata;
  configureIsdp?: ConfigureIsdpRequest;
  /** Use ReplaceSessionKeys (A2) so the profile segments use fresh PPKs. */
  replaceSessionKeys?: boolean;
  transactionId?: Uint8Array;
  hostId?: Uint8Array;
}

export interface BoundProfile {
  bpp: Uint8Array;
  transactionId: Uint8Array;
  smdpOtpk: Uint8Array;
}

/** Default hostId: ASCII "IFPP-SMDPF" (SGP.22 leaves the value to the SM-DP). */
const DEFAULT_HOST_ID = new TextEncoder().encode('IFPP-SMDPF');

export function curveOfPublicKey(pk: Uint8Array): CurveName {
  if (isValidPublicKey('nist', pk)) return 'nist';
  if (isValidPublicKey('brp', pk)) return 'brp';
  throw new BindError('BIND_BAD_OTPK', 'the one-time public key is not a point on NIST P-256 or brainpoolP256r1', {
    hint: 'check the eUICC data: otpks must be 65-byte uncompressed points (04||x||y)',
  });
}

export function bindProfile(o: BindOptions): BoundProfile {
  const otCurve = o.otCurve ?? curveOfPublicKey(o.euiccOtpk);
  if (!isValidPublicKey(otCurve, o.euiccOtpk)) {
    throw new BindError('BIND_BAD_OTPK', `the one-time public key is not a valid point on ${otCurve}`);
  }
  const eph = generateKeyPair(otCurve);
  const transactionId = o.transactionId ?? new Uint8Array(randomBytes(16));
  const hostId = o.hostId ?? DEFAULT_HOST_ID;
  const parts = { transactionId, hostId, smdpOtpk: eph.publicKey };
  const smdpSign = ecdsaSign(o.dpPb.curve, o.dpPb.secretKey, bf23DataToSign(parts, o.euiccOtpk));
  const bf23Raw = encodeBf23({ ...parts, smdpSign });

  const z = ecdhSharedSecret(otCurve, eph.secretKey, o.euiccOtpk);
  eph.secretKey.fill(0);
  const bsp = BspSession.fromSharedSecret(z, { hostId, eid: eidToBytes(o.eid) });
  z.fill(0);

  const seq87 = bsp.protect(0x87, encodeConfigureIsdp(o.configureIsdp ?? {}));
  const seq88 = bsp.macOnly(0x88, encodeStoreMetadata(o.metadata));
  let secondSeq87: Uint8Array[] | undefined;
  if (o.replaceSessionKeys) {
    const ppk = { initialMacChainingValue: new Uint8Array(randomBytes(16)), ppkEnc: new Uint8Array(randomBytes(16)), ppkCmac: new Uint8Array(randomBytes(16)) };
    secondSeq87 = bsp.protect(0x87, encodeReplaceSessionKeys(ppk));
    bsp.replaceSessionKeys(ppk.ppkEnc, ppk.ppkCmac, ppk.initialMacChainingValue);
  }
  const seq86 = bsp.protect(0x86, o.upp);
  return { bpp: buildBpp({ bf23Raw, seq87, seq88, secondSeq87, seq86 }), transactionId, smdpOtpk: eph.publicKey };
}
