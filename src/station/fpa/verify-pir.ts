/**
 * Checks a ProfileInstallationResult the way the SM-DPf will: the eUICC signature over the
 * BF27 bytes as received, with CERT.EUICC from the eUICC data, and the transactionId of the
 * BPP that was pushed. A result that fails either check proves nothing about the unit.
 */
import { bytesEqual, toHex } from '../../core/bytes.ts';
import { ecdsaVerify } from '../../core/crypto/ecdsa.ts';
import type { Pir } from '../../core/rsp/pir.ts';
import type { Certificate } from '../../core/x509/certificate.ts';

export type PirVerdict =
  | { ok: true; installed: boolean }
  | { ok: false; code: 'PIR_BAD_SIGNATURE' | 'PIR_WRONG_TRANSACTION'; reason: string };

export function verifyPir(pir: Pir, certEuicc: Certificate, expectedTransactionId: Uint8Array): PirVerdict {
  if (!ecdsaVerify(certEuicc.publicKey.curve, certEuicc.publicKey.point, pir.bf27Raw, pir.signature)) {
    return { ok: false, code: 'PIR_BAD_SIGNATURE', reason: 'euiccSignPIR does not verify with CERT.EUICC: the result cannot be trusted' };
  }
  if (!bytesEqual(pir.transactionId, expectedTransactionId)) {
    return {
      ok: false,
      code: 'PIR_WRONG_TRANSACTION',
      reason: `PIR is for transaction ${toHex(pir.transactionId)}, the BPP pushed was ${toHex(expectedTransactionId)}`,
    };
  }
  return { ok: true, installed: pir.finalResult.kind === 'success' };
}
