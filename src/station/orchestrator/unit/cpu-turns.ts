/**
 * CPU-bound work of the units (a CERT.EUICC parse and chain check: milliseconds each) run one
 * job per turn of the event loop, after the exchange just started has gone out, so it overlaps
 * the card's own processing time instead of adding to the unit's.
 *
 * One job per turn, not one setImmediate each: Node runs every immediate queued before its
 * check phase back to back, and slots started together stay in step, so at 32-64 slots the
 * answers of many slots arrived in one read and their checks ran as one block of tens of ms
 * (in the CPU profile of a 32-slot run the longest blocks of the event loop were these), during
 * which no other slot's answer was read nor its next request written. A job queued behind
 * another now waits for the next turn, with I/O polled in between.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

const queue: (() => void)[] = [];
let scheduled = false;

/** Runs `work` on a later turn of the event loop, one such job per turn. Never rejects. */
export function onItsOwnTurn<T>(work: () => T): Promise<Settled<T>> {
  return new Promise((resolve) => {
    queue.push(() => {
      try {
        resolve({ ok: true, value: work() });
      } catch (error) {
        resolve({ ok: false, error });
      }
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(runOne);
    }
  });
}

function runOne(): void {
  queue.shift()!();
  // Queued from inside an immediate, this one runs on the next turn, after the I/O poll.
  if (queue.length > 0) setImmediate(runOne);
  else scheduled = false;
}
