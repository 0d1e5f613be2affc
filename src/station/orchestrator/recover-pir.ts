/**
 * The signed result of an interrupted load, read back from the chip. Per SGP.22 an eUICC keeps
 * the result of every profile installation (the PIR, BF37, exactly as it signed it) in its
 * notification list until an LPA removes it (RemoveNotificationFromList). A station killed
 * after BF23 went out, before the PIR was journaled, can so still prove the install: it asks
 * the chip for its pending install notifications (RetrieveNotificationsList BF2B, install
 * event only) and checks the one for the unit's transactionId exactly as a live PIR
 * (CERT.EUICC signature, transactionId).
 *
 * Limit: a chip whose notification was already removed (an LPA sent it, `ifpp bench
 * notifications remove`) has nothing left to prove the install; the unit stays `unknown`.
 */
import { bytesEqual, toHex } from '../../core/bytes.ts';
import type { Pir } from '../../core/rsp/pir.ts';
import { BppCommandId, ErrorReason, NotificationEvent } from '../../core/rsp/pir.ts';
import type { Certificate } from '../../core/x509/certificate.ts';
import type { FpaClient } from '../fpa/fpa-client.ts';
import { verifyPir, type PirVerdict } from '../fpa/verify-pir.ts';
import { LpaClient } from '../bench/lpa-client.ts';

export interface RecoveredPir {
  pir: Pir;
  /** The notification's sequence number on the chip (what RemoveNotificationFromList takes). */
  seqNumber: number;
  verdict: PirVerdict;
}

/**
 * The chip's pending install notification for `transactionId`, verified; undefined when the
 * chip holds none for it. Errors of the exchange propagate (the caller decides what an
 * unanswered question means).
 */
export async function recoverPir(fpa: FpaClient, transactionId: Uint8Array, certEuicc: Certificate): Promise<RecoveredPir | undefined> {
  const r = await new LpaClient(fpa).retrieveNotifications({ profileManagementOperation: [NotificationEvent.notificationInstall] });
  if (!r.ok) return undefined; // noResultAvailable: no install notification pending
  for (const n of r.notifications) {
    if (n.kind !== 'pir' || !bytesEqual(n.pir.transactionId, transactionId)) continue;
    return { pir: n.pir, seqNumber: n.pir.notificationMetadata.seqNumber, verdict: verifyPir(n.pir, certEuicc, transactionId) };
  }
  return undefined;
}

/** The journal fields of a recovered PIR (unit.reconciled, unit.recovered), as pir.received has them. */
export function recoveredPirFields(r: RecoveredPir) {
  const fr = r.pir.finalResult;
  return {
    pir: toHex(r.pir.raw),
    verified: r.verdict.ok,
    ...(r.verdict.ok ? {} : { verifyCode: r.verdict.code }),
    installed: fr.kind === 'success',
    ...(fr.kind === 'error' ? { bppCommandId: BppCommandId.describe(fr.bppCommandId), errorReason: ErrorReason.describe(fr.errorReason) } : {}),
  };
}

/** Whether a recovered PIR proves the install (verifies, success). */
export function provesInstall(r: RecoveredPir): boolean {
  return r.verdict.ok && r.pir.finalResult.kind === 'success';
}
