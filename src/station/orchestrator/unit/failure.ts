/**
 * The one failure type of a unit's stages: what the unit's outcome is, at which stage it failed,
 * and whether another attempt may help (same BPP after a fresh activation, or the next BPP).
 */
import { IfppError, isIfppError } from '../../../core/errors.ts';
import type { UnitOutcomeCode, UnitStage } from '../../journal/records.ts';
import { NO_CARD_CODES } from '../../hardware/card-slot.ts';

export type RetryKind = 'none' | 'same-bpp' | 'next-bpp';

export class UnitFailure extends IfppError {
  constructor(
    readonly outcome: UnitOutcomeCode,
    readonly stage: UnitStage,
    code: string,
    message: string,
    readonly retry: RetryKind = 'none',
    opts: { hint?: string; cause?: unknown; display?: string } = {},
  ) {
    super(code, message, opts);
    this.display = opts.display;
  }

  /** A shorter reason for the slot's cell, when the message is too long for it. */
  readonly display: string | undefined;
}

/** The code of a unit ended as `skipped` (journal unit.end, slot.result). */
export const FOREIGN_CHIP_CODE = 'EID_NOT_FOR_THIS_STATION';

/**
 * A chip that is not for this station, under eidPolicy.unknownEid "skip": after the read-only
 * identification, the store holds no BPP bound to its EID at all (whether or not its EID is in
 * the imported eUICC data). A chip with BPPs but no eUICC data (EUM data not imported), with
 * BPPs none of which is loadable, a CERT.EUICC that does not verify, closed FPA services or bad
 * check digits are failures under either policy.
 */
export function foreignChip(eid: string, why: 'no-euicc-data' | 'no-bpp'): UnitFailure {
  const [long, short] =
    why === 'no-euicc-data'
      ? [`no BPP in the store is bound to EID ${eid}, nor is it in any imported eUICC data`, 'no BPP for this EID']
      : [`no BPP in the store is bound to EID ${eid}`, 'no BPP for this EID'];
  return new UnitFailure('skipped', 'choose', FOREIGN_CHIP_CODE, `not for this station (skipped, left untouched): ${long}`, 'none', {
    display: `not for this station: ${short}`,
  });
}

export function checkAbort(signal: AbortSignal, stage: UnitStage): void {
  if (!signal.aborted) return;
  const c = abortCause(signal);
  throw new UnitFailure('interrupted', stage, c.code, c.message, 'none', c.hint ? { hint: c.hint } : {});
}

/**
 * What stopped every unit at once: the station aborts with the jig's error (JIG_ESTOP,
 * JIG_GUARD_OPEN, CLAMP_LOST, JIG_BOARD_LOST) or with a plain reason (operator abort: ABORTED).
 */
export function abortCause(signal: AbortSignal): { code: string; message: string; hint?: string } {
  const r: unknown = signal.reason;
  if (isIfppError(r)) return { code: r.code, message: r.message, ...(r.hint ? { hint: r.hint } : {}) };
  return { code: 'ABORTED', message: `stopped: ${r instanceof Error ? r.message : String(r ?? 'abort')}` };
}

/**
 * A unit whose attempt ended after the station aborted was interrupted by that abort, whatever
 * error the cut-off slot raised on the way (power gone, slot inactive, no answer): the unit
 * names the abort's cause, and what it cost. A decided outcome (skipped, already provisioned,
 * installed) stays as it is.
 */
export function interruptedByAbort(f: UnitFailure, signal: AbortSignal, bf23Sent: boolean): UnitFailure | undefined {
  if (!signal.aborted || f.outcome === 'skipped' || f.outcome === 'already-provisioned' || f.outcome === 'installed') return undefined;
  const c = abortCause(signal);
  if (f.outcome === 'interrupted' && f.code === c.code) return undefined;
  const during = STAGE_WORDS[f.stage];
  const cost = bf23Sent ? `the ${during} was cut after the BPP was sent: that BPP is spent` : `the ${during} was cut before the BPP was sent: nothing was spent`;
  return new UnitFailure('interrupted', f.stage, c.code, `${c.message} (${cost})`, 'none', { cause: f, ...(c.hint ? { hint: c.hint } : {}) });
}

/**
 * A card taken out of its socket mid-unit is not a chip failure: the unit is interrupted (no
 * retry: the slot is empty), and the operator is told what it cost and what to do. A slot that
 * was empty at power-on stays "unreachable" (stage activate).
 */
const STAGE_WORDS: Record<UnitStage, string> = {
  connect: 'connection',
  activate: 'activation',
  identify: 'identification',
  choose: 'BPP choice',
  prepare: 'load preparation',
  load: 'load',
  verify: 'result check',
  'post-check': 'final checks',
  finish: 'finishing',
};

export function cardPulled(f: UnitFailure, bf23Sent: boolean): UnitFailure | undefined {
  if (f.stage === 'activate' || f.outcome === 'interrupted' || !causedBy(f, NO_CARD_CODES)) return undefined;
  const during = STAGE_WORDS[f.stage];
  return bf23Sent
    ? new UnitFailure('interrupted', f.stage, 'CARD_REMOVED', `card removed during the ${during}: its BPP is spent (BF23 was sent: the one-time key may have been used)`, 'none', {
        cause: f,
        hint: 'put the chip back in: it is loaded with its next BPP',
      })
    : new UnitFailure('interrupted', f.stage, 'CARD_REMOVED', `card removed during the ${during}, before its BPP was sent: nothing was spent`, 'none', {
        cause: f,
        hint: 'put the chip back in to load it',
      });
}

function causedBy(e: unknown, codes: ReadonlySet<string>): boolean {
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    if (isIfppError(x) && codes.has(x.code)) return true;
  }
  return false;
}

export function codeOf(e: unknown, fallback: string): string {
  return isIfppError(e) ? e.code : fallback;
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
