/**
 * Two-hand start, as in EN ISO 13851 type III: both buttons must go active within `windowMs`
 * of each other, both must still be held when the second one arrives, and after any attempt
 * (accepted or refused) both must be released before the next one counts, so a button taped
 * down or wedged cannot turn the other into a one-hand start.
 */

export type Hand = 'left' | 'right';

export type TwoHandOutcome =
  /** Both pressed in time: the caller checks its interlocks, then starts or refuses. */
  | { kind: 'press' }
  | { kind: 'too-far-apart'; gapMs: number }
  /** Nothing to decide (one hand, a release, or a press that still needs both released first). */
  | { kind: 'none' };

export class TwoHandStart {
  private readonly downAt: Record<Hand, number | undefined> = { left: undefined, right: undefined };
  private needRelease = false;

  constructor(readonly windowMs: number) {}

  /** Starts a fresh wait from the current button states: any hand held must let go first. */
  begin(leftHeld: boolean, rightHeld: boolean, at: number): void {
    this.downAt.left = leftHeld ? at : undefined;
    this.downAt.right = rightHeld ? at : undefined;
    this.needRelease = leftHeld || rightHeld;
  }

  /** True when a hand still has to be lifted before an attempt can count. */
  get waitingForRelease(): boolean {
    return this.needRelease;
  }

  /** Feeds a (debounced) change of one button; `at` is when the change began. */
  update(hand: Hand, active: boolean, at: number): TwoHandOutcome {
    this.downAt[hand] = active ? at : undefined;
    const { left, right } = this.downAt;
    if (!active) {
      if (left === undefined && right === undefined) this.needRelease = false;
      return { kind: 'none' };
    }
    if (left === undefined || right === undefined || this.needRelease) return { kind: 'none' };
    this.needRelease = true; // whatever happens now, the next attempt starts from both released
    const gapMs = Math.abs(left - right);
    return gapMs <= this.windowMs ? { kind: 'press' } : { kind: 'too-far-apart', gapMs };
  }
}
