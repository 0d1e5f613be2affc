/**
 * X.501 distinguished names as X.509 carries them: kept as received (raw DER, for exact
 * issuer/subject matching) plus decoded attributes and a readable one-line form.
 */
import { NAME_ATTRIBUTES, nameAttributeOid } from './oids.ts';
import { decodeOid, decodeString, expectSequence, expectUniversal, malformed, UNIVERSAL } from './der.ts';
import type { DerNode } from './der.ts';
import { bytesEqual } from '../bytes.ts';

export interface NameAttribute {
  readonly oid: string;
  /** Short label (CN, O, serialNumber, ...) or the dotted OID when we have none. */
  readonly type: string;
  readonly value: string;
}

export interface X509Name {
  /** The Name SEQUENCE exactly as received. */
  readonly raw: Uint8Array;
  /** Attributes in encoding order (multi-valued RDNs flattened). */
  readonly attributes: readonly NameAttribute[];
  /** RDN structure: how many attributes each RDN holds, for exact comparisons. */
  readonly rdnSizes: readonly number[];
  /** e.g. "CN=Test CI, OU=TESTCERT, O=RSPTEST, C=IT" (encoding order, as OpenSSL prints it). */
  readonly text: string;
}

export function parseName(n: DerNode | undefined, what: string): X509Name {
  const seq = expectSequence(n, what);
  const attributes: NameAttribute[] = [];
  const rdnSizes: number[] = [];
  for (const rdn of seq.children) {
    const set = expectUniversal(rdn, UNIVERSAL.SET, `${what} RDN`);
    if (set.children.length === 0) malformed(set, `${what}: empty RDN`);
    for (const atv of set.children) {
      const pair = expectSequence(atv, `${what} attribute`);
      if (pair.children.length !== 2) malformed(pair, `${what}: attribute must hold a type and a value`);
      const oid = decodeOid(pair.children[0], `${what} attribute type`);
      const value = decodeString(pair.children[1]!, `${what} ${NAME_ATTRIBUTES[oid] ?? oid}`);
      attributes.push({ oid, type: NAME_ATTRIBUTES[oid] ?? oid, value });
    }
    rdnSizes.push(set.children.length);
  }
  return { raw: seq.raw.slice(), attributes, rdnSizes, text: formatName(attributes) };
}

function formatName(attrs: readonly NameAttribute[]): string {
  return attrs.map((a) => `${a.type}=${a.value.replace(/([,\\])/g, '\\$1')}`).join(', ');
}

/** The first value of an attribute, by short label ('serialNumber', 'CN', ...) or OID. */
export function nameValue(name: X509Name, type: string): string | undefined {
  const oid = nameAttributeOid(type) ?? type;
  return name.attributes.find((a) => a.oid === oid)?.value;
}

// RFC 5280 §7.1 in its simple form: case-insensitive, whitespace-collapsed values.
function normalise(v: string): string {
  return v.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Issuer/subject matching: identical bytes, or the same attributes up to case and spacing. */
export function namesMatch(a: X509Name, b: X509Name): boolean {
  if (bytesEqual(a.raw, b.raw)) return true;
  if (a.attributes.length !== b.attributes.length || a.rdnSizes.join() !== b.rdnSizes.join()) return false;
  return a.attributes.every((x, i) => {
    const y = b.attributes[i]!;
    return x.oid === y.oid && normalise(x.value) === normalise(y.value);
  });
}
