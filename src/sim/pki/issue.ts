/**
 * A small test PKI for the simulators and tests: a CI, EUMs, eUICCs and SM-DP(f) certificates
 * shaped like the SGP.22 §4.5.2 / SGP.26 ones (SKI/AKI, critical keyUsage, basicConstraints
 * on CAs, the RSP role in a critical certificatePolicies, subjectAltName registeredID, EUM
 * name constraints on the EID prefix). Secret keys stay in memory. The station never imports
 * this module.
 */
import * as asn1js from 'asn1js';
import { sha1 } from '@noble/hashes/legacy.js';
import { randomBytes } from 'node:crypto';
import { CURVE_OIDS, type CurveName } from '../../core/crypto/curves.ts';
import { generateKeyPair, publicKeyFromSecret, uncompressPublicKey } from '../../core/crypto/ecdh.ts';
import { ecdsaSign, signatureRawToDer } from '../../core/crypto/ecdsa.ts';
import { bytesEqual, toHex } from '../../core/bytes.ts';
import { IfppError, InputError } from '../../core/errors.ts';
import { parseCertificate, nameValue } from '../../core/x509/certificate.ts';
import type { Certificate } from '../../core/x509/certificate.ts';
import { KEY_USAGE_BITS } from '../../core/x509/extensions.ts';
import type { KeyUsage } from '../../core/x509/extensions.ts';
import { nameAttributeOid, OID_EC_PUBLIC_KEY, OID_ECDSA_WITH_SHA256, OID_EXT, roleOid, type CertificateVariant } from '../../core/x509/oids.ts';
import type { NameAttributeType, RspRole } from '../../core/x509/oids.ts';

/** A distinguished name in encoding order, one attribute per RDN. */
export type DnSpec = readonly (readonly [NameAttributeType, string])[];

export interface IssuedCertificate {
  readonly der: Uint8Array;
  readonly cert: Certificate;
  readonly curve: CurveName;
  /** 65-byte uncompressed point. */
  readonly publicKey: Uint8Array;
  /** Present when this module generated the key (or was given it); absent for a given public key. */
  readonly secretKey: Uint8Array | undefined;
}

export interface KeyOptions {
  /** Curve of the subject key; defaults to the issuer's (SGP.22: one curve per chain). */
  readonly curve?: CurveName;
  /** Certify this public key (the holder keeps the secret, e.g. a simulated eUICC). */
  readonly publicKey?: Uint8Array;
  /** Or certify the key of this secret. Neither: a fresh key pair is generated. */
  readonly secretKey?: Uint8Array;
}

export interface ValidityOptions {
  /** Default: now, whole seconds. */
  readonly notBefore?: Date;
  /** Default depends on the role (CI 35 years, EUM 30, SM-DP 10, eUICC 9999-12-31). */
  readonly notAfter?: Date;
  /** Serial number bytes (positive); default 8 random bytes. */
  readonly serial?: Uint8Array;
}

/** How a test certificate is shaped where SGP.22 allows (or a test needs) a choice. */
export interface ShapeOptions {
  /** Policy OID variant (core/x509/oids.ts); default 'O' (the v2 OIDs). */
  readonly variant?: CertificateVariant;
  /** false: leave keyUsage out (a malformed certificate, for tests). Default true. */
  readonly keyUsage?: boolean;
}

export const TEST_ORG = 'IFPP Station Test PKI';
/** The EID prefix SGP.26 test EUMs are constrained to (EIN 89049032). */
export const TEST_EID_PREFIX = '89049032';
/** The "no well-defined expiration" date of RFC 5280 §4.1.2.5, used for eUICC certificates. */
export const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

// ---------------------------------------------------------------------------------- roles

export interface CreateCiOptions extends ValidityOptions {
  readonly curve: CurveName;
  /** Common name (organisation TEST_ORG, country XX) or a full DN. */
  readonly name?: string | DnSpec;
  readonly secretKey?: Uint8Array;
  /** subjectAltName registeredID (the CI OID); SGP.26 uses the 2.999 example arc. */
  readonly registeredId?: string;
}

/** A self-signed CI root (id-rspRole-ci). */
export function createCi(opts: CreateCiOptions): IssuedCertificate {
  const key = subjectKey(opts.curve, opts);
  const subject = dn(opts.name ?? 'IFPP Test CI');
  return build({
    subject,
    issuerName: subject,
    key,
    signer: { curve: key.curve, secretKey: key.secretKey!, keyId: keyIdOf(key.publicKey) },
    validity: validity(opts, years(35)),
    extensions: [
      extSki(key.publicKey),
      extBasicConstraints(true, undefined),
      extPolicies('ci'),
      extKeyUsage({ keyCertSign: true, cRLSign: true }),
      extRegisteredId(opts.registeredId ?? '2.999.1'),
    ],
  });
}

export interface IssueEumOptions extends ValidityOptions, KeyOptions, ShapeOptions {
  readonly ci: IssuedCertificate;
  /** Common name; the organisation (what eUICC subjects must repeat) is `org`. */
  readonly name?: string;
  readonly org?: string;
  readonly country?: string;
  /** EID prefix the EUM may certify (name constraint); null for none. Default TEST_EID_PREFIX. */
  readonly eidPrefix?: string | null;
  readonly registeredId?: string;
}

/** An EUM certificate (id-rspRole-eum), a CA with pathLen 0, signed by the CI. */
export function issueEum(opts: IssueEumOptions): IssuedCertificate {
  const issuer = requireSigner(opts.ci, 'ci');
  const key = subjectKey(opts.curve ?? opts.ci.curve, opts);
  const org = opts.org ?? 'IFPP Test EUM';
  const prefix = opts.eidPrefix === undefined ? TEST_EID_PREFIX : opts.eidPrefix;
  if (prefix !== null && !/^\d{1,32}$/.test(prefix)) throw new InputError('BAD_EID_PREFIX', `EID prefix "${prefix}" is not 1 to 32 decimal digits`);
  return build({
    subject: dn([
      ['C', opts.country ?? 'XX'],
      ['O', org],
      ['CN', opts.name ?? 'IFPP Test EUM'],
    ]),
    issuerName: opts.ci.cert.subject.raw,
    key,
    signer: issuer,
    validity: validity(opts, years(30)),
    extensions: [
      extAki(issuer.keyId),
      extSki(key.publicKey),
      ...(opts.keyUsage === false ? [] : [extKeyUsage({ keyCertSign: true, cRLSign: true })]),
      extPolicies('eum', opts.variant),
      extBasicConstraints(true, 0),
      extRegisteredId(opts.registeredId ?? '2.999.5'),
      ...(prefix === null ? [] : [extNameConstraints(dn([['O', org], ['serialNumber', prefix]]))]),
    ],
  });
}

export interface IssueEuiccOptions extends ValidityOptions, KeyOptions, ShapeOptions {
  readonly eum: IssuedCertificate;
  /** 32 decimal digits, or the 16 EID bytes. */
  readonly eid: string | Uint8Array;
  readonly name?: string;
}

/**
 * CERT.EUICC (id-rspRole-euicc), signed by the EUM. The subject repeats the EUM organisation
 * and carries the EID in serialNumber, as its 32 digits (SGP.22 §4.5.2.1.0.3, as SGP.26 does).
 */
export function issueEuicc(opts: IssueEuiccOptions): IssuedCertificate {
  const issuer = requireSigner(opts.eum, 'eum');
  const eid = eidDigits(opts.eid);
  const org = nameValue(opts.eum.cert.subject, 'O') ?? 'IFPP Test EUM';
  const key = subjectKey(opts.curve ?? opts.eum.curve, opts);
  return build({
    subject: dn([
      ['O', org],
      ['serialNumber', eid],
      ['CN', opts.name ?? 'IFPP Test eUICC'],
    ]),
    issuerName: opts.eum.cert.subject.raw,
    key,
    signer: issuer,
    validity: validity(opts, NO_EXPIRY),
    extensions: [extAki(issuer.keyId), extSki(key.publicKey), ...(opts.keyUsage === false ? [] : [extKeyUsage({ digitalSignature: true })]), extPolicies('euicc', opts.variant)],
  });
}

export interface IssueDpOptions extends ValidityOptions, KeyOptions, ShapeOptions {
  readonly ci: IssuedCertificate;
  /** Common name; default "IFPP Test SM-DPf". */
  readonly name?: string;
  readonly org?: string;
  /** subjectAltName registeredID: the SM-DP+ OID (it comes back as smdpOid in results). */
  readonly registeredId?: string;
}

/** CERT.DPpb (id-rspRole-dp-pb): the key that signs BF23 of each bound profile package. */
export function issueDpPb(opts: IssueDpOptions): IssuedCertificate {
  return issueDp(opts, 'dp-pb');
}

/** CERT.DPauth (id-rspRole-dp-auth): not used by IFPP; handy as the wrong certificate in tests. */
export function issueDpAuth(opts: IssueDpOptions): IssuedCertificate {
  return issueDp(opts, 'dp-auth');
}

function issueDp(opts: IssueDpOptions, role: 'dp-pb' | 'dp-auth'): IssuedCertificate {
  const issuer = requireSigner(opts.ci, 'ci');
  const key = subjectKey(opts.curve ?? opts.ci.curve, opts);
  return build({
    subject: dn([
      ['O', opts.org ?? 'IFPP Test SM-DPf'],
      ['CN', opts.name ?? 'IFPP Test SM-DPf'],
    ]),
    issuerName: opts.ci.cert.subject.raw,
    key,
    signer: issuer,
    validity: validity(opts, years(10)),
    extensions: [
      extAki(issuer.keyId),
      extSki(key.publicKey),
      extRegisteredId(opts.registeredId ?? '2.999.10'),
      ...(opts.keyUsage === false ? [] : [extKeyUsage({ digitalSignature: true })]),
      extPolicies(role, opts.variant),
    ],
  });
}

/** PEM text of a DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

// ---------------------------------------------------------------------------------- build

interface SubjectKey {
  curve: CurveName;
  publicKey: Uint8Array;
  secretKey: Uint8Array | undefined;
}

interface Signer {
  curve: CurveName;
  secretKey: Uint8Array;
  keyId: Uint8Array;
}

interface BuildSpec {
  subject: asn1js.Sequence;
  /** Issuer Name: copied byte for byte from the issuer's certificate when one exists. */
  issuerName: asn1js.Sequence | Uint8Array;
  key: SubjectKey;
  signer: Signer;
  validity: { notBefore: Date; notAfter: Date; serial: Uint8Array };
  extensions: asn1js.Sequence[];
}

function build(spec: BuildSpec): IssuedCertificate {
  const alg = new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID_ECDSA_WITH_SHA256 })] });
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
      new asn1js.Integer({ valueHex: spec.validity.serial }),
      alg,
      spec.issuerName instanceof Uint8Array ? fromDer(spec.issuerName) : spec.issuerName,
      new asn1js.Sequence({ value: [time(spec.validity.notBefore), time(spec.validity.notAfter)] }),
      spec.subject,
      spki(spec.key.curve, spec.key.publicKey),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 3 }, value: [new asn1js.Sequence({ value: spec.extensions })] }),
    ],
  });
  const tbsDer = encode(tbs);
  const sig = signatureRawToDer(ecdsaSign(spec.signer.curve, spec.signer.secretKey, tbsDer));
  const der = encode(
    new asn1js.Sequence({
      value: [fromDer(tbsDer), alg, new asn1js.BitString({ valueHex: sig, unusedBits: 0 })],
    }),
  );
  const cert = parseCertificate(der);
  // The signature covers tbsDer; the parsed certificate must carry exactly those bytes.
  if (!bytesEqual(cert.tbsRaw, tbsDer)) throw new IfppError('INTERNAL', 'TBSCertificate changed while encoding the certificate');
  return { der, cert, curve: spec.key.curve, publicKey: spec.key.publicKey, secretKey: spec.key.secretKey };
}

function encode(b: asn1js.BaseBlock): Uint8Array {
  return new Uint8Array(b.toBER(false));
}

function fromDer(der: Uint8Array): asn1js.AsnType {
  const r = asn1js.fromBER(der.slice());
  if (r.offset === -1) throw new IfppError('INTERNAL', `cannot re-read our own DER: ${r.result.error}`);
  return r.result;
}

function requireSigner(issuer: IssuedCertificate, what: string): Signer {
  if (!issuer.secretKey) throw new InputError('NO_ISSUER_KEY', `the ${what} certificate "${issuer.cert.subject.text}" has no secret key here; it cannot sign`);
  const keyId = issuer.cert.extensions.subjectKeyIdentifier ?? keyIdOf(issuer.publicKey);
  return { curve: issuer.curve, secretKey: issuer.secretKey, keyId };
}

function subjectKey(curve: CurveName, k: { publicKey?: Uint8Array; secretKey?: Uint8Array }): SubjectKey {
  if (k.secretKey) {
    const publicKey = publicKeyFromSecret(curve, k.secretKey);
    if (k.publicKey && !bytesEqual(uncompressPublicKey(curve, k.publicKey), publicKey)) {
      throw new InputError('KEY_MISMATCH', 'publicKey does not belong to secretKey');
    }
    return { curve, publicKey, secretKey: k.secretKey };
  }
  if (k.publicKey) return { curve, publicKey: uncompressPublicKey(curve, k.publicKey), secretKey: undefined };
  const kp = generateKeyPair(curve);
  return { curve, publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (as SGP.26 does). */
function keyIdOf(publicKey: Uint8Array): Uint8Array {
  return sha1(publicKey);
}

function eidDigits(eid: string | Uint8Array): string {
  const s = typeof eid === 'string' ? eid : toHex(eid);
  if (!/^\d{32}$/.test(s)) throw new InputError('BAD_EID', `EID "${s}" is not 32 decimal digits`, { hint: 'an EID is 16 bytes of BCD, e.g. 89049032123451234512345678901235' });
  return s;
}

function years(n: number): (from: Date) => Date {
  return (from) => {
    const d = new Date(from.getTime());
    d.setUTCFullYear(d.getUTCFullYear() + n);
    return d;
  };
}

function validity(o: ValidityOptions, defaultEnd: Date | ((from: Date) => Date)) {
  const notBefore = o.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = o.notAfter ?? (typeof defaultEnd === 'function' ? defaultEnd(notBefore) : defaultEnd);
  let serial = o.serial ?? new Uint8Array(randomBytes(8));
  // DER INTEGER must be minimal: a random serial may start with 00 followed by a byte < 80.
  if (o.serial === undefined) serial[0] = (serial[0]! & 0x7f) | 0x01;
  if (serial.length === 0) throw new InputError('BAD_SERIAL', 'serial number must not be empty');
  // A positive INTEGER: prefix 00 when the top bit is set.
  if (serial[0]! & 0x80) serial = Uint8Array.of(0, ...serial);
  return { notBefore, notAfter, serial };
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); whole seconds. */
function time(d: Date): asn1js.Primitive {
  const y = d.getUTCFullYear();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  const utc = y >= 1950 && y < 2050;
  const text = utc ? `${p2(y % 100)}${rest}` : `${String(y).padStart(4, '0')}${rest}`;
  return new asn1js.Primitive({ idBlock: { tagClass: 1, tagNumber: utc ? 23 : 24 }, valueHex: new TextEncoder().encode(text) });
}

function dn(spec: string | DnSpec): asn1js.Sequence {
  const attrs: DnSpec = typeof spec === 'string' ? [['CN', spec], ['O', TEST_ORG], ['C', 'XX']] : spec;
  return new asn1js.Sequence({
    value: attrs.map(([type, value]) => {
      const oid = nameAttributeOid(type);
      if (!oid) throw new InputError('BAD_NAME', `unknown name attribute ${type}`);
      // Country and serialNumber are PrintableString by definition; the rest UTF8String.
      const v = type === 'C' || type === 'serialNumber' ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value });
      return new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), v] })] });
    }),
  });
}

function spki(curve: CurveName, point: Uint8Array): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID_EC_PUBLIC_KEY }), new asn1js.ObjectIdentifier({ value: CURVE_OIDS[curve] })] }),
      new asn1js.BitString({ valueHex: point, unusedBits: 0 }),
    ],
  });
}

// ------------------------------------------------------------------------------ extensions

function ext(oid: string, critical: boolean, value: asn1js.BaseBlock): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: oid }),
      ...(critical ? [new asn1js.Boolean({ value: true })] : []), // DER: DEFAULT FALSE is omitted
      new asn1js.OctetString({ valueHex: encode(value) }),
    ],
  });
}

function extSki(publicKey: Uint8Array) {
  return ext(OID_EXT.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyIdOf(publicKey) }));
}

function extAki(issuerKeyId: Uint8Array) {
  return ext(OID_EXT.authorityKeyIdentifier, false, new asn1js.Sequence({ value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: issuerKeyId })] }));
}

function extKeyUsage(usage: Partial<KeyUsage>) {
  const bits = KEY_USAGE_BITS.map((n) => usage[n] === true);
  const last = bits.lastIndexOf(true);
  const bytes = new Uint8Array(Math.max(1, Math.ceil((last + 1) / 8)));
  bits.forEach((on, i) => {
    if (on) bytes[i >> 3]! |= 0x80 >> (i & 7);
  });
  // DER named bit lists drop trailing zero bits (X.690 §11.2.2).
  const unusedBits = last < 0 ? 0 : 7 - (last & 7);
  return ext(OID_EXT.keyUsage, true, new asn1js.BitString({ valueHex: last < 0 ? new Uint8Array(0) : bytes, unusedBits }));
}

function extBasicConstraints(cA: boolean, pathLen: number | undefined) {
  const value: asn1js.BaseBlock[] = [];
  if (cA) value.push(new asn1js.Boolean({ value: true }));
  if (pathLen !== undefined) value.push(new asn1js.Integer({ value: pathLen }));
  return ext(OID_EXT.basicConstraints, true, new asn1js.Sequence({ value }));
}

function extPolicies(role: RspRole, variant: CertificateVariant = 'O') {
  return ext(OID_EXT.certificatePolicies, true, new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: roleOid(role, variant) })] })] }));
}

function extRegisteredId(oid: string) {
  const encoded = encode(new asn1js.ObjectIdentifier({ value: oid }));
  // registeredID [8] IMPLICIT OBJECT IDENTIFIER: the OID's content under a context tag.
  const content = encoded.subarray(2); // short OIDs only: one tag byte and one length byte
  if (encoded[1]! >= 0x80) throw new InputError('BAD_OID', `registeredID ${oid} is too long`);
  return ext(OID_EXT.subjectAltName, false, new asn1js.Sequence({ value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 8 }, valueHex: content })] }));
}

function extNameConstraints(permitted: asn1js.Sequence) {
  // permittedSubtrees [0] { GeneralSubtree { directoryName [4] EXPLICIT Name } }
  const subtree = new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [permitted] })] });
  return ext(OID_EXT.nameConstraints, true, new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [subtree] })] }));
}
