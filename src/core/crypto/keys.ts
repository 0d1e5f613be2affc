/**
 * EC key files: SEC1 "EC PRIVATE KEY" (RFC 5915), PKCS#8 "PRIVATE KEY" (RFC 5208/5958) and
 * SubjectPublicKeyInfo "PUBLIC KEY" (RFC 5480), named curves only (NIST P-256, brainpoolP256r1).
 * OpenSSL writes an "EC PARAMETERS" block in front of SEC1 keys (the SGP.26 DPpb keys have
 * one); it names the curve when the key itself omits the [0] parameters.
 */
import * as asn1js from 'asn1js';
import { CURVE_OIDS, curveFromOid, curveImpl, type CurveName } from './curves.ts';
import { CryptoError } from './errors.ts';
import { isValidPublicKey, uncompressPublicKey } from './ecdh.ts';
import { bytesEqual } from '../bytes.ts';
import { isIfppError } from '../errors.ts';

const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const SCALAR_BYTES = 32;

export interface EcPrivateKey {
  readonly curve: CurveName;
  /** 32-byte big-endian scalar. */
  readonly secretKey: Uint8Array;
  /** 65-byte uncompressed point, derived from the secret (and checked against the file's copy). */
  readonly publicKey: Uint8Array;
}

export interface EcPublicKey {
  readonly curve: CurveName;
  /** 65-byte uncompressed point. */
  readonly publicKey: Uint8Array;
}

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

// ---------------------------------------------------------------- PEM

/** All PEM blocks of a text, in order. Throws when there is none or one is damaged. */
export function readPemBlocks(pem: string): PemBlock[] {
  return guard(() => {
    const blocks: PemBlock[] = [];
    const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
    for (let m = re.exec(pem); m; m = re.exec(pem)) {
      const label = m[1]!;
      if (m[3] !== label) throw keyFile(`PEM block "${label}" ends with "${m[3]}"`);
      const body = m[2]!;
      if (/^[\w-]+:/m.test(body)) {
        throw new CryptoError('CRYPTO_ENCRYPTED_KEY', `PEM block "${label}" has headers (an encrypted legacy key?)`, {
          hint: 'decrypt the key first, e.g. openssl ec -in key.pem -out plain.pem',
        });
      }
      const b64 = body.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw keyFile(`PEM block "${label}" is not valid base64`);
      blocks.push({ label, der: new Uint8Array(Buffer.from(b64, 'base64')) });
    }
    if (blocks.length === 0) throw keyFile('no PEM block found');
    return blocks;
  });
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ---------------------------------------------------------------- private keys

/**
 * Private key from PEM text: the first "EC PRIVATE KEY" or "PRIVATE KEY" block. An "EC
 * PARAMETERS" block names the curve when the key does not.
 */
export function parsePrivateKeyPem(pemText: string): EcPrivateKey {
  const blocks = readPemBlocks(pemText);
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) {
    throw new CryptoError('CRYPTO_ENCRYPTED_KEY', 'the private key is encrypted (PKCS#8 ENCRYPTED PRIVATE KEY)', {
      hint: 'decrypt it first, e.g. openssl pkcs8 -in key.pem -nocrypt -out plain.pem',
    });
  }
  const key = blocks.find((b) => b.label === 'EC PRIVATE KEY' || b.label === 'PRIVATE KEY');
  if (!key) throw keyFile(`no EC PRIVATE KEY or PRIVATE KEY block (found: ${blocks.map((b) => b.label).join(', ')})`);
  const params = blocks.find((b) => b.label === 'EC PARAMETERS');
  const hint = params ? parseEcParametersDer(params.der) : undefined;
  return parsePrivateKeyDer(key.der, hint);
}

/**
 * Private key from DER: SEC1 ECPrivateKey or PKCS#8 PrivateKeyInfo (told apart by structure).
 * `curveHint` is used only when the encoding names no curve.
 */
export function parsePrivateKeyDer(der: Uint8Array, curveHint?: CurveName): EcPrivateKey {
  return guard(() => {
    const top = decodeOne(der, 'private key');
    const items = sequenceItems(top, 'private key');
    const second = items[1];
    if (second instanceof asn1js.Sequence) return parsePkcs8(items, curveHint);
    if (second instanceof asn1js.OctetString) return parseSec1(items, undefined, curveHint);
    throw keyFile('neither a SEC1 ECPrivateKey nor a PKCS#8 PrivateKeyInfo');
  });
}

function parsePkcs8(items: asn1js.AsnType[], curveHint: CurveName | undefined): EcPrivateKey {
  const version = integerValue(items[0], 'PKCS#8 version');
  if (version !== 0 && version !== 1) throw keyFile(`PKCS#8 version ${version} is not 0 or 1`);
  const alg = sequenceItems(items[1], 'PKCS#8 privateKeyAlgorithm');
  if (oidValue(alg[0], 'algorithm') !== ID_EC_PUBLIC_KEY) throw keyFile(`PKCS#8 key is not an EC key (algorithm ${oidValue(alg[0], 'algorithm')})`);
  const curve = alg[1] === undefined ? undefined : curveOfParameters(alg[1]);
  const inner = octets(items[2], 'PKCS#8 privateKey');
  const sec1 = sequenceItems(decodeOne(inner, 'PKCS#8 inner ECPrivateKey'), 'ECPrivateKey');
  return parseSec1(sec1, curve, curveHint);
}

function parseSec1(items: asn1js.AsnType[], outerCurve: CurveName | undefined, curveHint: CurveName | undefined): EcPrivateKey {
  if (integerValue(items[0], 'ECPrivateKey version') !== 1) throw keyFile('ECPrivateKey version is not 1');
  const raw = octets(items[1], 'ECPrivateKey privateKey');
  let paramsCurve: CurveName | undefined;
  let filePublicKey: Uint8Array | undefined;
  for (const item of items.slice(2)) {
    const tagged = contextTagged(item);
    if (tagged?.tag === 0) paramsCurve = curveOfParameters(tagged.inner);
    else if (tagged?.tag === 1) filePublicKey = bitStringBytes(tagged.inner, 'ECPrivateKey publicKey');
    else throw keyFile('unexpected element in ECPrivateKey');
  }
  if (paramsCurve && outerCurve && paramsCurve !== outerCurve) {
    throw keyFile(`PKCS#8 names curve ${outerCurve} but the inner key names ${paramsCurve}`);
  }
  const secretKey = fixedScalar(raw);
  const named = outerCurve ?? paramsCurve ?? curveHint;
  const curve = named ?? curveFromPublicKey(secretKey, filePublicKey);
  if (!curveImpl(curve).utils.isValidSecretKey(secretKey)) {
    throw new CryptoError('CRYPTO_BAD_SECRET_KEY', `private key scalar is out of range for ${curve}`);
  }
  const publicKey = curveImpl(curve).getPublicKey(secretKey, false);
  if (filePublicKey) {
    if (!isValidPublicKey(curve, filePublicKey) || !bytesEqual(uncompressPublicKey(curve, filePublicKey), publicKey)) {
      throw new CryptoError('CRYPTO_KEY_MISMATCH', 'the public key stored in the key file does not belong to its private key', {
        hint: 'the file is damaged or was assembled from two different keys',
      });
    }
  }
  return { curve, secretKey, publicKey };
}

/** No curve named anywhere: pick the curve on which the file's public key matches the secret. */
function curveFromPublicKey(secretKey: Uint8Array, filePublicKey: Uint8Array | undefined): CurveName {
  if (filePublicKey) {
    for (const c of Object.keys(CURVE_OIDS) as CurveName[]) {
      const impl = curveImpl(c);
      if (!impl.utils.isValidSecretKey(secretKey) || !isValidPublicKey(c, filePublicKey)) continue;
      if (bytesEqual(impl.getPublicKey(secretKey, false), uncompressPublicKey(c, filePublicKey))) return c;
    }
  }
  throw new CryptoError('CRYPTO_UNSUPPORTED_CURVE', 'the key file does not say which curve the key is on', {
    hint: 'add the named-curve parameters (openssl ec -param_enc named_curve) or an EC PARAMETERS block',
  });
}

/** SEC1 with named curve and public key, as PEM "EC PRIVATE KEY". */
export function encodePrivateKeyPem(curve: CurveName, secretKey: Uint8Array): string {
  return pem('EC PRIVATE KEY', encodePrivateKeyDer(curve, secretKey));
}

export function encodePrivateKeyDer(curve: CurveName, secretKey: Uint8Array): Uint8Array {
  const impl = curveImpl(curve);
  if (secretKey.length !== SCALAR_BYTES || !impl.utils.isValidSecretKey(secretKey)) {
    throw new CryptoError('CRYPTO_BAD_SECRET_KEY', `not a valid ${curve} secret key (${secretKey.length} bytes)`);
  }
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.OctetString({ valueHex: secretKey.slice() }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.ObjectIdentifier({ value: CURVE_OIDS[curve] })] }),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [new asn1js.BitString({ valueHex: impl.getPublicKey(secretKey, false) })],
      }),
    ],
  });
  return new Uint8Array(seq.toBER());
}

// ---------------------------------------------------------------- public keys

/** SubjectPublicKeyInfo from the first "PUBLIC KEY" PEM block. */
export function parsePublicKeyPem(pemText: string): EcPublicKey {
  const block = readPemBlocks(pemText).find((b) => b.label === 'PUBLIC KEY');
  if (!block) throw keyFile('no PUBLIC KEY block');
  return parsePublicKeyDer(block.der);
}

/** SubjectPublicKeyInfo DER (id-ecPublicKey with a named curve). */
export function parsePublicKeyDer(der: Uint8Array): EcPublicKey {
  return guard(() => parseSpki(decodeOne(der, 'SubjectPublicKeyInfo')));
}

/** SubjectPublicKeyInfo already decoded by asn1js (certificates hand theirs over this way). */
export function parseSpki(spki: asn1js.AsnType): EcPublicKey {
  return guard(() => {
    const items = sequenceItems(spki, 'SubjectPublicKeyInfo');
    if (items.length !== 2) throw keyFile('SubjectPublicKeyInfo must have 2 elements');
    const alg = sequenceItems(items[0], 'SubjectPublicKeyInfo algorithm');
    const algOid = oidValue(alg[0], 'algorithm');
    if (algOid !== ID_EC_PUBLIC_KEY) throw keyFile(`public key is not an EC key (algorithm ${algOid})`);
    if (alg[1] === undefined) throw keyFile('EC public key without curve parameters');
    const curve = curveOfParameters(alg[1]);
    const point = bitStringBytes(items[1], 'subjectPublicKey');
    if (!isValidPublicKey(curve, point)) {
      throw new CryptoError('CRYPTO_BAD_PUBLIC_KEY', `subjectPublicKey is not a point on ${curve}`);
    }
    return { curve, publicKey: uncompressPublicKey(curve, point) };
  });
}

export function encodePublicKeyDer(curve: CurveName, publicKey: Uint8Array): Uint8Array {
  const point = uncompressPublicKey(curve, publicKey);
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [new asn1js.ObjectIdentifier({ value: ID_EC_PUBLIC_KEY }), new asn1js.ObjectIdentifier({ value: CURVE_OIDS[curve] })],
      }),
      new asn1js.BitString({ valueHex: point }),
    ],
  });
  return new Uint8Array(seq.toBER());
}

export function encodePublicKeyPem(curve: CurveName, publicKey: Uint8Array): string {
  return pem('PUBLIC KEY', encodePublicKeyDer(curve, publicKey));
}

// ---------------------------------------------------------------- ASN.1 helpers

/** "EC PARAMETERS": ECParameters ::= CHOICE { namedCurve OID, ... }. */
function parseEcParametersDer(der: Uint8Array): CurveName {
  return guard(() => curveOfParameters(decodeOne(der, 'EC PARAMETERS')));
}

function curveOfParameters(node: asn1js.AsnType): CurveName {
  if (!(node instanceof asn1js.ObjectIdentifier)) {
    throw new CryptoError('CRYPTO_UNSUPPORTED_CURVE', 'explicit EC curve parameters are not supported', {
      hint: 'convert the key to a named curve: openssl ec -param_enc named_curve',
    });
  }
  const oid = node.getValue();
  try {
    return curveFromOid(oid);
  } catch (e) {
    throw new CryptoError('CRYPTO_UNSUPPORTED_CURVE', `unsupported named curve ${oid}`, {
      hint: 'GSMA RSP uses NIST P-256 or brainpoolP256r1 only',
      cause: e,
    });
  }
}

function decodeOne(der: Uint8Array, what: string): asn1js.AsnType {
  if (der.length === 0) throw keyFile(`${what}: no data`);
  const { offset, result } = asn1js.fromBER(der, { maxDepth: 16, maxNodes: 256 });
  if (offset === -1 || result.error) throw keyFile(`${what}: invalid DER (${result.error || 'decode failed'})`);
  if (offset !== der.length) throw keyFile(`${what}: ${der.length - offset} bytes after the structure`);
  return result;
}

function sequenceItems(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!(node instanceof asn1js.Sequence)) throw keyFile(`${what}: expected a SEQUENCE`);
  return node.valueBlock.value as asn1js.AsnType[];
}

function integerValue(node: asn1js.AsnType | undefined, what: string): number {
  if (!(node instanceof asn1js.Integer)) throw keyFile(`${what}: expected an INTEGER`);
  return node.valueBlock.valueDec;
}

function oidValue(node: asn1js.AsnType | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) throw keyFile(`${what}: expected an OBJECT IDENTIFIER`);
  return node.getValue();
}

function octets(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.OctetString) || node.idBlock.isConstructed) throw keyFile(`${what}: expected a primitive OCTET STRING`);
  return new Uint8Array(node.valueBlock.valueHexView);
}

function bitStringBytes(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.BitString) || node.idBlock.isConstructed) throw keyFile(`${what}: expected a primitive BIT STRING`);
  if (node.valueBlock.unusedBits !== 0) throw keyFile(`${what}: BIT STRING with unused bits`);
  return new Uint8Array(node.valueBlock.valueHexView);
}

/** [n] EXPLICIT wrapper: the tag number and the single element inside. */
function contextTagged(node: asn1js.AsnType): { tag: number; inner: asn1js.AsnType } | undefined {
  if (!(node instanceof asn1js.Constructed) || node.idBlock.tagClass !== 3) return undefined;
  const inner = node.valueBlock.value as asn1js.AsnType[];
  if (inner.length !== 1) throw keyFile(`[${node.idBlock.tagNumber}] must hold exactly one element`);
  return { tag: node.idBlock.tagNumber, inner: inner[0]! };
}

/** RFC 5915 wants ceil(log2(n)/8) octets; some encoders drop leading zeros, a few add one. */
function fixedScalar(raw: Uint8Array): Uint8Array {
  let start = 0;
  while (start < raw.length && raw[start] === 0) start++;
  const digits = raw.subarray(start);
  if (digits.length === 0 || digits.length > SCALAR_BYTES) {
    throw new CryptoError('CRYPTO_BAD_SECRET_KEY', `private key of ${raw.length} bytes is not a 256-bit scalar`);
  }
  const out = new Uint8Array(SCALAR_BYTES);
  out.set(digits, SCALAR_BYTES - digits.length);
  return out;
}

function keyFile(message: string): CryptoError {
  return new CryptoError('CRYPTO_BAD_KEY_FILE', message, { hint: 'expect a PEM or DER EC key on NIST P-256 or brainpoolP256r1' });
}

/** Library exceptions on hostile bytes become CryptoError; our own typed errors pass through. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isIfppError(e)) throw e;
    throw new CryptoError('CRYPTO_BAD_KEY_FILE', `unreadable key data: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
