/**
 * X.509 v3 extensions (RFC 5280 §4.2): the full list as received, plus decoded forms of the
 * ones the RSP PKI relies on (SGP.22 §4.5.2). A recognised extension with an undecodable
 * value is an error, not something to skip.
 */
import { X509Error } from './errors.ts';
import { OID_EXT } from './oids.ts';
import {
  decodeBitString,
  decodeBoolean,
  decodeOctetString,
  decodeOid,
  decodeOidContent,
  decodeSmallUint,
  expectConstructed,
  expectPrimitive,
  expectSequence,
  isContext,
  isUniversal,
  malformed,
  parseDer,
  UNIVERSAL,
} from './der.ts';
import type { DerNode } from './der.ts';
import { parseName } from './name.ts';
import type { X509Name } from './name.ts';

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** extnValue content (the DER inside the OCTET STRING), as received. */
  readonly value: Uint8Array;
}

export interface KeyUsage {
  readonly digitalSignature: boolean;
  readonly nonRepudiation: boolean;
  readonly keyEncipherment: boolean;
  readonly dataEncipherment: boolean;
  readonly keyAgreement: boolean;
  readonly keyCertSign: boolean;
  readonly cRLSign: boolean;
  readonly encipherOnly: boolean;
  readonly decipherOnly: boolean;
}

export const KEY_USAGE_BITS: readonly (keyof KeyUsage)[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface BasicConstraints {
  readonly cA: boolean;
  readonly pathLen: number | undefined;
}

/** Name constraints restricted to directoryName subtrees: the only form the RSP PKI uses. */
export interface NameConstraints {
  readonly permitted: readonly X509Name[];
  readonly excluded: readonly X509Name[];
}

export interface CertificateExtensions {
  readonly list: readonly Extension[];
  readonly subjectKeyIdentifier: Uint8Array | undefined;
  /** The keyIdentifier field of authorityKeyIdentifier. */
  readonly authorityKeyIdentifier: Uint8Array | undefined;
  readonly keyUsage: KeyUsage | undefined;
  readonly basicConstraints: BasicConstraints | undefined;
  /** Policy OIDs (the RSP role lives here). */
  readonly certificatePolicies: readonly string[] | undefined;
  /** subjectAltName registeredID values: the SM-DP+ / EUM / CI OID in RSP certificates. */
  readonly registeredIds: readonly string[];
  /** EUM certificates restrict the EIDs they may sign this way (SGP.22 §4.5.2.1.0.2). */
  readonly nameConstraints: NameConstraints | undefined;
}

export function find(exts: CertificateExtensions, oid: string): Extension | undefined {
  return exts.list.find((e) => e.oid === oid);
}

const EXT_NAMES: Record<string, string> = Object.fromEntries(Object.entries(OID_EXT).map(([k, v]) => [v, k]));

export function extensionName(oid: string): string {
  return EXT_NAMES[oid] ?? oid;
}

/** Decodes the [3] Extensions SEQUENCE. */
export function parseExtensions(n: DerNode | undefined): CertificateExtensions {
  const list: Extension[] = [];
  if (n) {
    const seq = expectSequence(n, 'extensions');
    if (seq.children.length === 0) malformed(seq, 'extensions: empty SEQUENCE (omit it instead)');
    for (const e of seq.children) {
      const ext = expectSequence(e, 'extension');
      const [idNode, second, third] = ext.children;
      const oid = decodeOid(idNode, 'extension id');
      let critical = false;
      let valueNode = second;
      if (isUniversal(second, UNIVERSAL.BOOLEAN)) {
        critical = decodeBoolean(second, `extension ${extensionName(oid)} critical flag`);
        valueNode = third;
      } else if (third) malformed(third, `extension ${extensionName(oid)}: unexpected element`);
      if (ext.children.length > 3) malformed(ext, `extension ${extensionName(oid)}: too many elements`);
      const value = decodeOctetString(valueNode, `extension ${extensionName(oid)} value`);
      if (list.some((x) => x.oid === oid)) malformed(ext, `extension ${extensionName(oid)} appears twice`);
      list.push({ oid, critical, value: value.slice() });
    }
  }
  return decodeKnown(list);
}

function decodeKnown(list: Extension[]): CertificateExtensions {
  const value = <T>(oid: string, decode: (n: DerNode) => T): T | undefined => {
    const e = list.find((x) => x.oid === oid);
    if (!e) return undefined;
    const what = `extension ${extensionName(oid)}`;
    try {
      return decode(parseDer(e.value, what));
    } catch (err) {
      if (err instanceof X509Error && err.code === 'X509_BAD_EXTENSION') throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new X509Error('X509_BAD_EXTENSION', `${what}: ${msg.startsWith(what) ? msg.slice(what.length + 2) : msg}`, { cause: err });
    }
  };
  return {
    list,
    subjectKeyIdentifier: value(OID_EXT.subjectKeyIdentifier, (n) => decodeOctetString(n, 'subjectKeyIdentifier').slice()),
    authorityKeyIdentifier: value(OID_EXT.authorityKeyIdentifier, decodeAki),
    keyUsage: value(OID_EXT.keyUsage, decodeKeyUsage),
    basicConstraints: value(OID_EXT.basicConstraints, decodeBasicConstraints),
    certificatePolicies: value(OID_EXT.certificatePolicies, decodePolicies),
    registeredIds: value(OID_EXT.subjectAltName, decodeRegisteredIds) ?? [],
    nameConstraints: value(OID_EXT.nameConstraints, decodeNameConstraints),
  };
}

function decodeAki(n: DerNode): Uint8Array | undefined {
  const seq = expectSequence(n, 'authorityKeyIdentifier');
  const kid = seq.children.find((c) => isContext(c, 0));
  return kid ? expectPrimitive(kid, 'authorityKeyIdentifier keyIdentifier').content.slice() : undefined;
}

function decodeKeyUsage(n: DerNode): KeyUsage {
  const { bytes } = decodeBitString(n, 'keyUsage');
  const bit = (i: number) => ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
  return Object.fromEntries(KEY_USAGE_BITS.map((name, i) => [name, bit(i) === 1])) as unknown as KeyUsage;
}

function decodeBasicConstraints(n: DerNode): BasicConstraints {
  const seq = expectSequence(n, 'basicConstraints');
  let i = 0;
  let cA = false;
  if (isUniversal(seq.children[i], UNIVERSAL.BOOLEAN)) cA = decodeBoolean(seq.children[i++], 'basicConstraints cA');
  let pathLen: number | undefined;
  if (seq.children[i]) pathLen = decodeSmallUint(seq.children[i++], 'basicConstraints pathLenConstraint');
  if (seq.children[i]) malformed(seq.children[i], 'basicConstraints: unexpected element');
  return { cA, pathLen };
}

function decodePolicies(n: DerNode): string[] {
  const seq = expectSequence(n, 'certificatePolicies');
  if (seq.children.length === 0) malformed(seq, 'certificatePolicies: no policy');
  return seq.children.map((p) => decodeOid(expectSequence(p, 'PolicyInformation').children[0], 'policyIdentifier'));
}

function decodeRegisteredIds(n: DerNode): string[] {
  const seq = expectSequence(n, 'subjectAltName');
  return seq.children
    .filter((g) => isContext(g, 8))
    .map((g) => decodeOidContent(expectPrimitive(g, 'registeredID').content, 'registeredID', g.offset));
}

function decodeNameConstraints(n: DerNode): NameConstraints {
  const seq = expectSequence(n, 'nameConstraints');
  const subtrees = (tag: number): X509Name[] => {
    const t = seq.children.find((c) => isContext(c, tag));
    if (!t) return [];
    const out: X509Name[] = [];
    for (const st of expectConstructed(t, 'GeneralSubtrees').children) {
      const base = expectSequence(st, 'GeneralSubtree').children[0];
      // directoryName [4] is explicit (Name is a CHOICE); other GeneralName forms are ignored.
      if (isContext(base, 4)) out.push(parseName(expectConstructed(base, 'directoryName').children[0], 'nameConstraints directoryName'));
    }
    return out;
  };
  return { permitted: subtrees(0), excluded: subtrees(1) };
}
