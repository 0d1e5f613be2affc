/**
 * The importer's checks (BatchChecks), done with the protocol core only: CERT.DPpb up to the
 * batch's CI with the dp-pb role, and per BPP its structure and the BF23 signature over the
 * one-time key it claims to be bound to. No keys, no decryption (SGP.41 GENS09/GENS10): this
 * module must never import src/sim or src/binding.
 */
import { bytesEqual } from '../../core/bytes.ts';
import { IfppError, isIfppError } from '../../core/errors.ts';
import { readMetadata, verifyBf23Signature } from '../../core/bpp/inspect.ts';
import { iccidToBytes } from '../../core/rsp/iccid.ts';
import { parseBpp, type Bpp } from '../../core/rsp/bpp.ts';
import { parseCertificate, type Certificate } from '../../core/x509/certificate.ts';
import { verifyChain } from '../../core/x509/chain.ts';
import { RSP_ROLE_LABELS } from '../../core/x509/oids.ts';
import type { BatchChecks } from './import-batch.ts';
import type { BppFacts } from './index-line.ts';

export class BppCheckError extends IfppError {}

/** remoteOpId of installBoundProfilePackage, the only operation a BPP may carry. */
const INSTALL_BPP = 1;

function certificate(der: Uint8Array, what: string): Certificate {
  try {
    return parseCertificate(der);
  } catch (e) {
    if (!isIfppError(e)) throw e;
    throw new BppCheckError(e.code, `${what} is not a usable certificate: ${e.message}`, {
      hint: 'the batch manifest is damaged or not from an SM-DPf; ask for the batch again',
      cause: e,
    });
  }
}

export function createBppChecks(): BatchChecks {
  // Every BPP of a batch carries the same CERT.DPpb: parse it once.
  let cached: { der: Uint8Array; cert: Certificate } | undefined;
  const dpCert = (der: Uint8Array): Certificate => {
    if (!cached || !bytesEqual(cached.der, der)) cached = { der: der.slice(), cert: certificate(der, 'CERT.DPpb') };
    return cached.cert;
  };

  return {
    checkDpChain(certDpPb: Uint8Array, ciCert: Uint8Array, at: Date): void {
      const leaf = dpCert(certDpPb);
      const ci = certificate(ciCert, 'the CI certificate');
      const r = verifyChain({ leaf, trustAnchors: [ci], at, role: 'dp-pb' });
      if (r.ok) return;
      const f = r.failure;
      throw new BppCheckError(f?.code ?? 'X509_UNKNOWN_ISSUER', `batch ${RSP_ROLE_LABELS['dp-pb']} "${f?.subject ?? leaf.subject.text}": ${f?.reason ?? 'no path to the CI'}`, {
        hint: 'the batch is not signed by an SM-DPf under the CI it names; refuse it and ask the SM-DPf',
        details: { check: f?.check, ci: ci.subject.text },
      });
    },

    checkBpp(bpp: Uint8Array, otpk: Uint8Array, certDpPb: Uint8Array): BppFacts {
      let parsed: Bpp;
      try {
        parsed = parseBpp(bpp);
      } catch (e) {
        if (!isIfppError(e)) throw e;
        throw new BppCheckError('BPP_MALFORMED', `not a valid Bound Profile Package: ${e.message}`, { cause: e, details: { cause: e.code } });
      }
      if (parsed.bf23.remoteOpId !== INSTALL_BPP) {
        throw new BppCheckError('BPP_MALFORMED', `BF23 remoteOpId is ${parsed.bf23.remoteOpId}, not installBoundProfilePackage (1)`);
      }
      if (!verifyBf23Signature(parsed.bf23, otpk, dpCert(certDpPb))) {
        throw new BppCheckError('BPP_BAD_SIGNATURE', 'BF23 signature does not verify with CERT.DPpb for the one-time key in the index', {
          hint: 'the BPP was altered, is bound to another key, or was signed by another SM-DPf',
        });
      }
      let iccid: Uint8Array;
      try {
        iccid = iccidToBytes(readMetadata(parsed).iccid);
      } catch (e) {
        if (!isIfppError(e)) throw e;
        throw new BppCheckError('BPP_MALFORMED', `the StoreMetadata (88 segments) cannot be read: ${e.message}`, { cause: e, details: { cause: e.code } });
      }
      return { transactionId: parsed.bf23.transactionId, iccid };
    },
  };
}

/** Ready-made checks for importBatch. */
export const bppChecks: BatchChecks = createBppChecks();
