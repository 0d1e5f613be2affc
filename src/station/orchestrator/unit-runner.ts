/**
 * One unit on one slot, from power-on to a settled outcome, as stages (unit/): activate,
 * identify (EID, one-time keys), choose a BPP bound to this EID and an unused key, load
 * (PrepareFactoryLoad, then the BPP), verify the signed result, finish. Every irreversible step
 * is journaled by the stage that takes it, before it happens. A stage fails with UnitFailure.
 *
 * Retry policy: a load that failed after the secure channel opened burnt its key, so the
 * next attempt takes another BPP bound to another unused key of the same chip; a transport
 * fault before BF23 retries the same BPP after a fresh activation. At most
 * `maxAttemptsPerChip` attempts; a chip with no loadable BPP is reported, not retried.
 *
 * A foreign chip (see `foreignChip`) under eidPolicy.unknownEid "skip" ends as `skipped` right
 * after the read-only identification: nothing else is sent to it and no BPP changes state.
 */
import { randomUUID } from 'node:crypto';
import type { UnitSlot } from '../hardware/card-slot.ts';
import { activate } from './unit/activate.ts';
import { choose } from './unit/choose.ts';
import { handled, type Attempt, type UnitDeps, type UnitResult, type UnitRun } from './unit/context.ts';
import type { UnitFailure } from './unit/failure.ts';
import { endFailedAttempt, finishFailed, finishInstalled } from './unit/finish.ts';
import { identify } from './unit/identify.ts';
import { load } from './unit/load.ts';
import { verify } from './unit/verify.ts';

export type { UnitDeps, UnitPolicy, UnitResult } from './unit/context.ts';

export async function runUnit(slot: UnitSlot, deps: UnitDeps): Promise<UnitResult> {
  const now = deps.now ?? Date.now;
  const run: UnitRun = {
    unit: randomUUID(),
    slot,
    deps,
    now,
    t0: now(),
    excluded: new Set<string>(),
    emitState: (state, reason, code) =>
      deps.bus.emit({ type: 'slot.state', t: now(), slot: slot.id, state, ...(reason ? { reason } : {}), ...(code ? { code } : {}) }),
  };
  const failures: UnitFailure[] = [];
  let number = 0;
  while (number < Math.max(1, deps.policy.maxAttemptsPerChip)) {
    number++;
    const id = number === 1 ? run.unit : `${run.unit}#${number}`;
    const attempt: Attempt = { id, number, bf23Sent: false, unsynced: [handled(deps.journal.append('unit.start', { unit: id, slot: slot.id, attempt: number }, { sync: false }))] };
    try {
      await activate(run, attempt);
      const identified = await identify(run, attempt);
      const chosen = await choose(run, attempt, identified);
      const pir = await load(run, attempt, identified, chosen);
      const { installedDurable } = await verify(run, attempt, identified.eid, chosen, pir);
      return await finishInstalled(run, attempt, identified, chosen, installedDurable);
    } catch (e) {
      const { failure, raw } = await endFailedAttempt(run, attempt, e, failures[failures.length - 1]);
      failures.push(failure);
      if (deps.signal.aborted || raw.outcome === 'interrupted') break;
      if (raw.retry === 'none') break;
      if (raw.retry === 'same-bpp' && attempt.chosen) run.excluded.delete(`${attempt.chosen.batchId}/${attempt.chosen.position}`);
      await slot.powerOff().catch(() => undefined);
    }
  }
  return finishFailed(run, failures, number);
}
