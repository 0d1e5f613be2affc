/**
 * Socket programmer or bench: each slot on its own. A unit runs when one is present at start,
 * then each time a new one is inserted (presence input on a board, card-detect on the bridge):
 * counting insertions, not polling levels, so a fast swap is never missed.
 */
import type { SlotRuntime } from './slot-unit.ts';
import type { StrategyHost } from './strategy.ts';

export async function socketLoops(host: StrategyHost): Promise<void> {
  await Promise.all([...host.slots].map((s) => slotLoop(host, s)));
}

async function slotLoop(host: StrategyHost, s: SlotRuntime): Promise<void> {
  const id = s.cfg.id;
  const stopped = () => !!host.stopRequested;
  let seen = host.insertions.count(id);
  let present = host.jig.hasBoard ? host.jig.presence(id) === true : await s.card.present();
  while (!host.stopRequested) {
    if (!present) {
      await host.insertions.wait(id, seen, stopped);
      if (host.stopRequested) break;
    }
    seen = host.insertions.count(id);
    await host.waitWhilePaused();
    if (host.stopRequested) break;
    // An abort resumed since must not cut the next unit: it runs under a fresh signal.
    if (host.cycleAborted()) host.newCycle();
    // A retry may have started this slot meanwhile: one unit per slot at a time.
    if (!s.busy && host.contact(s)) await host.runOne(s);
    present = false; // the next unit is the next insertion
  }
}
