/**
 * Object identifiers of the GSMA RSP PKI (SGP.22 §4.5, ASN.1 module id-rspRole) and of the
 * X.509 pieces we decode. Role OIDs sit under id-rspRole = 2.23.146.1.2.1 and are carried in
 * the certificatePolicies extension.
 */

export const OID_RSP_ROLE_ARC = '2.23.146.1.2.1';

export type RspRole = 'ci' | 'euicc' | 'eum' | 'dp-tls' | 'dp-auth' | 'dp-pb' | 'ds-tls' | 'ds-auth';

/**
 * Certificate variants of SGP.22 v3 (§4.5.2.1, Annex H): Variant O keeps the v2 policy OIDs
 * (now named id-rspRole-…-v2, directly under id-rspRole); Variants Ov3, A, B and C put the
 * roles under the CI arc (id-rspRole-ci.0.0…). The role is the same either way, so a chain
 * check accepts both for the role it wants.
 */
export type CertificateVariant = 'O' | 'v3';

/** Variant O (and SGP.22 v2) policy OIDs, the ones this project issues by default. */
export const RSP_ROLE_OIDS: Readonly<Record<RspRole, string>> = {
  ci: '2.23.146.1.2.1.0',
  euicc: '2.23.146.1.2.1.1',
  eum: '2.23.146.1.2.1.2',
  'dp-tls': '2.23.146.1.2.1.3',
  'dp-auth': '2.23.146.1.2.1.4',
  'dp-pb': '2.23.146.1.2.1.5',
  'ds-tls': '2.23.146.1.2.1.6',
  'ds-auth': '2.23.146.1.2.1.7',
};

/** Variants Ov3, A, B, C policy OIDs (the CI keeps its one OID). */
export const RSP_ROLE_OIDS_V3: Readonly<Record<RspRole, string>> = {
  ci: '2.23.146.1.2.1.0',
  eum: '2.23.146.1.2.1.0.0.0',
  euicc: '2.23.146.1.2.1.0.0.0.0.0',
  'dp-tls': '2.23.146.1.2.1.0.0.1.0',
  'dp-auth': '2.23.146.1.2.1.0.0.1.1',
  'dp-pb': '2.23.146.1.2.1.0.0.1.2',
  'ds-tls': '2.23.146.1.2.1.0.0.2.0',
  'ds-auth': '2.23.146.1.2.1.0.0.2.1',
};

/** The policy OID of `role` in a certificate of `variant`. */
export function roleOid(role: RspRole, variant: CertificateVariant = 'O'): string {
  return (variant === 'O' ? RSP_ROLE_OIDS : RSP_ROLE_OIDS_V3)[role];
}

/** Certificate names as the specifications write them, for messages. */
export const RSP_ROLE_LABELS: Readonly<Record<RspRole, string>> = {
  ci: 'CERT.CI',
  euicc: 'CERT.EUICC',
  eum: 'CERT.EUM',
  'dp-tls': 'CERT.DP.TLS',
  'dp-auth': 'CERT.DPauth',
  'dp-pb': 'CERT.DPpb',
  'ds-tls': 'CERT.DS.TLS',
  'ds-auth': 'CERT.DSauth',
};

/** The RSP role a policy OID names, in any certificate variant. */
export function roleFromOid(oid: string): RspRole | undefined {
  for (const table of [RSP_ROLE_OIDS, RSP_ROLE_OIDS_V3]) {
    for (const [role, o] of Object.entries(table)) if (o === oid) return role as RspRole;
  }
  return undefined;
}

export function isRspRole(s: string): s is RspRole {
  return Object.hasOwn(RSP_ROLE_OIDS, s);
}

/** A parsed certificate as far as its roles go (structural: oids.ts stays below certificate.ts). */
export interface PolicyHolder {
  extensions: { certificatePolicies?: readonly string[] | undefined };
}

/** Every RSP role the certificate's policies name (normally exactly one). */
export function rolesOf(cert: PolicyHolder): RspRole[] {
  const out: RspRole[] = [];
  for (const oid of cert.extensions.certificatePolicies ?? []) {
    const r = roleFromOid(oid);
    if (r && !out.includes(r)) out.push(r);
  }
  return out;
}

/** The certificate's RSP role, or undefined when it names none or more than one. */
export function roleOf(cert: PolicyHolder): RspRole | undefined {
  const r = rolesOf(cert);
  return r.length === 1 ? r[0] : undefined;
}

// Algorithms and keys
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

// Name attributes (X.520), with the short labels used in readable names.
export const NAME_ATTRIBUTES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export type NameAttributeType = 'CN' | 'serialNumber' | 'C' | 'L' | 'ST' | 'O' | 'OU';

export function nameAttributeOid(type: string): string | undefined {
  for (const [oid, t] of Object.entries(NAME_ATTRIBUTES)) if (t === type) return oid;
  return undefined;
}

// Extensions (RFC 5280 §4.2)
export const OID_EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/**
 * Extensions whose meaning the chain check processes; a critical extension outside this set
 * fails a chain (RFC 5280 §4.2). extKeyUsage and CRL distribution points are decoded by
 * nobody here, so they are deliberately absent.
 */
export const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  OID_EXT.subjectKeyIdentifier,
  OID_EXT.keyUsage,
  OID_EXT.subjectAltName,
  OID_EXT.basicConstraints,
  OID_EXT.nameConstraints,
  OID_EXT.certificatePolicies,
  OID_EXT.authorityKeyIdentifier,
]);
