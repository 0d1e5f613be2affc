/**
 * AES-128 for BSP through node:crypto (OpenSSL; AES-NI where the CPU has it): CBC and ECB
 * without padding, and AES-CMAC (RFC 4493, NIST SP 800-38B) built on CBC, since Node 20 has no
 * CMAC of its own. The same bytes as @noble/ciphers (test/binding/aes.test.ts checks them
 * against it and the RFC 4493 vectors), for a fraction of the CPU: the simulated eUICC and
 * SM-DPf run these for every segment of every BPP, and simulators share the cores with the
 * station they test.
 *
 * Every result is a plain Uint8Array of its own (not a Buffer: Buffer's slice() is a view, and
 * callers slice what these return).
 *
 * Simulator side only, like the rest of binding/.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { CryptoError } from '../core/crypto/errors.ts';

const BLOCK = 16;
const ZERO_BLOCK = new Uint8Array(BLOCK);

function checkKey(key: Uint8Array): void {
  if (key.length !== 16) throw new CryptoError('CRYPTO_BAD_LENGTH', `AES-128 key of ${key.length} bytes (must be 16)`);
}

function checkBlocks(data: Uint8Array, what: string): void {
  if (data.length % BLOCK !== 0) throw new CryptoError('CRYPTO_BAD_LENGTH', `${what} of ${data.length} bytes is not a multiple of 16 (no padding is added)`);
}

/** All of `data` through a cipher without padding, as one new Uint8Array. */
function run(c: Cipher | Decipher, data: Uint8Array): Uint8Array {
  c.setAutoPadding(false);
  const a = c.update(data);
  const b = c.final(); // empty: the input is whole blocks
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data, 'CBC plaintext');
  return run(createCipheriv('aes-128-cbc', key, iv), data);
}

export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data, 'CBC ciphertext');
  return run(createDecipheriv('aes-128-cbc', key, iv), data);
}

export function aesEcbEncrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key);
  checkBlocks(data, 'ECB plaintext');
  return run(createCipheriv('aes-128-ecb', key, null), data);
}

/** Doubling in GF(2^128) (RFC 4493 §2.3): shift left one bit, xor 0x87 into the last byte on carry. */
function dbl(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((b[i]! << 1) | (i + 1 < BLOCK ? b[i + 1]! >>> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[BLOCK - 1]! ^= 0x87;
  return out;
}

/** AES-CMAC with one key: the subkeys K1, K2 are derived once, at construction. */
export class AesCmac {
  readonly #key: Uint8Array;
  readonly #k1: Uint8Array;
  readonly #k2: Uint8Array;

  constructor(key: Uint8Array) {
    checkKey(key);
    this.#key = key.slice();
    const l = aesEcbEncrypt(this.#key, ZERO_BLOCK);
    this.#k1 = dbl(l);
    this.#k2 = dbl(this.#k1);
  }

  /** The full 16-byte tag of `message` (any length, empty included). */
  mac(message: Uint8Array): Uint8Array {
    // All blocks but the last go through CBC as they are; the last is xored with K1 when whole,
    // or padded (80 00..) and xored with K2; the tag is the last CBC output block.
    const n = Math.max(1, Math.ceil(message.length / BLOCK));
    const headLength = (n - 1) * BLOCK;
    const tail = message.subarray(headLength);
    const last = new Uint8Array(BLOCK);
    last.set(tail, 0);
    let sub = this.#k1;
    if (tail.length < BLOCK) {
      last[tail.length] = 0x80;
      sub = this.#k2;
    }
    for (let i = 0; i < BLOCK; i++) last[i]! ^= sub[i]!;
    const c = createCipheriv('aes-128-cbc', this.#key, ZERO_BLOCK);
    c.setAutoPadding(false);
    if (headLength) c.update(message.subarray(0, headLength));
    const t = c.update(last);
    return new Uint8Array(t.subarray(t.length - BLOCK));
  }
}

/** AES-CMAC of `message` under `key` (one-off; a session keeps an AesCmac instead). */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  return new AesCmac(key).mac(message);
}
