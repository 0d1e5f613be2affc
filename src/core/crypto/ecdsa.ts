/**
 * ECDSA with SHA-256 on the two GSMA RSP curves. Signatures travel in two encodings: plain
 * r||s (SGP.22 structures: smdpSign, euiccSignPIR, ...) and DER ECDSA-Sig-Value (X.509).
 */
import { curveImpl, type CurveName } from './curves.ts';
import { CryptoError } from './errors.ts';
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { concatBytes, fromHex, toHex } from '../bytes.ts';
import { encodeHeader, readTlv } from '../tlv/ber-tlv.ts';
import { isIfppError } from '../errors.ts';

const SCALAR_BYTES = 32;

/** Signs SHA-256(message); returns 64-byte r||s (deterministic RFC 6979 nonce, low-S). */
export function ecdsaSign(curve: CurveName, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  const impl = curveImpl(curve);
  if (secretKey.length !== SCALAR_BYTES || !impl.utils.isValidSecretKey(secretKey)) {
    throw new CryptoError('CRYPTO_BAD_SECRET_KEY', `not a valid ${curve} secret key (${secretKey.length} bytes)`);
  }
  return impl.sign(message, secretKey, { prehash: true, format: 'compact' });
}

/**
 * Verifies a 64-byte r||s signature over SHA-256(message). High-S signatures are accepted:
 * other RSP implementations (OpenSSL-based ones in particular) do not normalise S.
 * Never throws for malformed key or signature bytes; returns false.
 *
 * Runs on node:crypto (OpenSSL), about 20x faster than the pure-JS curves: the station
 * verifies a PIR and a certificate chain per unit and a BF23 signature per imported BPP.
 */
export function ecdsaVerify(curve: CurveName, publicKey: Uint8Array, message: Uint8Array, signatureRaw64: Uint8Array): boolean {
  if (signatureRaw64.length !== 2 * SCALAR_BYTES) return false;
  const p0 = publicKey[0];
  if (!(publicKey.length === 65 && p0 === 0x04) && !(publicKey.length === 33 && (p0 === 0x02 || p0 === 0x03))) return false;
  const key = verifyKey(curve, publicKey);
  if (!key) return false;
  try {
    return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signatureRaw64);
  } catch {
    return false;
  }
}

/** DER of SubjectPublicKeyInfo up to the point: AlgorithmIdentifier { id-ecPublicKey, named curve }. */
const ALGORITHM_ID: Readonly<Record<CurveName, Uint8Array>> = {
  // 1.2.840.10045.2.1, 1.2.840.10045.3.1.7 (prime256v1)
  nist: fromHex('301306072a8648ce3d020106082a8648ce3d030107'),
  // 1.2.840.10045.2.1, 1.3.36.3.3.2.8.1.1.7 (brainpoolP256r1)
  brp: fromHex('301406072a8648ce3d020106092b2403030208010107'),
};

/** Parsed public keys by curve and point: a batch import verifies every BPP with the same CERT.DPpb. */
const keyCache = new Map<string, KeyObject | null>();
const KEY_CACHE_MAX = 256;

function verifyKey(curve: CurveName, point: Uint8Array): KeyObject | null {
  const id = curve + toHex(point);
  let k = keyCache.get(id);
  if (k !== undefined) return k;
  const bits = concatBytes(Uint8Array.of(0), point);
  const spki = concatBytes(encodeHeader(0x30, ALGORITHM_ID[curve].length + encodeHeader(0x03, bits.length).length + bits.length), ALGORITHM_ID[curve], encodeHeader(0x03, bits.length), bits);
  try {
    k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    k = null; // not a point on the curve
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, k);
  return k;
}

/** r||s (even length, two equal halves) to DER SEQUENCE { INTEGER r, INTEGER s }. */
export function signatureRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new CryptoError('CRYPTO_BAD_SIGNATURE', `raw signature must be r||s of two equal halves, got ${raw.length} bytes`);
  }
  const half = raw.length / 2;
  const body = concatBytes(derUnsignedInteger(raw.subarray(0, half)), derUnsignedInteger(raw.subarray(half)));
  return concatBytes(encodeHeader(0x30, body.length), body);
}

/**
 * DER ECDSA-Sig-Value to r||s with each integer left-padded to `size` bytes. Rejects anything
 * but one SEQUENCE of two positive INTEGERs that fit in `size` bytes (redundant leading zero
 * bytes are tolerated: some encoders emit them).
 */
export function signatureDerToRaw(der: Uint8Array, size = SCALAR_BYTES): Uint8Array {
  try {
    const seq = readTlv(der, 0);
    if (seq.tag !== 0x30) throw bad(`expected SEQUENCE (30), found tag ${seq.tag.toString(16)}`);
    if (seq.raw.length !== der.length) throw bad(`${der.length - seq.raw.length} bytes after the signature`);
    const r = readTlv(seq.value, 0);
    const s = readTlv(seq.value, r.raw.length);
    if (r.raw.length + s.raw.length !== seq.value.length) throw bad('extra elements inside the signature SEQUENCE');
    return concatBytes(integerToFixed(r.tag, r.value, size, 'r'), integerToFixed(s.tag, s.value, size, 's'));
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw bad(isIfppError(e) ? e.message : 'unparseable DER', e);
  }
}

function bad(message: string, cause?: unknown): CryptoError {
  return new CryptoError('CRYPTO_BAD_SIGNATURE', `malformed DER ECDSA signature: ${message}`, cause === undefined ? {} : { cause });
}

function integerToFixed(tag: number, value: Uint8Array, size: number, name: string): Uint8Array {
  if (tag !== 0x02) throw bad(`${name}: expected INTEGER (02), found tag ${tag.toString(16)}`);
  if (value.length === 0) throw bad(`${name}: empty INTEGER`);
  if ((value[0]! & 0x80) !== 0) throw bad(`${name}: negative INTEGER`);
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const digits = value.subarray(start);
  if (digits.length > size) throw bad(`${name}: ${digits.length} bytes do not fit in ${size}`);
  if (digits.length === 1 && digits[0] === 0) throw bad(`${name} is zero`);
  const out = new Uint8Array(size);
  out.set(digits, size - digits.length);
  return out;
}

/** Minimal DER INTEGER for an unsigned big-endian number. */
function derUnsignedInteger(n: Uint8Array): Uint8Array {
  let start = 0;
  while (start < n.length - 1 && n[start] === 0) start++;
  let digits = n.subarray(start);
  if ((digits[0]! & 0x80) !== 0) digits = concatBytes(Uint8Array.of(0), digits);
  return concatBytes(encodeHeader(0x02, digits.length), digits);
}
