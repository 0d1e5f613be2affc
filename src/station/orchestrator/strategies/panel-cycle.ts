/**
 * Panel jig with a board: wait for a valid two-hand start, clamp, load every occupied slot in
 * parallel, release, repeat. E-stop or guard aborts the cycle at once; a latched trip is cleared
 * (once its cause is gone) before the next start.
 */
import { isIfppError } from '../../../core/errors.ts';
import type { SlotRuntime } from './slot-unit.ts';
import type { StrategyHost } from './strategy.ts';

export async function panelCycles(host: StrategyHost): Promise<void> {
  const jig = host.jig;
  while (!host.stopRequested) {
    await host.waitWhilePaused();
    if (host.stopRequested) break;
    // A trip while waiting for a start (e-stop, board lost) is cleared before the next one.
    if (jig.status().aborted) {
      await clearTrip(host);
      continue;
    }
    jig.setTower('idle');
    host.setPhase('waiting-for-start');
    try {
      await jig.waitForStart({ signal: host.stopSignal });
    } catch (e) {
      if (host.stopRequested) break;
      if (isIfppError(e)) {
        host.warn(e.code, e.message);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      throw e;
    }
    if (host.stopRequested) break;
    host.newCycle();
    host.setPhase('clamping');
    try {
      await jig.clamp();
    } catch (e) {
      if (!isIfppError(e)) throw e;
      host.warn(e.code, e.message);
      jig.setTower('attention');
      continue;
    }
    const occupied: SlotRuntime[] = [];
    for (const s of host.slots) {
      const p = jig.hasBoard ? jig.presence(s.cfg.id) : undefined;
      if (p === false) continue;
      if (p === undefined && !(await s.card.present())) continue;
      if (host.contact(s)) occupied.push(s);
    }
    if (host.stopRequested) {
      // Stop asked while the jig clamped (q with no slot busy yet): release the panel unloaded.
      host.setPhase('releasing');
      await jig.release().catch(() => undefined);
      break;
    }
    host.setPhase('running');
    jig.setTower('running');
    await Promise.all(occupied.map((s) => host.runOne(s)));
    host.setPhase('releasing');
    await jig.release().catch(() => undefined);
    if (jig.status().aborted) {
      // A safety trip (e-stop, guard, clamp, board lost): wait until its cause is cleared.
      await clearTrip(host);
    } else if (host.cycleAborted() && !host.stopRequested) {
      host.setPhase('aborted', `${host.abortReason}: press s to go on`);
    }
  }
}

/**
 * A latched trip (e-stop, guard, clamp, board lost): tower red, then wait until its cause is
 * gone (e-stop released, guard closed, board back) and reset the jig.
 */
async function clearTrip(host: StrategyHost): Promise<void> {
  const jig = host.jig;
  const trip = jig.status().aborted;
  if (!trip) return;
  jig.setTower('fault');
  host.setPhase('aborted', trip.error.message);
  const safe = () => {
    const st = jig.status();
    return !st.lost && !st.estopPressed && !st.guardOpen;
  };
  if (!safe()) {
    await new Promise<void>((resolve) => {
      if (host.stopRequested) return resolve();
      const done = () => {
        jig.off('safety-clear', done);
        host.stopSignal.removeEventListener('abort', done);
        resolve();
      };
      jig.on('safety-clear', done);
      host.stopSignal.addEventListener('abort', done, { once: true });
    });
  }
  try {
    jig.resetAfterAbort();
  } catch {
    // The prompt says what is still unsafe; the next turn waits again (not in a tight loop).
    await new Promise((r) => setTimeout(r, 200));
  }
}
