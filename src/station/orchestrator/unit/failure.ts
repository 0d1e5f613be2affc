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
  if (signal.aborted) throw new UnitFailure('interrupted', stage, 'ABORTED', `stopped: ${String(signal.reason ?? 'abort')}`);
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
