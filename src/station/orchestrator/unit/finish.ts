/**
 * Stage finish: how an attempt ends, on disk (unit.end) and on the event stream (slot.result and
 * unit.done, once per unit, with the attempt count). An installed unit gets its post-checks
 * first; a failed attempt gives back a BPP it never touched.
 */
import { toHex } from '../../../core/bytes.ts';
import type { UnitOutcome } from '../../events.ts';
import type { UnitOutcomeCode } from '../../journal/records.ts';
import { BppState } from '../../store/bpp-store.ts';
import type { Attempt, UnitResult, UnitRun } from './context.ts';
import type { Chosen } from './choose.ts';
import { UnitFailure, cardPulled, codeOf, interruptedByAbort, messageOf } from './failure.ts';
import { finishAndJournal, type FinishResult } from '../finish-settled.ts';
import type { Identified } from './identify.ts';

const OUTCOME_EVENT: Record<UnitOutcomeCode, UnitOutcome> = {
  installed: 'installed',
  'failed-key-burnt': 'failed-key-burnt',
  'failed-before-secure-channel': 'failed-before-secure-channel',
  'no-bpp': 'no-bpp',
  unreachable: 'unreachable',
  interrupted: 'interrupted',
  unknown: 'unknown',
  skipped: 'skipped',
  'already-provisioned': 'already-provisioned',
};

/** Post-checks (best effort: the profile is installed and verified), then unit.end installed. */
export async function finishInstalled(run: UnitRun, attempt: Attempt, id: Identified, chosen: Chosen, installedDurable: Promise<unknown>): Promise<UnitResult> {
  const { journal, bus, policy } = run.deps;
  const { fpa, eid } = id;
  const { iccid, bpp } = chosen;
  if (policy.verifyProfileListed && iccid) {
    const list = await fpa.listProfiles().catch(() => undefined);
    const listed = list && 'profiles' in list ? (list.profiles as readonly { iccid?: string }[]).some((p) => p.iccid === iccid) : undefined;
    if (listed === false) bus.emit({ type: 'station.warning', t: run.now(), code: 'PROFILE_NOT_LISTED', message: `${run.slot.id}: installed ICCID ${iccid} is not listed by the chip` });
  }
  const finish = await finishChipStage(run, attempt, id);

  await installedDurable;
  const millis = run.now() - run.t0;
  await journal.append('unit.end', {
    unit: attempt.id,
    slot: run.slot.id,
    eid,
    batchId: bpp.batchId,
    position: bpp.position,
    transactionId: chosen.txId,
    outcome: 'installed',
    millis,
    ...(finish ? { finished: finish.ok, ...(finish.ok ? {} : { finishFailed: true, stage: 'finish' as const, code: finish.code, reason: finish.reason }) } : {}),
  });
  if (finish && !finish.ok) {
    run.emitState('pass', `installed${iccid ? ` (ICCID ${iccid})` : ''}, NOT FINISHED: ${finish.reason}`, FINISH_FAILED);
  } else {
    run.emitState('pass', iccid ? `ICCID ${iccid}` : undefined);
  }
  return report(
    run,
    {
      unit: run.unit,
      slot: run.slot.id,
      eid,
      ...(iccid ? { iccid } : {}),
      outcome: 'installed',
      attempts: attempt.number,
      millis,
      ...(finish ? { finished: finish.ok } : {}),
      ...(finish && !finish.ok ? { code: FINISH_FAILED, reason: `not finished: ${finish.reason}` } : {}),
    },
    attempt.number === 1 && (finish?.ok ?? true),
  );
}

/** The code an installed-but-not-finished unit carries (slot, result, CSV). */
export const FINISH_FAILED = 'FINISH_FAILED';

/**
 * Stage finish (SGP.41): delete the chip's unused one-time keys and close FPA services, as the
 * config asks (both by default). A failure is never swallowed: it is journaled (unit.finished)
 * and the unit ends installed with finishFailed, to be finished later (ifpp bench finish).
 * Undefined when finishing is turned off.
 */
function finishChipStage(run: UnitRun, attempt: Attempt, id: Identified): Promise<FinishResult | undefined> {
  const { policy, journal, bus } = run.deps;
  // Every error of the live stage is the unit's finish failure (its code, or FINISH_FAILED).
  return finishAndJournal(id.fpa, policy.endOfProduction, journal, { unit: attempt.id, slot: run.slot.id, eid: id.eid }, bus, () => run.now(), (e) => codeOf(e, FINISH_FAILED));
}

/**
 * A failed attempt: the failure as the unit reports it (a pulled card, a retry that found no
 * spare after a burnt key), the untouched BPP given back, unit.end on disk. `previous` is the
 * failure of the attempt before, if any.
 */
export async function endFailedAttempt(run: UnitRun, attempt: Attempt, error: unknown, previous: UnitFailure | undefined): Promise<{ failure: UnitFailure; raw: UnitFailure }> {
  const { inventory, journal } = run.deps;
  const { chosen, bf23Sent } = attempt;
  const raw =
    error instanceof UnitFailure
      ? error
      : new UnitFailure(bf23Sent ? 'failed-key-burnt' : 'failed-before-secure-channel', 'load', codeOf(error, 'INTERNAL'), messageOf(error), 'none', { cause: error });
  // The station's abort (e-stop, guard, board lost, operator) is the cause, named on every unit it cut.
  const f = interruptedByAbort(raw, run.deps.signal, bf23Sent) ?? cardPulled(raw, bf23Sent) ?? raw;
  if (chosen && !bf23Sent && f.outcome !== 'failed-key-burnt') {
    // The key was never touched: the BPP stays loadable (by this chip, later).
    if ((await inventory.stateOf(chosen)) === BppState.inFlight) await inventory.settle(chosen, BppState.failedBeforeSecureChannel, attempt.id);
  }
  // Each attempt is journaled with its own outcome (a retry that finds no spare spent nothing);
  // the unit's result names an earlier burnt key (see finishFailed).
  const failure =
    f.code === 'NO_BPP' && previous && previous.outcome === 'failed-key-burnt'
      ? new UnitFailure(f.outcome, f.stage, f.code, `no spare BPP for this chip after the attempt before burnt its key (${f.message})`, 'none', { cause: f })
      : f;
  await journal.append('unit.end', {
    unit: attempt.id,
    slot: run.slot.id,
    ...(run.eid ? { eid: run.eid } : {}),
    ...(chosen ? { batchId: chosen.batchId, position: chosen.position, transactionId: toHex(chosen.transactionId) } : {}),
    outcome: failure.outcome,
    stage: failure.stage,
    code: failure.code,
    reason: failure.message,
    millis: run.now() - run.t0,
  });
  return { failure, raw: f };
}

/**
 * The unit's failure from its attempts' failures (in order): the last one, unless an earlier
 * attempt burnt a key (a BPP spent) and the last did not: then a failure stays failed-key-burnt
 * (its code), an interruption stays interrupted, and either way the reason names every attempt,
 * so the last attempt never hides a burnt key.
 */
export function unitFailure(failures: readonly UnitFailure[]): UnitFailure {
  const last = failures[failures.length - 1]!;
  if (failures.length === 1) return last;
  const burnt = failures.slice(0, -1).filter((f) => f.outcome === 'failed-key-burnt');
  const story = failures.map((f, i) => `attempt ${i + 1}: ${f.outcome === 'failed-key-burnt' ? 'key burnt' : f.outcome} (${f.code})`).join('; ');
  if (!burnt.length || last.outcome === 'failed-key-burnt') return new UnitFailure(last.outcome, last.stage, last.code, `${last.message} [${story}]`, 'none', { cause: last, ...(last.hint ? { hint: last.hint } : {}) });
  const first = burnt[0]!;
  if (last.outcome === 'interrupted' || last.outcome === 'skipped' || last.outcome === 'already-provisioned') {
    return new UnitFailure(last.outcome, last.stage, last.code, `${last.message} [${story}]`, 'none', { cause: last, ...(last.hint ? { hint: last.hint } : {}) });
  }
  return new UnitFailure('failed-key-burnt', first.stage, first.code, `${first.message}; then ${last.message} [${story}]`, 'none', { cause: first, ...(first.hint ? { hint: first.hint } : {}) });
}

/** The unit ended without an installed profile: the slot says why, the result names the EID. */
export function finishFailed(run: UnitRun, failures: readonly UnitFailure[], attempts: number): UnitResult {
  const last = unitFailure(failures);
  const outcome: UnitOutcomeCode = run.deps.signal.aborted ? 'interrupted' : last.outcome;
  if (outcome === 'skipped' || outcome === 'already-provisioned') {
    // Not a failure: the slot says why in a few words; the journal and the result name the EID.
    run.emitState('skipped', last.display ?? last.message, last.code);
  } else {
    run.emitState(outcome === 'interrupted' ? 'interrupted' : 'fail', last.message + (last.hint ? ` — ${last.hint}` : ''), last.code);
  }
  const { eid, iccid } = run;
  return report(
    run,
    { unit: run.unit, slot: run.slot.id, ...(eid ? { eid } : {}), ...(iccid ? { iccid } : {}), outcome, code: last.code, reason: last.message, attempts, millis: run.now() - run.t0 },
    false,
    outcome === 'skipped' || outcome === 'already-provisioned' ? last.display : undefined,
  );
}

function report(run: UnitRun, r: UnitResult, passFirstTime: boolean, shownReason?: string): UnitResult {
  const { bus } = run.deps;
  const now = run.now;
  bus.emit({
    type: 'slot.result',
    t: now(),
    slot: run.slot.id,
    ...(r.eid ? { eid: r.eid } : {}),
    ...(r.iccid ? { iccid: r.iccid } : {}),
    outcome: OUTCOME_EVENT[r.outcome],
    ...(r.code ? { code: r.code } : {}),
    ...((shownReason ?? r.reason) ? { reason: shownReason ?? r.reason } : {}),
    millis: r.millis,
    attempt: r.attempts,
  });
  bus.emit({ type: 'unit.done', t: now(), slot: run.slot.id, ...(r.eid ? { eid: r.eid } : {}), outcome: OUTCOME_EVENT[r.outcome], passFirstTime });
  return r;
}
