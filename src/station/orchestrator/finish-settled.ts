/**
 * The finish stage (finishAndJournal, shared with the live stage in unit/finish.ts), and
 * finishing a chip whose unit was settled `installed` outside its own finish stage: from a PIR
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

/** How a finish ended: finished, or refused (journaled, warned). */
export type FinishResult = { ok: true } | { ok: false; code: string; reason: string };

/** The code of an error taken as the chip's refusal (journaled, warned); undefined: it propagates. */
export type RefusalCode = (e: unknown) => string | undefined;

/**
 * The finish stage as both callers run it (the live one, unit/finish.ts, and this one): finish
 * the chip as `steps` ask, journal unit.finished with the chip's answer, warn FINISH_FAILED on a
 * refusal. Undefined when finishing is off.
 */
export async function finishAndJournal(
  fpa: FpaClient,
  steps: EndOfProduction | undefined,
  journal: Journal,
  at: { unit: string; slot: string; eid: string },
  bus: EventBus | undefined,
  now: () => number,
  refusal: RefusalCode,
): Promise<FinishResult | undefined> {
  if (!steps || (!steps.deleteUnusedKeys && !steps.closeFpaServices)) return undefined;
  const base = { ...at, deleteUnusedKeys: steps.deleteUnusedKeys, closeFpaServices: steps.closeFpaServices };
  try {
    const f = await finishChip(fpa, { deleteUnusedKeys: steps.deleteUnusedKeys, closeFpaServices: steps.closeFpaServices });
    await journal.append('unit.finished', { ...base, ok: true, keysDeleted: f.keysDeleted, fpaClosed: f.fpaClosed });
    return { ok: true };
  } catch (e) {
    const code = refusal(e);
    if (code === undefined) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    await journal.append('unit.finished', { ...base, ok: false, code, reason });
    bus?.emit({
      type: 'station.warning',
      t: now(),
      code: 'FINISH_FAILED',
      message: `${at.slot}: chip ${at.eid} is installed but not finished (${code}: ${reason}); finish it on the bench (ifpp bench finish)`,
    });
    return { ok: false, code, reason };
  }
}

/** Only the chip's own refusal is reported; anything else (a journal failure, a bug) propagates. */
const chipRefusal: RefusalCode = (e) => (isIfppError(e) && !(e instanceof JournalError) ? e.code : undefined);

/** True: finished; false: the chip refused (journaled, warned); undefined: finishing is off. */
export async function finishSettled(
  fpa: FpaClient,
  steps: EndOfProduction | undefined,
  journal: Journal,
  at: { unit: string; slot: string; eid: string },
  bus?: EventBus,
): Promise<boolean | undefined> {
  return (await finishAndJournal(fpa, steps, journal, at, bus, Date.now, chipRefusal))?.ok;
}
