/**
 * The node:crypto AES and CMAC of the simulators (src/binding/aes.ts) give the bytes of the
 * published vectors and of @noble/ciphers, the reference, on seeded random inputs (the seed is
 * logged; replay with IFPP_AES_SEED).
 */
import { describe, expect, it } from 'vitest';
import { cbc, cmac, ecb } from '@noble/ciphers/aes.js';
import { AesCmac, aesCbcDecrypt, aesCbcEncrypt, aesCmac, aesEcbEncrypt } from '../../src/binding/aes.ts';
import { BspSession, deriveBspKeys } from '../../src/binding/bsp.ts';
import { concatBytes, fromHex, toHex, uintBytes } from '../../src/core/bytes.ts';
import { encodeHeader } from '../../src/core/tlv/ber-tlv.ts';
import { IfppError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/sim/seeded-random.ts';

const SEED = Number(process.env.IFPP_AES_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(SEED);
const int = (n: number) => Math.floor(random() * n);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));

// RFC 4493 §4 and NIST SP 800-38A F.1.1 / F.2.1 (AES-128).
const K = fromHex('2b7e151628aed2a6abf7158809cf4f3c');
const M64 = fromHex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710');

describe('node:crypto AES-128 and CMAC (simulator side)', () => {
  it('RFC 4493 AES-CMAC examples 1-4 (0, 16, 40 and 64 bytes)', () => {
    expect(toHex(aesCmac(K, M64.subarray(0, 0))).toLowerCase()).toBe('bb1d6929e95937287fa37d129b756746');
    expect(toHex(aesCmac(K, M64.subarray(0, 16))).toLowerCase()).toBe('070a16b46b4d4144f79bdd9dd04a287c');
    expect(toHex(aesCmac(K, M64.subarray(0, 40))).toLowerCase()).toBe('dfa66747de9ae63030ca32611497c827');
    expect(toHex(aesCmac(K, M64)).toLowerCase()).toBe('51f0bebf7e3b9d92fc49741779363cfe');
  });

  it('SP 800-38A ECB and CBC known answers, and CBC decrypts its own output', () => {
    expect(toHex(aesEcbEncrypt(K, M64.subarray(0, 16))).toLowerCase()).toBe('3ad77bb40d7a3660a89ecaf32466ef97');
    const iv = fromHex('000102030405060708090a0b0c0d0e0f');
    const ct = aesCbcEncrypt(K, iv, M64);
    expect(toHex(ct).toLowerCase()).toBe('7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7');
    expect(aesCbcDecrypt(K, iv, ct)).toEqual(M64);
  });

  it('the same bytes as @noble/ciphers on seeded random keys, IVs and lengths', () => {
    console.info(`aes: random inputs from seed ${SEED} (replay with IFPP_AES_SEED=${SEED})`);
    for (let i = 0; i < 300; i++) {
      const key = bytes(16);
      const iv = bytes(16);
      // Whole blocks for CBC/ECB (0 to 66 of them: a BSP segment is up to 64); any length for CMAC.
      const blocks = bytes(16 * int(67));
      const message = bytes(i < 40 ? i : int(1100));
      const ctx = `seed ${SEED}, case ${i}`;
      expect(toHex(aesCbcEncrypt(key, iv, blocks)), ctx).toBe(toHex(cbc(key, iv, { disablePadding: true }).encrypt(blocks)));
      expect(toHex(aesCbcDecrypt(key, iv, blocks)), ctx).toBe(toHex(cbc(key, iv, { disablePadding: true }).decrypt(blocks)));
      expect(toHex(aesEcbEncrypt(key, blocks)), ctx).toBe(toHex(ecb(key, { disablePadding: true }).encrypt(blocks)));
      expect(toHex(aesCmac(key, message)), ctx).toBe(toHex(cmac(message, key)));
    }
  });

  it('one AesCmac serves many messages (subkeys derived once) and returns plain arrays of its own', () => {
    const key = bytes(16);
    const copy = key.slice();
    const m = new AesCmac(key);
    key.fill(0); // the instance keeps its own copy
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 1020]) {
      const msg = bytes(n);
      const tag = m.mac(msg);
      expect(toHex(tag), `seed ${SEED}, ${n} bytes`).toBe(toHex(cmac(msg, copy)));
      expect(Object.getPrototypeOf(tag)).toBe(Uint8Array.prototype);
      expect(tag.buffer.byteLength).toBe(16);
    }
    const out = aesCbcEncrypt(K, new Uint8Array(16), M64);
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
    expect(out.buffer.byteLength).toBe(64);
  });

  it('refuses partial blocks and other key lengths with a coded error, never pads', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof IfppError ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => aesCbcEncrypt(K, new Uint8Array(16), new Uint8Array(17)))).toBe('CRYPTO_BAD_LENGTH');
    expect(code(() => aesCbcDecrypt(K, new Uint8Array(16), new Uint8Array(15)))).toBe('CRYPTO_BAD_LENGTH');
    expect(code(() => aesEcbEncrypt(new Uint8Array(24), new Uint8Array(16)))).toBe('CRYPTO_BAD_LENGTH');
    expect(code(() => new AesCmac(new Uint8Array(15)))).toBe('CRYPTO_BAD_LENGTH');
  });

  it('a BSP session protects into the segments @noble/ciphers makes from the same keys', () => {
    const keys = deriveBspKeys(bytes(32), { hostId: bytes(1 + int(16)), eid: bytes(16) });
    const plaintext = bytes(1 + int(4000));
    const segments = new BspSession(keys).protect(0x86, plaintext);
    // The reference: counter from 1, ICV = E(S-ENC, counter), CBC, 80 00.. padding, CMAC chained from the initial MCV.
    let mcv = keys.initialMcv;
    const expected: string[] = [];
    for (let at = 0, counter = 1; at < plaintext.length; at += 1007, counter++) {
      const chunk = plaintext.subarray(at, at + 1007);
      const padded = new Uint8Array((Math.floor(chunk.length / 16) + 1) * 16);
      padded.set(chunk);
      padded[chunk.length] = 0x80;
      const icv = ecb(keys.sEnc, { disablePadding: true }).encrypt(uintBytes(counter, 16));
      const ct = cbc(keys.sEnc, icv, { disablePadding: true }).encrypt(padded);
      const header = encodeHeader(0x86, ct.length + 8);
      mcv = cmac(concatBytes(mcv, header, ct), keys.sMac);
      expected.push(toHex(concatBytes(header, ct, mcv.subarray(0, 8))));
    }
    expect(segments.map(toHex), `seed ${SEED}`).toEqual(expected);
  });
});
