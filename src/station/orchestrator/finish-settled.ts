/**
 * Finishing a chip whose unit was settled `installed` outside its own finish stage: from a PIR
 * recovered from the chip, or from a PIR journaled before a stop (settled at restart). Only
 * called once that settlement is journaled. The chip's answer is journaled either way
 * (unit.finished); a refusal is reported (FINISH_FAILED), never swallowed; a journal failure
 * propagates.
 */
import { isIfppError } from '../../core/errors.ts';
import type { EventBus } from '../events.ts';
import { finishChip } from '../fpa/finish-chip.ts';
import type { FpaClient } from '../fpa/fpa-client.ts';
import type { Journal } from '../journal/journal.ts';
import { JournalError } from '../journal/errors.ts';

export interface EndOfProduction {
  deleteUnusedKeys: boolean;
  closeFpaServices: boolean;
}

/** True: finished; false: the chip refused (journaled, warned); undefined: finishing is off. */
export async function finishSettled(
  fpa: FpaClient,
  steps: EndOfProduction | undefined,
  journal: Journal,
  at: { unit: string; slot: string; eid: string },
  bus?: EventBus,
): Promise<boolean | undefined> {
  if (!steps || (!steps.deleteUnusedKeys && !steps.closeFpaServices)) return undefined;
  const base = { ...at, deleteUnusedKeys: steps.deleteUnusedKeys, closeFpaServices: steps.closeFpaServices };
  try {
    const f = await finishChip(fpa, { deleteUnusedKeys: steps.deleteUnusedKeys, closeFpaServices: steps.closeFpaServices });
    await journal.append('unit.finished', { ...base, ok: true, keysDeleted: f.keysDeleted, fpaClosed: f.fpaClosed });
    return true;
  } catch (e) {
    if (!isIfppError(e) || e instanceof JournalError) throw e;
    await journal.append('unit.finished', { ...base, ok: false, code: e.code, reason: e.message });
    bus?.emit({
      type: 'station.warning',
      t: Date.now(),
      code: 'FINISH_FAILED',
      message: `${at.slot}: chip ${at.eid} is installed but not finished (${e.code}: ${e.message}); finish it on the bench (ifpp bench finish)`,
    });
    return false;
  }
}
