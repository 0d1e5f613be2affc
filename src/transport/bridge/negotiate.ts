/**
 * Which Fi/Di to ask for with PPS: the fastest one both the card and the bridge can run.
 *
 * ISO 7816-3 §9.3 lets the reader propose F from Fd up to the card's Fi and D from Dd up to the
 * card's Di. Readers that stray from the card's own Fi see cards refuse or break, so like
 * common CCID drivers we keep the card's Fi and only lower Di when the bridge cannot run the
 * card's Di (e.g. card 97 = 512/64 on a bridge that stops at 96 = 512/32). The defaults
 * (372/1) are always possible and need no PPS.
 */
import { TA1_DEFAULT, fiDiFromTa1, isValidTa1 } from '../../core/bridge-protocol/iso7816.ts';

function rate(ta1: number): number {
  const { fi, di } = fiDiFromTa1(ta1);
  return di / fi;
}

/** The TA1-style byte to put in PPS1; TA1_DEFAULT when nothing beats the defaults. */
export function choosePpsTa1(cardTa1: number, bridgeTa1: Iterable<number>): number {
  if (!isValidTa1(cardTa1)) return TA1_DEFAULT;
  const card = fiDiFromTa1(cardTa1);
  let best = TA1_DEFAULT;
  for (const t of bridgeTa1) {
    if (!isValidTa1(t)) continue;
    const { fi, di } = fiDiFromTa1(t);
    if (fi !== card.fi || di > card.di) continue;
    // Ties (same Fi/Di under two Fi codes, e.g. 0x and 1x for 372) go to the card's own byte.
    if (rate(t) > rate(best) || (rate(t) === rate(best) && t === cardTa1)) best = t;
  }
  return best;
}
