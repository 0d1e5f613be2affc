import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as nodeCrypto from 'node:crypto';
import { curveImpl, type CurveName } from '../../src/core/crypto/curves.ts';
import { ecdsaSign, ecdsaVerify, signatureDerToRaw, signatureRawToDer } from '../../src/core/crypto/ecdsa.ts';
import { ecdhSharedSecret, generateKeyPair, isValidPublicKey, publicKeyFromSecret } from '../../src/core/crypto/ecdh.ts';
import { x963Kdf } from '../../src/core/crypto/kdf.ts';
import {
  encodePrivateKeyDer,
  encodePrivateKeyPem,
  encodePublicKeyPem,
  parsePrivateKeyDer,
  parsePrivateKeyPem,
  parsePublicKeyDer,
  parsePublicKeyPem,
} from '../../src/core/crypto/keys.ts';
import { CryptoError } from '../../src/core/crypto/errors.ts';
import { IfppError } from '../../src/core/errors.ts';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { tlv } from '../../src/core/tlv/ber-tlv.ts';
import { describeShared, sharedText } from '../helpers/shared-data.ts';

const CURVES: CurveName[] = ['nist', 'brp'];
const OPENSSL_NAME: Record<CurveName, string> = { nist: 'prime256v1', brp: 'brainpoolP256r1' };
const msg = new TextEncoder().encode('BF23 signed part, for example');

function order(curve: CurveName): bigint {
  return curveImpl(curve).Point.Fn.ORDER;
}
function bigToBytes(n: bigint, len = 32): Uint8Array {
  return fromHex(n.toString(16).padStart(len * 2, '0'));
}
function bytesToBig(b: Uint8Array): bigint {
  return BigInt('0x' + (toHex(b) || '0'));
}
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IfppError) return e.code;
    return `untyped: ${String(e)}`;
  }
  return 'no error';
}

describe.each(CURVES)('ECDSA on %s', (curve) => {
  const { secretKey, publicKey } = generateKeyPair(curve);

  it('signs r||s that verifies, and rejects a changed message, key or curve', () => {
    const sig = ecdsaSign(curve, secretKey, msg);
    expect(sig.length).toBe(64);
    expect(ecdsaVerify(curve, publicKey, msg, sig)).toBe(true);
    expect(ecdsaVerify(curve, publicKey, concatBytes(msg, Uint8Array.of(0)), sig)).toBe(false);
    expect(ecdsaVerify(curve, generateKeyPair(curve).publicKey, msg, sig)).toBe(false);
    // Same scalar (valid on both curves), same message: the other curve's key must not verify.
    const other: CurveName = curve === 'nist' ? 'brp' : 'nist';
    const shared = bigToBytes(0x1234567890abcdef1234567890abcdefn);
    const sigShared = ecdsaSign(curve, shared, msg);
    expect(ecdsaVerify(curve, publicKeyFromSecret(curve, shared), msg, sigShared)).toBe(true);
    expect(ecdsaVerify(other, publicKeyFromSecret(other, shared), msg, sigShared)).toBe(false);
  });

  it('accepts the compressed form of the public key', () => {
    const compressed = curveImpl(curve).getPublicKey(secretKey, true);
    expect(ecdsaVerify(curve, compressed, msg, ecdsaSign(curve, secretKey, msg))).toBe(true);
  });

  it('accepts high-S signatures (s replaced by n - s)', () => {
    const sig = ecdsaSign(curve, secretKey, msg);
    const s = bytesToBig(sig.subarray(32));
    const highS = concatBytes(sig.subarray(0, 32), bigToBytes(order(curve) - s));
    expect(bytesToBig(highS.subarray(32)) > order(curve) / 2n).toBe(true);
    expect(ecdsaVerify(curve, publicKey, msg, highS)).toBe(true);
  });

  it('returns false, never throws, for malformed signatures and keys', () => {
    const sig = ecdsaSign(curve, secretKey, msg);
    const n = bigToBytes(order(curve));
    const cases: [Uint8Array, Uint8Array][] = [
      [publicKey, sig.subarray(0, 63)],
      [publicKey, new Uint8Array(64)],
      [publicKey, concatBytes(n, sig.subarray(32))], // r = n is out of range
      [publicKey, new Uint8Array(64).fill(0xff)],
      [publicKey.subarray(0, 64), sig],
      [new Uint8Array(65), sig],
      [concatBytes(publicKey.subarray(0, 64), Uint8Array.of(publicKey[64]! ^ 1)), sig], // not on the curve
      [new Uint8Array(0), sig],
      [concatBytes(Uint8Array.of(publicKey[64]! & 1 ? 0x07 : 0x06), publicKey.subarray(1)), sig], // hybrid form: OpenSSL would take it
    ];
    for (const [pk, s] of cases) expect(ecdsaVerify(curve, pk, msg, s)).toBe(false);
  });

  it('interoperates with OpenSSL both ways (node:crypto, DER signatures, random and high S)', () => {
    const skPem = encodePrivateKeyPem(curve, secretKey);
    const nodeSk = nodeCrypto.createPrivateKey(skPem);
    const nodePk = nodeCrypto.createPublicKey(encodePublicKeyPem(curve, publicKey));
    let sawHighS = false;
    for (let i = 0; i < 24; i++) {
      const der = new Uint8Array(nodeCrypto.sign('sha256', msg, nodeSk));
      const raw = signatureDerToRaw(der);
      if (bytesToBig(raw.subarray(32)) > order(curve) / 2n) sawHighS = true;
      expect(ecdsaVerify(curve, publicKey, msg, raw)).toBe(true);
      expect(toHex(signatureRawToDer(raw))).toBe(toHex(der));
    }
    // OpenSSL does not normalise S: with 24 signatures all low-S would be a 1 in 16 million event.
    expect(sawHighS).toBe(true);
    const ours = signatureRawToDer(ecdsaSign(curve, secretKey, msg));
    expect(nodeCrypto.verify('sha256', msg, nodePk, ours)).toBe(true);
  });
});

describe('DER <-> raw ECDSA signatures', () => {
  it('adds a 00 for high-bit integers and drops leading zeros', () => {
    const r = bigToBytes(1n);
    const s = concatBytes(Uint8Array.of(0x80), new Uint8Array(31));
    const der = signatureRawToDer(concatBytes(r, s));
    expect(toHex(der)).toBe('3026' + '020101' + '022100' + '80' + '00'.repeat(31));
    expect(toHex(signatureDerToRaw(der))).toBe(toHex(concatBytes(r, s)));
  });

  it('round-trips random r||s of any value, including leading zero bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.integer({ min: 0, max: 31 }), (raw, zeros) => {
        raw.fill(0, 0, zeros); // r with `zeros` leading zero bytes
        if (raw.subarray(0, 32).every((b) => b === 0)) raw[31] = 1;
        if (raw.subarray(32).every((b) => b === 0)) raw[63] = 1;
        expect(toHex(signatureDerToRaw(signatureRawToDer(raw)))).toBe(toHex(raw));
      }),
      { numRuns: 300 },
    );
  });

  it('tolerates redundant leading zeros but rejects malformed DER with CRYPTO_BAD_SIGNATURE', () => {
    const padded = fromHex('300a' + '02030000ff' + '0203000001');
    expect(toHex(signatureDerToRaw(padded))).toBe('00'.repeat(31) + 'ff' + '00'.repeat(31) + '01');
    const bad = [
      '', // nothing
      '3006020101020101' + '00', // trailing byte
      '3106020101020101', // SET, not SEQUENCE
      '3006040101020101', // OCTET STRING r
      '3006020181020101', // negative r
      '3009020101020101020101', // three integers
      '3003020101', // one integer
      '3006020100020101', // r = 0
      '3006020101020100', // s = 0
      '30060201010201', // truncated
      '3026' + '020101' + '0221' + '01' + '00'.repeat(32), // s needs 33 bytes
      '3080020101020101' + '0000', // indefinite length
    ];
    for (const h of bad) expect(codeOf(() => signatureDerToRaw(fromHex(h))), h).toBe('CRYPTO_BAD_SIGNATURE');
    expect(codeOf(() => signatureRawToDer(new Uint8Array(63)))).toBe('CRYPTO_BAD_SIGNATURE');
  });
});

describe.each(CURVES)('ECDH on %s', (curve) => {
  it('is symmetric, gives the 32-byte x-coordinate, and agrees with OpenSSL', () => {
    const a = generateKeyPair(curve);
    const b = generateKeyPair(curve);
    expect(a.publicKey.length).toBe(65);
    expect(a.publicKey[0]).toBe(0x04);
    expect(toHex(publicKeyFromSecret(curve, a.secretKey))).toBe(toHex(a.publicKey));
    const zab = ecdhSharedSecret(curve, a.secretKey, b.publicKey);
    expect(zab.length).toBe(32);
    expect(toHex(ecdhSharedSecret(curve, b.secretKey, a.publicKey))).toBe(toHex(zab));
    const node = nodeCrypto.createECDH(OPENSSL_NAME[curve]);
    node.setPrivateKey(a.secretKey);
    expect(toHex(new Uint8Array(node.computeSecret(b.publicKey)))).toBe(toHex(zab));
    // The pure-JS curve as an independent reference, and a compressed peer key.
    expect(toHex(curveImpl(curve).getSharedSecret(a.secretKey, b.publicKey, true).slice(1))).toBe(toHex(zab));
    expect(toHex(ecdhSharedSecret(curve, a.secretKey, curveImpl(curve).getPublicKey(b.secretKey, true)))).toBe(toHex(zab));
  });

  it('rejects a peer key that is not on the curve with CRYPTO_BAD_PUBLIC_KEY', () => {
    const a = generateKeyPair(curve);
    const off = a.publicKey.slice();
    off[64]! ^= 1;
    expect(isValidPublicKey(curve, off)).toBe(false);
    expect(isValidPublicKey(curve, a.publicKey)).toBe(true);
    for (const bad of [off, a.publicKey.subarray(0, 64), new Uint8Array(65), Uint8Array.of(0)]) {
      expect(codeOf(() => ecdhSharedSecret(curve, a.secretKey, bad))).toBe('CRYPTO_BAD_PUBLIC_KEY');
    }
    const n = bigToBytes(order(curve));
    for (const sk of [new Uint8Array(32), n, new Uint8Array(31).fill(1)]) {
      expect(codeOf(() => ecdhSharedSecret(curve, sk, a.publicKey))).toBe('CRYPTO_BAD_SECRET_KEY');
    }
  });

  it('a key valid on one curve is (practically) never valid on the other', () => {
    const other: CurveName = curve === 'nist' ? 'brp' : 'nist';
    expect(isValidPublicKey(other, generateKeyPair(curve).publicKey)).toBe(false);
  });
});

describe('ANSI X9.63 KDF (SHA-256)', () => {
  // NIST CAVS ansx963_2001.rsp, [SHA-256] sections.
  it('matches the CAVS vector without SharedInfo', () => {
    const z = fromHex('96c05619d56c328ab95fe84b18264b08725b85e33fd34f08');
    expect(toHex(x963Kdf(z, new Uint8Array(0), 16))).toBe('443024c3dae66b95e6f5670601558f71');
  });

  it('matches the CAVS vector with SharedInfo and 1024 output bits (4 counter blocks)', () => {
    const z = fromHex('22518b10e70f2a3f243810ae3254139efbee04aa57c7af7d');
    const si = fromHex('75eef81aa3041e33b80971203d2c0c52');
    expect(toHex(x963Kdf(z, si, 128))).toBe(
      'c498af77161cc59f2962b9a713e2b215152d139766ce34a776df11866a69bf2e' +
        '52a13d9c7c6fc878c50c5ea0bc7b00e0da2447cfd874f6cf92f30d0097111485' +
        '500c90c3af8b487872d04685d14c8d1dc8d7fa08beb0ce0ababc11f0bd496269' +
        '142d43525a78e5bc79a17f59676a5706dc54d54d4d1f0bd7e386128ec26afc21',
    );
    expect(toHex(x963Kdf(z, si, 48))).toBe(toHex(x963Kdf(z, si, 128).subarray(0, 48)));
  });

  it('rejects impossible lengths with a typed error', () => {
    expect(x963Kdf(new Uint8Array(32), new Uint8Array(0), 0).length).toBe(0);
    expect(codeOf(() => x963Kdf(new Uint8Array(32), new Uint8Array(0), -1))).toBe('CRYPTO_BAD_LENGTH');
    expect(codeOf(() => x963Kdf(new Uint8Array(32), new Uint8Array(0), 1.5))).toBe('CRYPTO_BAD_LENGTH');
  });
});

describeShared('SGP.26 DPpb test keys', () => {
  it.each([
    ['NIST', 'nist'],
    ['BRP', 'brp'],
  ] as const)('%s: the private key gives the published public key and signs for it', (suffix, curve) => {
    const sk = parsePrivateKeyPem(sharedText('sgp26', `SK_S_SM_DPpb_ECDSA_${suffix}.pem`));
    const pk = parsePublicKeyPem(sharedText('sgp26', `PK_S_SM_DPpb_ECDSA_${suffix}.pem`));
    expect(sk.curve).toBe(curve);
    expect(pk.curve).toBe(curve);
    expect(toHex(sk.publicKey)).toBe(toHex(pk.publicKey));
    expect(ecdsaVerify(curve, pk.publicKey, msg, ecdsaSign(curve, sk.secretKey, msg))).toBe(true);
    // Our encoder writes what OpenSSL wrote (SEC1, named curve, public key).
    const block = sharedText('sgp26', `SK_S_SM_DPpb_ECDSA_${suffix}.pem`).match(/-----BEGIN EC PRIVATE KEY-----[\s\S]*?-----END EC PRIVATE KEY-----\n?/)![0];
    expect(encodePrivateKeyPem(curve, sk.secretKey).trim()).toBe(block.trim());
  });
});

describe.each(CURVES)('key files on %s', (curve) => {
  const { secretKey, publicKey } = generateKeyPair(curve);
  const sec1 = encodePrivateKeyDer(curve, secretKey);

  it('reads PKCS#8 and SEC1 as OpenSSL writes them', () => {
    const nodeSk = nodeCrypto.createPrivateKey(encodePrivateKeyPem(curve, secretKey));
    for (const type of ['pkcs8', 'sec1'] as const) {
      const pem = nodeSk.export({ type, format: 'pem' }) as string;
      const k = parsePrivateKeyPem(pem);
      expect(k.curve).toBe(curve);
      expect(toHex(k.secretKey)).toBe(toHex(secretKey));
      expect(toHex(k.publicKey)).toBe(toHex(publicKey));
      const der = new Uint8Array(nodeSk.export({ type, format: 'der' }));
      expect(toHex(parsePrivateKeyDer(der).secretKey)).toBe(toHex(secretKey));
    }
    const spki = new Uint8Array(nodeCrypto.createPublicKey(nodeSk).export({ type: 'spki', format: 'der' }));
    expect(parsePublicKeyDer(spki)).toEqual({ curve, publicKey });
  });

  it('reads SEC1 without the [0] parameters: from an EC PARAMETERS block, a hint, or the public key', () => {
    const noParams = tlv(0x30, fromHex('020101'), tlv(0x04, secretKey), tlv(0xa1, tlv(0x03, Uint8Array.of(0), publicKey)));
    expect(parsePrivateKeyDer(noParams).curve).toBe(curve); // inferred from the public key
    const bare = tlv(0x30, fromHex('020101'), tlv(0x04, secretKey));
    expect(parsePrivateKeyDer(bare, curve).curve).toBe(curve);
    expect(codeOf(() => parsePrivateKeyDer(bare))).toBe('CRYPTO_UNSUPPORTED_CURVE');
    const oid = curve === 'nist' ? '06082a8648ce3d030107' : '06092b2403030208010107';
    const pemText =
      `-----BEGIN EC PARAMETERS-----\n${Buffer.from(fromHex(oid)).toString('base64')}\n-----END EC PARAMETERS-----\n` +
      `-----BEGIN EC PRIVATE KEY-----\n${Buffer.from(bare).toString('base64')}\n-----END EC PRIVATE KEY-----\n`;
    const k = parsePrivateKeyPem(pemText);
    expect(k.curve).toBe(curve);
    expect(toHex(k.publicKey)).toBe(toHex(publicKey));
  });

  it('pads a short private key octet string to 32 bytes', () => {
    const sk = new Uint8Array(32);
    sk[31] = 7;
    const short = tlv(0x30, fromHex('020101'), tlv(0x04, Uint8Array.of(7)));
    expect(toHex(parsePrivateKeyDer(short, curve).secretKey)).toBe(toHex(sk));
  });

  it('rejects a file whose public key belongs to another private key', () => {
    const other = generateKeyPair(curve).publicKey;
    const mixed = tlv(
      0x30,
      fromHex('020101'),
      tlv(0x04, secretKey),
      tlv(0xa0, fromHex(curve === 'nist' ? '06082a8648ce3d030107' : '06092b2403030208010107')),
      tlv(0xa1, tlv(0x03, Uint8Array.of(0), other)),
    );
    expect(codeOf(() => parsePrivateKeyDer(mixed))).toBe('CRYPTO_KEY_MISMATCH');
    expect(toHex(parsePrivateKeyDer(sec1).publicKey)).toBe(toHex(publicKey));
  });
});

describe('key file errors', () => {
  it('names unsupported curves, non-EC keys, encrypted keys and missing blocks', () => {
    const p384 = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(codeOf(() => parsePrivateKeyPem(p384.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string))).toBe(
      'CRYPTO_UNSUPPORTED_CURVE',
    );
    expect(codeOf(() => parsePrivateKeyPem(p384.privateKey.export({ type: 'sec1', format: 'pem' }) as string))).toBe(
      'CRYPTO_UNSUPPORTED_CURVE',
    );
    expect(codeOf(() => parsePublicKeyPem(p384.publicKey.export({ type: 'spki', format: 'pem' }) as string))).toBe(
      'CRYPTO_UNSUPPORTED_CURVE',
    );
    const ed = nodeCrypto.generateKeyPairSync('ed25519');
    expect(codeOf(() => parsePrivateKeyPem(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string))).toBe(
      'CRYPTO_BAD_KEY_FILE',
    );
    expect(codeOf(() => parsePublicKeyPem(ed.publicKey.export({ type: 'spki', format: 'pem' }) as string))).toBe(
      'CRYPTO_BAD_KEY_FILE',
    );
    const p256 = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const encrypted = p256.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }) as string;
    expect(codeOf(() => parsePrivateKeyPem(encrypted))).toBe('CRYPTO_ENCRYPTED_KEY');
    const legacy = p256.privateKey.export({ type: 'sec1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }) as string;
    expect(codeOf(() => parsePrivateKeyPem(legacy))).toBe('CRYPTO_ENCRYPTED_KEY');
    expect(codeOf(() => parsePrivateKeyPem('no pem here'))).toBe('CRYPTO_BAD_KEY_FILE');
    expect(codeOf(() => parsePrivateKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'))).toBe('CRYPTO_BAD_KEY_FILE');
    expect(codeOf(() => parsePrivateKeyPem('-----BEGIN EC PRIVATE KEY-----\n!!!!\n-----END EC PRIVATE KEY-----\n'))).toBe(
      'CRYPTO_BAD_KEY_FILE',
    );
  });

  it('throws only IfppError on random and mutated DER/PEM input', () => {
    const { secretKey, publicKey } = generateKeyPair('brp');
    const seeds = [
      encodePrivateKeyDer('brp', secretKey),
      new Uint8Array(nodeCrypto.createPrivateKey(encodePrivateKeyPem('brp', secretKey)).export({ type: 'pkcs8', format: 'der' })),
      parseSpkiSeed(encodePublicKeyPem('brp', publicKey)),
      signatureRawToDer(ecdsaSign('brp', secretKey, msg)),
    ];
    const onlyTyped = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(IfppError);
      }
    };
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([seed, edits, cut]) => {
        const b = seed.slice(0, seed.length - (cut % 4 === 0 ? cut % seed.length : 0));
        for (const [at, v] of edits) if (b.length) b[at % b.length] = v;
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 200 })), (bytes) => {
        onlyTyped(() => parsePrivateKeyDer(bytes));
        onlyTyped(() => parsePrivateKeyDer(bytes, 'nist'));
        onlyTyped(() => parsePublicKeyDer(bytes));
        onlyTyped(() => signatureDerToRaw(bytes));
        const b64 = Buffer.from(bytes).toString('base64');
        onlyTyped(() => parsePrivateKeyPem(`-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----`));
        onlyTyped(() => parsePublicKeyPem(`-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----`));
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        onlyTyped(() => parsePrivateKeyPem(s));
        onlyTyped(() => parsePrivateKeyPem(`-----BEGIN EC PRIVATE KEY-----\n${s}\n-----END EC PRIVATE KEY-----`));
      }),
      { numRuns: 300 },
    );
  });

  it('errors are CryptoError instances with the IfppError shape', () => {
    try {
      parsePrivateKeyPem('x');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CryptoError);
      expect(e).toBeInstanceOf(IfppError);
      expect((e as CryptoError).describe()).toMatch(/^CRYPTO_BAD_KEY_FILE: /);
    }
  });
});

function parseSpkiSeed(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
}
