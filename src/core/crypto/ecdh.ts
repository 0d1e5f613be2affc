/**
 * ECKA (ECDH) on the GSMA RSP curves, as used for BSP session keys: Z is the x-coordinate of
 * the shared point (SGP.22 / BSI TR-03111 ECKA-DH, no cofactor: both curves have h = 1).
 *
 * Inputs are validated with the pure-JS curves; the scalar multiplications run on node:crypto
 * (OpenSSL), 3 to 25 times faster: the simulated eUICC and SM-DPf do one ECDH per BPP.
 */
import { createECDH } from 'node:crypto';
import { curveImpl, type CurveName } from './curves.ts';
import { CryptoError } from './errors.ts';

export interface EcKeyPair {
  /** 32-byte big-endian scalar. */
  readonly secretKey: Uint8Array;
  /** 65-byte uncompressed point 04 || x || y. */
  readonly publicKey: Uint8Array;
}

export function generateKeyPair(curve: CurveName): EcKeyPair {
  const impl = curveImpl(curve);
  const secretKey = impl.utils.randomSecretKey();
  return { secretKey, publicKey: impl.getPublicKey(secretKey, false) };
}

const OPENSSL_CURVE: Readonly<Record<CurveName, string>> = { nist: 'prime256v1', brp: 'brainpoolP256r1' };

/** Uncompressed public key of a secret key. */
export function publicKeyFromSecret(curve: CurveName, secretKey: Uint8Array): Uint8Array {
  requireSecretKey(curve, secretKey);
  const e = createECDH(OPENSSL_CURVE[curve]);
  e.setPrivateKey(secretKey);
  return new Uint8Array(e.getPublicKey());
}

/** True when `publicKey` (65-byte uncompressed or 33-byte compressed) is a point on the curve. */
export function isValidPublicKey(curve: CurveName, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 65 && publicKey.length !== 33) return false;
  try {
    return curveImpl(curve).utils.isValidPublicKey(publicKey);
  } catch {
    return false;
  }
}

/** Uncompressed form of a valid public key given in either SEC1 form. */
export function uncompressPublicKey(curve: CurveName, publicKey: Uint8Array): Uint8Array {
  requirePublicKey(curve, publicKey);
  return curveImpl(curve).Point.fromBytes(publicKey).toBytes(false);
}

/** Z: the 32-byte x-coordinate of secretKey x peerPublicKey. */
export function ecdhSharedSecret(curve: CurveName, secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  requireSecretKey(curve, secretKey);
  requirePublicKey(curve, peerPublicKey);
  const e = createECDH(OPENSSL_CURVE[curve]);
  e.setPrivateKey(secretKey);
  // OpenSSL's ECDH output is the x-coordinate of the shared point, left-padded to 32 bytes.
  return new Uint8Array(e.computeSecret(peerPublicKey));
}

function requireSecretKey(curve: CurveName, secretKey: Uint8Array): void {
  if (secretKey.length !== 32 || !curveImpl(curve).utils.isValidSecretKey(secretKey)) {
    throw new CryptoError('CRYPTO_BAD_SECRET_KEY', `not a valid ${curve} secret key (${secretKey.length} bytes)`, {
      hint: 'a secret key is a 32-byte scalar between 1 and the curve order - 1',
    });
  }
}

function requirePublicKey(curve: CurveName, publicKey: Uint8Array): void {
  if (!isValidPublicKey(curve, publicKey)) {
    throw new CryptoError('CRYPTO_BAD_PUBLIC_KEY', `public key (${publicKey.length} bytes) is not a point on ${curve}`, {
      hint: 'expect 65 bytes 04||x||y (or 33 compressed) on the curve named by the certificate',
    });
  }
}
