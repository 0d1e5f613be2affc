/**
 * Certificate path verification for the GSMA RSP PKI (SGP.22 §4.5.2): CI -> CERT.DPpb (and
 * the other SM-DP+/SM-DS certificates), CI -> EUM -> CERT.EUICC. Every check is recorded, so
 * a caller can show the operator exactly which link failed and why; `failure` is the first.
 */
import { X509Error } from './errors.ts';
import type { X509ErrorCode } from './errors.ts';
import type { Certificate } from './certificate.ts';
import { extensionName } from './extensions.ts';
import { namesMatch, nameValue } from './name.ts';
import type { X509Name } from './name.ts';
import { OID_ECDSA_WITH_SHA256, RSP_ROLE_LABELS, rolesOf, UNDERSTOOD_EXTENSIONS } from './oids.ts';
import type { RspRole } from './oids.ts';
import { ecdsaVerify } from '../crypto/ecdsa.ts';
import { bytesEqual, toHex } from '../bytes.ts';

/** Longest path we follow (CI -> CI sub-CA -> EUM/DP sub-CA -> leaf, and one spare). */
export const MAX_CHAIN_LENGTH = 5;

export type ChainCheckName =
  | 'issuer-found'
  | 'signature'
  | 'issuer-name'
  | 'key-identifier'
  | 'issuer-is-ca'
  | 'path-length'
  | 'validity'
  | 'critical-extensions'
  | 'key-usage'
  | 'role'
  | 'issuer-role'
  | 'anchor-role'
  | 'eid-permitted';

export interface ChainCheck {
  readonly check: ChainCheckName;
  /** Subject of the certificate the check is about. */
  readonly subject: string;
  readonly ok: boolean;
  /** Set when the check failed. */
  readonly code?: X509ErrorCode;
  /** What was checked and what was found, pass or fail. */
  readonly reason: string;
}

export interface ChainFailure {
  readonly code: X509ErrorCode;
  readonly check: ChainCheckName;
  readonly subject: string;
  readonly reason: string;
}

export interface ChainResult {
  readonly ok: boolean;
  /** Every check made, in order: path building and links leaf-upwards, then per-certificate checks, then roles. */
  readonly checks: readonly ChainCheck[];
  /** The first failed check. */
  readonly failure: ChainFailure | undefined;
  /** The path found, leaf first; ends with a trust anchor when the path is complete. */
  readonly path: readonly Certificate[];
}

export interface VerifyChainOptions {
  readonly leaf: Certificate;
  /** Certificates that may sit between the leaf and a trust anchor (e.g. the EUM certificate). */
  readonly intermediates?: readonly Certificate[];
  /** Trusted CI certificates. */
  readonly trustAnchors: readonly Certificate[];
  /** The time validity is judged at. */
  readonly at: Date;
  /** The role the leaf must have (dp-pb for CERT.DPpb, euicc for CERT.EUICC, ...). */
  readonly role: RspRole;
}

/**
 * True when `issuer`'s key verifies `cert`'s signature over the received TBSCertificate.
 * Uses the issuer's curve (the two may differ; SGP.22 does not allow it, but it is harmless).
 */
export function verifyCertificateSignature(cert: Certificate, issuer: Certificate): boolean {
  if (cert.signatureAlgorithm !== OID_ECDSA_WITH_SHA256) return false;
  return ecdsaVerify(issuer.publicKey.curve, issuer.publicKey.point, cert.tbsRaw, cert.signatureRaw);
}

export function verifyChain(opts: VerifyChainOptions): ChainResult {
  const { leaf, intermediates = [], trustAnchors, at, role } = opts;
  const checks: ChainCheck[] = [];
  const pass = (check: ChainCheckName, c: Certificate, reason: string) => checks.push({ check, subject: c.subject.text, ok: true, reason });
  const failed = (check: ChainCheckName, c: Certificate, code: X509ErrorCode, reason: string) =>
    checks.push({ check, subject: c.subject.text, ok: false, code, reason });
  const isAnchor = (c: Certificate) => trustAnchors.some((a) => bytesEqual(a.raw, c.raw));

  // 1. Path building: follow issuer name + AKI up to a trust anchor.
  const path: Certificate[] = [leaf];
  let complete = isAnchor(leaf);
  while (!complete) {
    const child = path[path.length - 1]!;
    if (path.length >= MAX_CHAIN_LENGTH) {
      failed('issuer-found', child, 'X509_CHAIN_TOO_LONG', `no trust anchor within ${MAX_CHAIN_LENGTH} certificates`);
      break;
    }
    const unused = (c: Certificate) => !path.some((p) => bytesEqual(p.raw, c.raw));
    const found = findIssuer(child, trustAnchors.filter(unused)) ?? findIssuer(child, intermediates.filter(unused));
    if (!found) {
      failed('issuer-found', child, 'X509_UNKNOWN_ISSUER', unknownIssuerReason(child, [...trustAnchors, ...intermediates]));
      break;
    }
    path.push(found);
    complete = isAnchor(found);
    pass('issuer-found', child, `issued by ${complete ? 'trust anchor' : 'intermediate'} "${found.subject.text}"`);
  }

  // 2. Each link, leaf upwards.
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!;
    const issuer = path[i + 1]!;
    if (child.signatureAlgorithm !== OID_ECDSA_WITH_SHA256) {
      failed('signature', child, 'X509_BAD_SIGNATURE', `unsupported signature algorithm ${child.signatureAlgorithm}`);
    } else if (verifyCertificateSignature(child, issuer)) {
      pass('signature', child, `signature verified with the ${issuer.publicKey.curve} key of "${issuer.subject.text}"`);
    } else {
      failed('signature', child, 'X509_BAD_SIGNATURE', `signature does not verify with the ${issuer.publicKey.curve} key of "${issuer.subject.text}"`);
    }
    if (namesMatch(child.issuer, issuer.subject)) pass('issuer-name', child, `issuer name matches "${issuer.subject.text}"`);
    else failed('issuer-name', child, 'X509_NAME_MISMATCH', `issuer "${child.issuer.text}" differs from the issuer's subject "${issuer.subject.text}"`);
    checkKeyId(child, issuer, pass, failed);
    checkIssuerIsCa(issuer, i, path, pass, failed);
  }

  // 3. Each certificate on its own.
  for (const c of path) {
    if (Number.isNaN(at.getTime())) {
      // NaN compares false both ways and would pass every window.
      failed('validity', c, 'X509_BAD_TIME', 'the date to check validity at is not a valid date');
    } else if (at.getTime() < c.notBefore.getTime()) {
      failed('validity', c, 'X509_NOT_YET_VALID', `not valid before ${c.notBefore.toISOString()} (checked at ${at.toISOString()})`);
    } else if (at.getTime() > c.notAfter.getTime()) {
      failed('validity', c, 'X509_EXPIRED', `expired at ${c.notAfter.toISOString()} (checked at ${at.toISOString()})`);
    } else {
      pass('validity', c, `valid at ${at.toISOString()} (${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()})`);
    }
    const unknown = c.extensions.list.filter((e) => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.oid));
    if (unknown.length) failed('critical-extensions', c, 'X509_UNKNOWN_CRITICAL_EXTENSION', `unknown critical extension(s) ${unknown.map((e) => extensionName(e.oid)).join(', ')}`);
    else pass('critical-extensions', c, 'every critical extension is understood');
  }
  const ku = leaf.extensions.keyUsage;
  if (role !== 'ci' && role !== 'eum') {
    // SGP.22 §4.5.2: every RSP end-entity certificate carries keyUsage (critical); one without
    // it was not made for the role, whatever its policies say.
    if (!ku) failed('key-usage', leaf, 'X509_NO_KEY_USAGE', 'has no keyUsage extension (SGP.22 requires it, with digitalSignature)');
    else if (!ku.digitalSignature) failed('key-usage', leaf, 'X509_BAD_KEY_USAGE', 'keyUsage lacks digitalSignature');
    else pass('key-usage', leaf, 'keyUsage allows digitalSignature');
  }

  // 4. RSP roles (certificatePolicies).
  checkRole('role', leaf, role, pass, failed);
  const issuerOfLeaf = path[1];
  const wantedIssuer: RspRole | undefined = role === 'euicc' ? 'eum' : role === 'eum' ? 'ci' : undefined;
  if (issuerOfLeaf && wantedIssuer && !(wantedIssuer === 'ci' && isAnchor(issuerOfLeaf))) {
    checkRole('issuer-role', issuerOfLeaf, wantedIssuer, pass, failed);
  }
  const top = path[path.length - 1]!;
  if (complete) checkRole('anchor-role', top, 'ci', pass, failed);
  if (role === 'euicc' && issuerOfLeaf) checkEid(leaf, issuerOfLeaf, pass, failed);

  const first = checks.find((c) => !c.ok);
  return {
    ok: complete && first === undefined,
    checks,
    failure: first && { code: first.code!, check: first.check, subject: first.subject, reason: first.reason },
    path,
  };
}

/** verifyChain, throwing an X509Error with the first failure; returns the path on success. */
export function verifyChainOrThrow(opts: VerifyChainOptions): readonly Certificate[] {
  const r = verifyChain(opts);
  if (r.ok) return r.path;
  const f = r.failure ?? { code: 'X509_UNKNOWN_ISSUER' as const, reason: 'no path to a trust anchor', subject: opts.leaf.subject.text, check: 'issuer-found' };
  throw new X509Error(f.code, `${RSP_ROLE_LABELS[opts.role]} "${f.subject}": ${f.reason}`, { details: { check: f.check, checks: r.checks } });
}

type Pass = (check: ChainCheckName, c: Certificate, reason: string) => void;
type Fail = (check: ChainCheckName, c: Certificate, code: X509ErrorCode, reason: string) => void;

function findIssuer(child: Certificate, pool: readonly Certificate[]): Certificate | undefined {
  const aki = child.extensions.authorityKeyIdentifier;
  const candidates = pool.filter((c) => {
    if (!namesMatch(child.issuer, c.subject)) return false;
    const ski = c.extensions.subjectKeyIdentifier;
    return !aki || !ski || bytesEqual(aki, ski);
  });
  // Same name and key id twice (a re-issued CA): prefer the one whose key verifies.
  return candidates.find((c) => verifyCertificateSignature(child, c)) ?? candidates[0];
}

function unknownIssuerReason(child: Certificate, pool: readonly Certificate[]): string {
  const aki = child.extensions.authorityKeyIdentifier;
  const want = `"${child.issuer.text}"${aki ? ` with key id ${toHex(aki)}` : ''}`;
  const sameName = pool.filter((c) => namesMatch(child.issuer, c.subject));
  if (sameName.length === 0) return `issuer ${want} is not among the trusted or intermediate certificates`;
  const ids = sameName.map((c) => (c.extensions.subjectKeyIdentifier ? toHex(c.extensions.subjectKeyIdentifier) : 'none')).join(', ');
  return `issuer ${want} is not known: certificates with that name have key id ${ids} (a different CI or EUM key)`;
}

function checkKeyId(child: Certificate, issuer: Certificate, pass: Pass, failed: Fail): void {
  const aki = child.extensions.authorityKeyIdentifier;
  const ski = issuer.extensions.subjectKeyIdentifier;
  if (!aki) failed('key-identifier', child, 'X509_KEY_ID_MISMATCH', 'no authorityKeyIdentifier (SGP.22 requires it on every certificate below the CI)');
  else if (!ski) failed('key-identifier', child, 'X509_KEY_ID_MISMATCH', `issuer "${issuer.subject.text}" has no subjectKeyIdentifier`);
  else if (!bytesEqual(aki, ski)) failed('key-identifier', child, 'X509_KEY_ID_MISMATCH', `authorityKeyIdentifier ${toHex(aki)} differs from the issuer's subjectKeyIdentifier ${toHex(ski)}`);
  else pass('key-identifier', child, `authorityKeyIdentifier ${toHex(aki)} = issuer's subjectKeyIdentifier`);
}

function checkIssuerIsCa(issuer: Certificate, childIndex: number, path: readonly Certificate[], pass: Pass, failed: Fail): void {
  const bc = issuer.extensions.basicConstraints;
  const ku = issuer.extensions.keyUsage;
  if (!bc?.cA) {
    failed('issuer-is-ca', issuer, 'X509_NOT_CA', 'issuer is not a CA (basicConstraints cA is not set)');
    return;
  }
  if (ku && !ku.keyCertSign) {
    failed('issuer-is-ca', issuer, 'X509_NOT_CA', 'issuer keyUsage lacks keyCertSign');
    return;
  }
  pass('issuer-is-ca', issuer, `CA${bc.pathLen === undefined ? '' : `, pathLen ${bc.pathLen}`}${ku ? ', keyCertSign' : ''}`);
  if (bc.pathLen !== undefined) {
    // Non-self-issued CA certificates between this issuer and the leaf (RFC 5280 §4.2.1.9).
    let below = 0;
    for (let k = 1; k <= childIndex; k++) {
      const c = path[k]!;
      if (!namesMatch(c.issuer, c.subject)) below++;
    }
    if (below > bc.pathLen) failed('path-length', issuer, 'X509_PATH_LENGTH', `${below} CA certificate(s) below it, pathLen allows ${bc.pathLen}`);
    else pass('path-length', issuer, `${below} CA certificate(s) below it, pathLen ${bc.pathLen}`);
  }
}

function checkRole(check: ChainCheckName, c: Certificate, want: RspRole, pass: Pass, failed: Fail): void {
  const roles = rolesOf(c);
  if (roles.length === 1 && roles[0] === want) {
    pass(check, c, `RSP role ${want} (${RSP_ROLE_LABELS[want]})`);
    return;
  }
  const found = roles.length ? roles.map((r) => `${r} (${RSP_ROLE_LABELS[r]})`).join(', ') : 'no RSP role policy';
  failed(check, c, 'X509_WRONG_ROLE', `expected RSP role ${want} (${RSP_ROLE_LABELS[want]}), certificate has ${found}`);
}

/**
 * EUM name constraints (SGP.22 §4.5.2.1.0.2): each permitted directoryName lists attributes
 * the eUICC subject must carry; serialNumber there is an EID prefix (the EUM's IIN/EIN).
 */
function checkEid(leaf: Certificate, eum: Certificate, pass: Pass, failed: Fail): void {
  const eid = nameValue(leaf.subject, 'serialNumber');
  const nc = eum.extensions.nameConstraints;
  if (!nc || nc.permitted.length === 0) {
    pass('eid-permitted', leaf, `EID ${eid ?? '(none)'}; the EUM certificate sets no name constraints`);
    return;
  }
  if (nc.permitted.some((p) => subjectWithin(leaf.subject, p))) pass('eid-permitted', leaf, `EID ${eid ?? '(none)'} is within the EUM's permitted names`);
  else failed('eid-permitted', leaf, 'X509_EID_NOT_PERMITTED', `subject "${leaf.subject.text}" is outside the EUM's permitted names (${nc.permitted.map((p) => `"${p.text}"`).join(', ')})`);
}

function subjectWithin(subject: X509Name, permitted: X509Name): boolean {
  const norm = (v: string) => v.trim().toLowerCase();
  return permitted.attributes.every((p) =>
    subject.attributes.some((s) => s.oid === p.oid && (p.type === 'serialNumber' ? norm(s.value).startsWith(norm(p.value)) : norm(s.value) === norm(p.value))),
  );
}
