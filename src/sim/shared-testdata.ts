/**
 * Locates the GSMA test material (SGP.26 certificates and keys, TS.48 profiles) that lives
 * beside the project in ../shared (never copied into it). Simulators use it when present and
 * fall back to generated test PKI and synthetic profiles when it is not.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function sharedTestdataDir(): string | undefined {
  const dir = process.env.IFPP_SHARED_DIR ? join(process.env.IFPP_SHARED_DIR, 'rsp-testdata') : resolve(repoRoot, '../shared/rsp-testdata');
  return existsSync(join(dir, 'sgp26')) ? dir : undefined;
}

export function ts48ProfilePaths(): string[] {
  const d = sharedTestdataDir();
  if (!d || !existsSync(join(d, 'ts48'))) return [];
  return readdirSync(join(d, 'ts48'))
    .filter((f) => f.endsWith('.der'))
    .sort()
    .map((f) => join(d, 'ts48', f));
}

export interface Sgp26DpPb {
  certDer: Uint8Array;
  keyPem: string;
  ciDer: Uint8Array;
}

/** The SGP.26 DPpb certificate, its (public, test-only) private key and the CI, for a curve. */
export function sgp26DpPb(curve: 'nist' | 'brp'): Sgp26DpPb | undefined {
  const d = sharedTestdataDir();
  if (!d) return undefined;
  const l = curve === 'nist' ? 'NIST' : 'BRP';
  const p = (f: string) => join(d, 'sgp26', f);
  if (!existsSync(p(`CERT_S_SM_DPpb_ECDSA_${l}.der`))) return undefined;
  return {
    certDer: new Uint8Array(readFileSync(p(`CERT_S_SM_DPpb_ECDSA_${l}.der`))),
    keyPem: readFileSync(p(`SK_S_SM_DPpb_ECDSA_${l}.pem`), 'utf8'),
    ciDer: new Uint8Array(readFileSync(p(`CERT_CI_ECDSA_${l}.der`))),
  };
}
