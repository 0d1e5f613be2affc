/**
 * ECDSA with SHA-256 on the two GSMA RSP curves. Signatures travel in two encodings: plain
 * r||s (SGP.22 structures: smdpSign, euiccSignPIR, ...) and DER ECDSA-Sig-Value (X.509).
 */
import { curveImpl, type CurveName } from './curves.ts';
import { CryptoError } from './errors.ts';
import { concatBytes } from '../bytes.ts';
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
 */
export function ecdsaVerify(curve: CurveName, publicKey: Uint8Array, message: Uint8Array, signatureRaw64: Uint8Array): boolean {
  if (signatureRaw64.length !== 2 * SCALAR_BYTES) return false;
  if (publicKey.length !== 65 && publicKey.length !== 33) return false;
  try {
    return curveImpl(curve).verify(signatureRaw64, message, publicKey, { prehash: true, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
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
