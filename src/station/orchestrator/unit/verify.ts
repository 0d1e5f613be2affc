/**
 * Stage verify: the chip's signed result (PIR) checked against CERT.EUICC and the BPP's
 * transactionId, journaled verbatim (pir.received) for the Profile Loading Report. Any BF37 means
 * BF23 reached the chip: the BPP is spent whatever the result says.
 */
import { BppCommandId, ErrorReason, type Pir } from '../../../core/rsp/pir.ts';
import { toHex } from '../../../core/bytes.ts';
import { verifyPir } from '../../fpa/verify-pir.ts';
import { BppState } from '../../store/bpp-store.ts';
import { handled, type Attempt, type UnitRun } from './context.ts';
import type { Chosen } from './choose.ts';
import { UnitFailure } from './failure.ts';

/** Resolves with the store's installed state on its way to disk (awaited before unit.end). */
export async function verify(run: UnitRun, attempt: Attempt, eid: string, chosen: Chosen, pir: Pir): Promise<{ installedDurable: Promise<unknown> }> {
  const { inventory, journal } = run.deps;
  const bpp = chosen.bpp;
  run.emitState('verifying');
  const verdict = verifyPir(pir, chosen.certEuicc, bpp.transactionId);
  const fr = pir.finalResult;
  await journal.append('pir.received', {
    unit: attempt.id,
    batchId: bpp.batchId,
    position: bpp.position,
    eid,
    transactionId: chosen.txId,
    pir: toHex(pir.raw),
    verified: verdict.ok,
    ...(verdict.ok ? {} : { verifyCode: verdict.code }),
    installed: fr.kind === 'success',
    ...(fr.kind === 'error' ? { bppCommandId: BppCommandId.describe(fr.bppCommandId), errorReason: ErrorReason.describe(fr.errorReason) } : {}),
  });
  if (!verdict.ok) {
    await inventory.settle(bpp, BppState.failedKeyBurnt, attempt.id);
    throw new UnitFailure('failed-key-burnt', 'verify', verdict.code, verdict.reason, 'none', { hint: 'a result that does not verify cannot be reported as installed; set the unit aside' });
  }
  if (fr.kind === 'error') {
    // Any BF37 means BF23 reached the chip: even an initialiseSecureChannel error spends the BPP.
    await inventory.settle(bpp, BppState.failedKeyBurnt, attempt.id);
    throw new UnitFailure(
      'failed-key-burnt',
      'load',
      'PIR_ERROR',
      `chip refused the profile: ${BppCommandId.describe(fr.bppCommandId)} / ${ErrorReason.describe(fr.errorReason)}`,
      retryablePirError(fr.errorReason) ? 'next-bpp' : 'none',
    );
  }
  // Its sync overlaps the post-checks and is awaited before unit.end.
  return { installedDurable: handled(inventory.settle(bpp, BppState.installed, attempt.id)) };
}

/** Errors after which another BPP for the same chip may succeed (not: chip full, ICCID clash). */
function retryablePirError(reason: number): boolean {
  const name = ErrorReason.name(reason);
  return name !== 'installFailedDueToIccidAlreadyExistsOnEuicc' && name !== 'installFailedDueToInsufficientMemoryForProfile' && name !== 'pprNotAllowed';
}
