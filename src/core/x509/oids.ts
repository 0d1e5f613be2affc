/**
 * Object identifiers of the GSMA RSP PKI (SGP.22 §4.5, ASN.1 module id-rspRole) and of the
 * X.509 pieces we decode. Role OIDs sit under id-rspRole = 2.23.146.1.2.1 and are carried in
 * the certificatePolicies extension.
 */
import type { Certificate } from './certificate.ts';

export const OID_RSP_ROLE_ARC = '2.23.146.1.2.1';

export type RspRole = 'ci' | 'euicc' | 'eum' | 'dp-tls' | 'dp-auth' | 'dp-pb' | 'ds-tls' | 'ds-auth';

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

export function roleFromOid(oid: string): RspRole | undefined {
  for (const [role, o] of Object.entries(RSP_ROLE_OIDS)) if (o === oid) return role as RspRole;
  return undefined;
}

export function isRspRole(s: string): s is RspRole {
  return Object.hasOwn(RSP_ROLE_OIDS, s);
}

/** Every RSP role the certificate's policies name (normally exactly one). */
export function rolesOf(cert: Certificate): RspRole[] {
  const out: RspRole[] = [];
  for (const oid of cert.extensions.certificatePolicies ?? []) {
    const r = roleFromOid(oid);
    if (r && !out.includes(r)) out.push(r);
  }
  return out;
}

/** The certificate's RSP role, or undefined when it names none or more than one. */
export function roleOf(cert: Certificate): RspRole | undefined {
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
