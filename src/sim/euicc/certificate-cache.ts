/**
 * Certificates the simulated chips see again and again, parsed once per process: the CI
 * certificates every chip of a reel trusts, and the SM-DP's CERT.DPpb (and its chain) that
 * every PrepareFactoryLoad of a batch carries. A bridge simulator makes a chip per insertion and
 * runs a PrepareFactoryLoad per unit; asn1js parsing was a tenth of its CPU. Only the parse is
 * kept: every chain check still runs on every call, as on a real chip.
 */
import { parseCertificate, type Certificate } from '../../core/x509/certificate.ts';

const cache = new Map<string, Certificate>();
/** Enough for every CI, EUM and SM-DP certificate of a simulated factory; beyond it, parse each time. */
const MAX = 64;

/** parseCertificate, remembered by the exact DER bytes (a bad certificate throws as before, and is not kept). */
export function parseCertificateCached(der: Uint8Array): Certificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let cert = cache.get(key);
  if (!cert) {
    cert = parseCertificate(der);
    if (cache.size < MAX) cache.set(key, cert);
  }
  return cert;
}
