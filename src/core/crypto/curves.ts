/**
 * The two curves of the GSMA RSP PKI. Everything curve-specific is looked up here, by our
 * short name or by the named-curve OID found in certificates and keys.
 */
import { p256 } from '@noble/curves/nist.js';
import { brainpoolP256r1 } from '@noble/curves/misc.js';
import { IfppError } from '../errors.ts';

export type CurveName = 'nist' | 'brp';

export const CURVE_OIDS: Readonly<Record<CurveName, string>> = {
  nist: '1.2.840.10045.3.1.7', // prime256v1 / secp256r1
  brp: '1.3.36.3.3.2.8.1.1.7', // brainpoolP256r1
};

export const CURVE_LABELS: Readonly<Record<CurveName, string>> = {
  nist: 'NIST P-256',
  brp: 'brainpoolP256r1',
};

export function curveImpl(name: CurveName) {
  return name === 'nist' ? p256 : brainpoolP256r1;
}

export function curveFromOid(oid: string): CurveName {
  for (const [name, o] of Object.entries(CURVE_OIDS)) if (o === oid) return name as CurveName;
  throw new IfppError('CRYPTO_UNSUPPORTED_CURVE', `unsupported named curve ${oid}`, {
    hint: 'GSMA RSP uses NIST P-256 or brainpoolP256r1 only',
  });
}

export function parseCurveName(s: string): CurveName {
  const v = s.toLowerCase();
  if (v === 'nist' || v === 'p256' || v === 'p-256' || v === 'secp256r1' || v === 'prime256v1') return 'nist';
  if (v === 'brp' || v === 'brainpool' || v === 'brainpoolp256r1') return 'brp';
  throw new IfppError('CRYPTO_UNSUPPORTED_CURVE', `unknown curve "${s}"`, { hint: 'use nist or brp' });
}
