/** ANSI X9.63 key derivation with SHA-256 (SEC 1 §3.6.1), as SGP.22 uses it for BSP keys. */
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.ts';

const HASH_LEN = 32;

/** K = SHA-256(Z | counter | SharedInfo) for counter = 1, 2, ... (32-bit big-endian), truncated to `length`. */
export function x963Kdf(z: Uint8Array, sharedInfo: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HASH_LEN * 0xffff) {
    throw new CryptoError('CRYPTO_BAD_LENGTH', `X9.63 KDF output length ${length} is out of range`);
  }
  const out = new Uint8Array(length);
  const input = new Uint8Array(z.length + 4 + sharedInfo.length);
  input.set(z, 0);
  input.set(sharedInfo, z.length + 4);
  const view = new DataView(input.buffer);
  for (let counter = 1, pos = 0; pos < length; counter++, pos += HASH_LEN) {
    view.setUint32(z.length, counter, false);
    out.set(sha256(input).subarray(0, Math.min(HASH_LEN, length - pos)), pos);
  }
  return out;
}
