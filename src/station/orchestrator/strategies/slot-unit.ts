/**
 * One unit on one slot, as every strategy (and the operator's retry) runs it: slot power through
 * the jig's interlocks, the busy and result lamps, the unit runner, then power off.
 */
import { isIfppError } from '../../../core/errors.ts';
import type { Slot as SlotConfig } from '../../config/schema.ts';
import type { StationEvent } from '../../events.ts';
import type { CardSlot } from '../../hardware/card-slot.ts';
import type { Jig, SlotLedMode } from '../../hardware/jig.ts';
import type { UnitOutcomeCode } from '../../journal/records.ts';
import { tapApdus } from '../apdu-tap.ts';
import { runUnit, type UnitDeps, type UnitResult } from '../unit-runner.ts';

/** An enabled slot of the station: its config, its hardware, and what it is doing. */
export interface SlotRuntime {
  cfg: SlotConfig;
  card: CardSlot;
  busy: boolean;
  lastResult?: UnitResult;
}

/**
 * The slot's result lamps for a finished unit: pass or fail; a skipped chip (not for this
 * station) lights both, steady, so it is neither taken for a good unit nor set aside as a bad
 * one, and an operator at a socket does not wait on a dark lamp.
 */
export function resultLeds(outcome: UnitOutcomeCode, opts: { finished?: boolean } = {}): SlotLedMode {
  // Installed but not finished (finish-failed): both lamps, the unit needs the bench.
  if (outcome === 'installed') return opts.finished === false ? 'both' : 'pass';
  return outcome === 'skipped' ? 'both' : 'fail';
}

export interface SlotUnitDeps {
  jig: Jig;
  emit(e: StationEvent): void;
  /** The unit runner's dependencies for a unit on this slot, taken when it starts (the cycle's signal then). */
  unitDeps(s: SlotRuntime): UnitDeps;
  /** After each unit that ran (the station reports its stock). */
  afterUnit(): void;
}

/** One unit on one slot, with LEDs, power and the pending-check for chips seen again. */
export async function runSlotUnit(s: SlotRuntime, d: SlotUnitDeps): Promise<UnitResult | undefined> {
  try {
    // The jig's interlocks (trip latched, clamp open, empty socket) may refuse the power.
    d.jig.setSlotPower(s.cfg.id, true);
  } catch (e) {
    if (!isIfppError(e)) throw e;
    d.emit({ type: 'slot.state', t: Date.now(), slot: s.cfg.id, state: 'interrupted', reason: e.message, code: e.code });
    return undefined;
  }
  s.busy = true;
  d.jig.setSlotLeds(s.cfg.id, 'busy');
  try {
    const r = await runUnit(tapApdus(s.card, (e) => d.emit(e)), d.unitDeps(s));
    s.lastResult = r;
    d.jig.setSlotLeds(s.cfg.id, resultLeds(r.outcome, r));
    d.afterUnit();
    return r;
  } finally {
    await s.card.powerOff().catch(() => undefined);
    try {
      d.jig.setSlotPower(s.cfg.id, false);
    } catch {
      /* powering down is never refused; a board already lost is reported by the jig */
    }
    s.busy = false;
  }
}
