/**
 * Finishing one chip (SGP.41): delete its unused one-time keys (DMF03, EUICCF03), then close
 * FPA services (GENS13), so the device's LPA can manage it (EUICCF04 keeps LPA services
 * blocked while a one-time key remains). Every answer is checked: a chip that refuses is
 * reported with a code, never assumed done. The station's finish stage and the repair bench's
 * `finish` command both call this.
 */
import { FpaError, type FpaClient } from './fpa-client.ts';

export interface FinishSteps {
  /** Delete the unused one-time keys. */
  deleteUnusedKeys: boolean;
  /** Close FPA services (after the keys: a closed chip answers no factory request). */
  closeFpaServices: boolean;
  /** Read the factory info afterwards and insist on no unused key and FPA services closed (the bench does). */
  verify?: boolean;
}

export interface FinishResult {
  /** Keys the chip says it deleted (0 when it had none). */
  readonly keysDeleted: number;
  /** FPA services were closed by this call. */
  readonly fpaClosed: boolean;
}

export async function finishChip(fpa: FpaClient, steps: FinishSteps = { deleteUnusedKeys: true, closeFpaServices: true, verify: true }): Promise<FinishResult> {
  let keysDeleted = 0;
  let fpaClosed = false;
  if (steps.deleteUnusedKeys) {
    const d = await fpa.deleteOneTimeKeys();
    if (d.result !== 'ok' && d.result !== 'nothingToDelete') {
      throw new FpaError('FINISH_KEYS_NOT_DELETED', `the chip refused to delete its unused one-time keys: ${d.result}`, {
        hint: 'the chip keeps a spare key and its LPA stays blocked; finish it later on the bench (ifpp bench finish) or report it',
      });
    }
    keysDeleted = d.deleted ?? 0;
  }
  if (steps.closeFpaServices) {
    const c = await fpa.closeFpaServices();
    if (c !== 'ok' && c !== 'fpaServicesClosed') {
      throw new FpaError('FINISH_FPA_NOT_CLOSED', `the chip refused to close FPA services: ${c}`, { hint: 'finish it later on the bench (ifpp bench finish) or report it' });
    }
    fpaClosed = c === 'ok';
  }
  if (steps.verify) {
    const after = await fpa.getFactoryInfo();
    const left = after.oneTimeKeys.filter((k) => k.state === 'unused').length;
    if ((steps.deleteUnusedKeys && left > 0) || (steps.closeFpaServices && after.fpaServices !== 'closed')) {
      throw new FpaError('FINISH_INCOMPLETE', `after finishing, the chip still reports ${left} unused key(s) and FPA services ${after.fpaServices}`, {
        hint: 'the chip did not do what it answered: take it out of circulation and report it',
      });
    }
  }
  return { keysDeleted, fpaClosed };
}
