/**
 * The Esbpp batch manifest (docs/formats.md) as delivered by the SM-DPf, checked field by field
 * so a malformed delivery is refused with the field named.
 */
import { IfppError } from '../errors.ts';

export class ManifestError extends IfppError {}

export interface DeliveredFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface DeliveredManifest {
  format: 'ifpp-esbpp/1';
  batchId: string;
  smdpf: { name: string; oid?: string };
  createdAt: string;
  certDpPb: string; // base64 DER
  ciCertificate: string; // base64 DER
  count: number;
  files: DeliveredFile[];
}

/** What the store keeps about an imported batch. */
export interface BatchManifest {
  batchId: string;
  smdpf: { name: string; oid?: string };
  createdAt: string;
  importedAt: string;
  certDpPb: string;
  ciCertificate: string;
  /** Data file names by file number (the index refers to them by number). */
  dataFiles: string[];
  count: number;
  accepted: number;
  rejected: number;
  /** Last time a re-import supplied BPPs refused before (accepted/rejected are as of then). */
  completedAt?: string;
}

const SAFE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export function parseDeliveredManifest(text: string, where: string): DeliveredManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ManifestError('MANIFEST_INVALID', `${where} is not valid JSON: ${(e as Error).message}`, {
      hint: 'the batch delivery is damaged; ask the SM-DPf to resend it',
    });
  }
  const bad = (field: string, what: string): never => {
    throw new ManifestError('MANIFEST_INVALID', `${where}: field "${field}" ${what}`, {
      hint: 'the manifest does not follow docs/formats.md (ifpp-esbpp/1); ask the SM-DPf for a conforming batch',
    });
  };
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('(top level)', 'must be an object');
  const o = m as Record<string, unknown>;
  if (o.format !== 'ifpp-esbpp/1') bad('format', `must be "ifpp-esbpp/1" (found ${JSON.stringify(o.format)})`);
  if (typeof o.batchId !== 'string' || !SAFE_NAME.test(o.batchId)) bad('batchId', 'must be a short name of letters, digits, . _ -');
  const smdpf = o.smdpf as Record<string, unknown> | undefined;
  if (typeof smdpf !== 'object' || smdpf === null || typeof smdpf.name !== 'string') bad('smdpf.name', 'must be a string');
  if (typeof o.createdAt !== 'string') bad('createdAt', 'must be an ISO date string');
  for (const f of ['certDpPb', 'ciCertificate'] as const) {
    if (typeof o[f] !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(o[f] as string)) bad(f, 'must be base64 DER');
  }
  if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) bad('count', 'must be a non-negative integer');
  if (!Array.isArray(o.files) || o.files.length === 0) bad('files', 'must list the batch files');
  (o.files as unknown[]).forEach((f, i) => {
    const ff = f as Record<string, unknown>;
    if (typeof ff?.name !== 'string' || !SAFE_NAME.test(ff.name)) bad(`files[${i}].name`, 'must be a plain file name');
    if (typeof ff.bytes !== 'number' || ff.bytes < 0) bad(`files[${i}].bytes`, 'must be a byte count');
    if (typeof ff.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(ff.sha256)) bad(`files[${i}].sha256`, 'must be 64 lower-case hex digits');
  });
  const files = o.files as DeliveredFile[];
  if (!files.some((f) => f.name === 'index.ndjson')) bad('files', 'must include index.ndjson');
  return o as unknown as DeliveredManifest;
}
