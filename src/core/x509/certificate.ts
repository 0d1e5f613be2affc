/**
 * X.509 certificates of the GSMA RSP PKI (SGP.22 §4.5): ECDSA with SHA-256 on NIST P-256 or
 * brainpoolP256r1. Parsing keeps the exact received bytes of the TBSCertificate, because a
 * signature is only ever checked over those, never over a re-encoding.
 */
import { X509Error } from './errors.ts';
import { OID_EC_PUBLIC_KEY, OID_ECDSA_WITH_SHA256 } from './oids.ts';
import {
  decodeBitString,
  decodeOid,
  decodeSmallUint,
  decodeTime,
  expectConstructed,
  expectSequence,
  integerBytes,
  isContext,
  isUniversal,
  malformed,
  parseDer,
  parseDerAt,
  UNIVERSAL,
} from './der.ts';
import type { DerNode } from './der.ts';
import { parseExtensions } from './extensions.ts';
import type { CertificateExtensions } from './extensions.ts';
import { parseName } from './name.ts';
import type { X509Name } from './name.ts';
import { curveFromOid, type CurveName } from '../crypto/curves.ts';
import { isValidPublicKey, uncompressPublicKey } from '../crypto/ecdh.ts';
import { signatureDerToRaw } from '../crypto/ecdsa.ts';
import { readPemBlocks } from '../crypto/keys.ts';
import { toHex } from '../bytes.ts';
import { isIfppError } from '../errors.ts';

export { X509Error } from './errors.ts';
export type { X509ErrorCode } from './errors.ts';
export type { X509Name, NameAttribute } from './name.ts';
export { nameValue, namesMatch } from './name.ts';
export type { CertificateExtensions, Extension, KeyUsage, BasicConstraints, NameConstraints } from './extensions.ts';

export interface CertificatePublicKey {
  readonly curve: CurveName;
  /** 65-byte uncompressed point 04 || x || y (compressed keys are expanded). */
  readonly point: Uint8Array;
  /** The SubjectPublicKeyInfo exactly as received. */
  readonly spki: Uint8Array;
  /** The BIT STRING content as received (what RFC 5280 method 1 hashes into a key id). */
  readonly subjectPublicKey: Uint8Array;
}

export interface Certificate {
  /** The whole certificate as received. */
  readonly raw: Uint8Array;
  /** TBSCertificate exactly as received: the bytes the issuer signed. */
  readonly tbsRaw: Uint8Array;
  /** 1 or 3 (RSP certificates are v3). */
  readonly version: number;
  /** Serial number as lower-case hex of its INTEGER content, sign byte stripped. */
  readonly serial: string;
  readonly issuer: X509Name;
  readonly subject: X509Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: CertificatePublicKey;
  /** Outer signatureAlgorithm OID (always ecdsa-with-SHA256 here). */
  readonly signatureAlgorithm: string;
  /** ECDSA-Sig-Value DER as carried in the signatureValue BIT STRING. */
  readonly signatureValue: Uint8Array;
  /** The same signature as 64-byte r||s. */
  readonly signatureRaw: Uint8Array;
  readonly extensions: CertificateExtensions;
}

/** Parses one DER certificate filling all of `der`. Throws X509Error only. */
export function parseCertificate(der: Uint8Array): Certificate {
  return guard(() => fromNode(parseDer(der, 'certificate')));
}

/** Parses the first CERTIFICATE block of a PEM text. */
export function parseCertificatePem(text: string): Certificate {
  const first = pemCertificates(text)[0];
  if (!first) throw new X509Error('X509_BAD_PEM', 'no "CERTIFICATE" PEM block found');
  return parseCertificate(first);
}

/**
 * Certificates from a file's bytes or text: one or more PEM CERTIFICATE blocks, or DER
 * (one certificate, or several concatenated as some tools write chains).
 */
export function loadCertificates(input: Uint8Array | string): Certificate[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? new TextDecoder('latin1').decode(input) : undefined;
  if (text !== undefined) return pemCertificates(text).map(parseCertificate);
  return guard(() => {
    const out: Certificate[] = [];
    let pos = 0;
    while (pos < input.length) {
      const { node, end } = parseDerAt(input as Uint8Array, pos, `certificate #${out.length + 1}`);
      out.push(fromNode(node, pos));
      pos = end;
    }
    if (out.length === 0) throw new X509Error('X509_MALFORMED', 'no certificate: the input is empty');
    return out;
  });
}

function looksLikePem(b: Uint8Array): boolean {
  // "-----BEGIN" somewhere in the first KiB (files may start with a comment or a BOM).
  const head = new TextDecoder('latin1').decode(b.subarray(0, 1024));
  return head.includes('-----BEGIN ');
}

function pemCertificates(text: string): Uint8Array[] {
  let blocks;
  try {
    blocks = readPemBlocks(text);
  } catch (e) {
    throw new X509Error('X509_BAD_PEM', isIfppError(e) ? e.message : 'unreadable PEM', { cause: e });
  }
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE');
  if (certs.length === 0) {
    throw new X509Error('X509_BAD_PEM', `no "CERTIFICATE" PEM block (found ${blocks.map((b) => `"${b.label}"`).join(', ')})`);
  }
  return certs.map((b) => b.der);
}

/** Anything escaping the parser that is not an X509Error is a bug we still report as typed. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof X509Error) throw e;
    throw new X509Error('X509_MALFORMED', `certificate could not be decoded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function fromNode(cert: DerNode, base = 0): Certificate {
  const top = expectSequence(cert, 'certificate');
  if (top.children.length !== 3) malformed(top, `certificate: expected 3 elements (tbsCertificate, signatureAlgorithm, signatureValue), found ${top.children.length}`);
  const [tbsNode, algNode, sigNode] = top.children as [DerNode, DerNode, DerNode];
  const tbs = expectSequence(tbsNode, 'tbsCertificate');
  const c = tbs.children;
  let i = 0;

  let version = 1;
  if (isContext(c[i], 0)) {
    const v = expectConstructed(c[i++]!, 'version');
    if (v.children.length !== 1) malformed(v, 'version: [0] must hold one INTEGER');
    const n = decodeSmallUint(v.children[0], 'version');
    if (n > 2) malformed(v, `version: unknown X.509 version value ${n}`);
    version = n + 1;
  }
  const serialBytes = integerBytes(c[i++], 'serialNumber');
  const innerAlg = decodeAlgorithm(c[i++], 'tbsCertificate signature');
  const issuer = parseName(c[i++], 'issuer');
  const validity = expectSequence(c[i++], 'validity');
  if (validity.children.length !== 2) malformed(validity, 'validity: expected notBefore and notAfter');
  const notBefore = decodeTime(validity.children[0], 'notBefore');
  const notAfter = decodeTime(validity.children[1], 'notAfter');
  const subject = parseName(c[i++], 'subject');
  const publicKey = decodeSpki(c[i++]);
  // issuerUniqueID [1] / subjectUniqueID [2]: obsolete, skipped when present.
  while (isContext(c[i], 1) || isContext(c[i], 2)) i++;
  let extNode: DerNode | undefined;
  if (isContext(c[i], 3)) {
    const e = expectConstructed(c[i++]!, 'extensions');
    if (e.children.length !== 1) malformed(e, 'extensions: [3] must hold one SEQUENCE');
    extNode = e.children[0];
    if (version !== 3) malformed(e, `extensions present in a version ${version} certificate`);
  }
  if (c[i]) malformed(c[i], 'tbsCertificate: unexpected element after the extensions');
  const extensions = parseExtensions(extNode);

  const outerAlg = decodeAlgorithm(algNode, 'signatureAlgorithm');
  if (outerAlg !== innerAlg) malformed(algNode, `signatureAlgorithm ${outerAlg} differs from the tbsCertificate signature ${innerAlg}`);
  if (outerAlg !== OID_ECDSA_WITH_SHA256) {
    throw new X509Error('X509_UNSUPPORTED_ALGORITHM', `signature algorithm ${outerAlg} is not ecdsa-with-SHA256 (${OID_ECDSA_WITH_SHA256})`, {
      hint: 'GSMA RSP certificates are signed with ECDSA and SHA-256',
    });
  }
  const sigBits = decodeBitString(sigNode, 'signatureValue');
  if (sigBits.unusedBits !== 0) malformed(sigNode, 'signatureValue: BIT STRING with unused bits');
  let signatureRaw: Uint8Array;
  try {
    signatureRaw = signatureDerToRaw(sigBits.bytes);
  } catch (e) {
    throw new X509Error('X509_BAD_SIGNATURE_ENCODING', `signatureValue: ${isIfppError(e) ? e.message : 'not an ECDSA-Sig-Value'}`, {
      cause: e,
      details: { offset: base + sigNode.offset },
    });
  }

  return {
    raw: top.raw.slice(),
    tbsRaw: tbs.raw.slice(),
    version,
    serial: serialHex(serialBytes),
    issuer,
    subject,
    notBefore,
    notAfter,
    publicKey,
    signatureAlgorithm: outerAlg,
    signatureValue: sigBits.bytes.slice(),
    signatureRaw,
    extensions,
  };
}

function serialHex(b: Uint8Array): string {
  return toHex(b.length > 1 && b[0] === 0 ? b.subarray(1) : b);
}

/** AlgorithmIdentifier; parameters must be absent or NULL (as for ecdsa-with-SHA256). */
function decodeAlgorithm(n: DerNode | undefined, what: string): string {
  const seq = expectSequence(n, what);
  const oid = decodeOid(seq.children[0], `${what} algorithm`);
  const params = seq.children[1];
  if (params && !(isUniversal(params, UNIVERSAL.NULL) && params.content.length === 0)) {
    malformed(params, `${what}: unexpected parameters for ${oid}`);
  }
  if (seq.children.length > 2) malformed(seq, `${what}: too many elements`);
  return oid;
}

function decodeSpki(n: DerNode | undefined): CertificatePublicKey {
  const spki = expectSequence(n, 'subjectPublicKeyInfo');
  if (spki.children.length !== 2) malformed(spki, 'subjectPublicKeyInfo: expected algorithm and key');
  const alg = expectSequence(spki.children[0], 'subjectPublicKeyInfo algorithm');
  const algOid = decodeOid(alg.children[0], 'public key algorithm');
  if (algOid !== OID_EC_PUBLIC_KEY) {
    throw new X509Error('X509_UNSUPPORTED_KEY', `public key algorithm ${algOid} is not id-ecPublicKey`, {
      hint: 'GSMA RSP certificates carry EC keys on NIST P-256 or brainpoolP256r1',
    });
  }
  const params = alg.children[1];
  if (!isUniversal(params, UNIVERSAL.OID)) {
    throw new X509Error('X509_UNSUPPORTED_KEY', 'EC public key without a namedCurve OID (explicit or implicit curve parameters are not supported)');
  }
  if (alg.children.length > 2) malformed(alg, 'subjectPublicKeyInfo algorithm: too many elements');
  const curveOid = decodeOid(params, 'namedCurve');
  let curve: CurveName;
  try {
    curve = curveFromOid(curveOid);
  } catch (e) {
    throw new X509Error('X509_UNSUPPORTED_KEY', `public key curve ${curveOid} is neither NIST P-256 nor brainpoolP256r1`, { cause: e });
  }
  const bits = decodeBitString(spki.children[1], 'subjectPublicKey');
  if (bits.unusedBits !== 0) malformed(spki.children[1], 'subjectPublicKey: BIT STRING with unused bits');
  if (!isValidPublicKey(curve, bits.bytes)) {
    throw new X509Error('X509_BAD_PUBLIC_KEY', `subjectPublicKey (${bits.bytes.length} bytes) is not a point on ${curve === 'nist' ? 'NIST P-256' : 'brainpoolP256r1'}`);
  }
  return {
    curve,
    point: uncompressPublicKey(curve, bits.bytes),
    spki: spki.raw.slice(),
    subjectPublicKey: bits.bytes.slice(),
  };
}

/** One line for logs: subject, serial, issuer and validity. */
export function describeCertificate(cert: Certificate): string {
  return `"${cert.subject.text}" (serial ${cert.serial}, issued by "${cert.issuer.text}", valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()})`;
}
