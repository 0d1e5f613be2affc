/**
 * Which CI a stored batch was bound under, against the CI keys a chip says it verifies with
 * (EUICCInfo2 euiccCiPKIdListForVerification). The unit runner prefers batches the chip trusts;
 * `ifpp probe --cards` reports chips that trust none of theirs.
 */
import { bytesEqual } from '../../core/bytes.ts';
import { parseCertificate } from '../../core/x509/certificate.ts';
import type { BatchManifest } from '../../core/formats/batch-manifest.ts';

/** Whatever holds batch manifests: the local store, or the line inventory. */
export interface ManifestSource {
  manifest(batchId: string): BatchManifest;
}

/** Per store (ids are only unique within one), each batch's CI subject key identifier. */
const ciSkiByStore = new WeakMap<ManifestSource, Map<string, Uint8Array | undefined>>();

/** The subject key identifier of the CI certificate batch `batchId` was bound under; undefined when unreadable. */
export function batchCiKeyId(store: ManifestSource, batchId: string): Uint8Array | undefined {
  let batchCiSki = ciSkiByStore.get(store);
  if (!batchCiSki) ciSkiByStore.set(store, (batchCiSki = new Map()));
  if (!batchCiSki.has(batchId)) {
    let ski: Uint8Array | undefined;
    try {
      ski = parseCertificate(new Uint8Array(Buffer.from(store.manifest(batchId).ciCertificate, 'base64'))).extensions.subjectKeyIdentifier;
    } catch {
      ski = undefined;
    }
    batchCiSki.set(batchId, ski);
  }
  return batchCiSki.get(batchId);
}

/** Whether the chip lists the CI of batch `batchId` among the CI keys it verifies with (EUICCInfo2). */
export function chipTrustsBatch(store: ManifestSource, batchId: string, trustedCis: readonly Uint8Array[]): boolean {
  const ski = batchCiKeyId(store, batchId);
  return ski !== undefined && trustedCis.some((t) => bytesEqual(t, ski));
}
