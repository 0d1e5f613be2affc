/** Stage activate: supply, reset, ATR and PPS. No answer means the unit is unreachable. */
import type { Attempt, UnitRun } from './context.ts';
import { UnitFailure, checkAbort, codeOf, messageOf } from './failure.ts';

export async function activate(run: UnitRun, _attempt: Attempt): Promise<void> {
  checkAbort(run.deps.signal, 'activate');
  run.emitState('powered');
  let activated;
  try {
    activated = await run.slot.activate();
  } catch (e) {
    throw new UnitFailure('unreachable', 'activate', codeOf(e, 'CARD_NO_ATR'), `no answer to reset: ${messageOf(e)}`, 'none', {
      hint: 'check the unit is seated and its eUICC supply; re-seat and retry',
      cause: e,
    });
  }
  run.emitState('atr', `Fi/Di ${activated.fi}/${activated.di}`);
}
