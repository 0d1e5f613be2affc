/**
 * The recent-yield flag: a slot whose recent first-pass yield drops well below the other slots'
 * is flagged (worn pins, a bent contact, a dirty socket show there first). The rule, simple on
 * purpose so an operator can check it by hand:
 *
 *   - each slot keeps its last `units` judged units (pass or real failure; interrupted and
 *     skipped units are not verdicts on the slot), each first-pass or not;
 *   - its recent yield is the share of first passes among them;
 *   - the others' yield is the share over all the other slots' recent units together;
 *   - the slot is flagged when it has at least `minUnits` recent units, the others together
 *     have at least `minUnits`, and its yield is `dropPoints` percentage points or more below
 *     the others'.
 */
import type { RecentYieldRule } from '../config/schema.ts';

export interface YieldFlag {
  slot: string;
  /** The slot's recent first-pass yield and the others', 0..1. */
  yield: number;
  others: number;
  units: number;
  message: string;
}

export class RecentYield {
  private readonly windows = new Map<string, boolean[]>();

  constructor(private readonly rule: RecentYieldRule) {}

  /** One more judged unit on `slot`: whether it passed at its first attempt. */
  add(slot: string, firstPass: boolean): void {
    let w = this.windows.get(slot);
    if (!w) this.windows.set(slot, (w = []));
    w.push(firstPass);
    if (w.length > this.rule.units) w.shift();
  }

  /** The slot's recent yield, or null without units. */
  yieldOf(slot: string): { yield: number; units: number } | null {
    const w = this.windows.get(slot);
    return w && w.length ? { yield: share(w), units: w.length } : null;
  }

  /** Every slot the rule flags now. */
  flags(): YieldFlag[] {
    const out: YieldFlag[] = [];
    for (const [slot, w] of this.windows) {
      if (w.length < this.rule.minUnits) continue;
      let pass = 0;
      let n = 0;
      for (const [other, ow] of this.windows) {
        if (other === slot) continue;
        n += ow.length;
        pass += ow.filter(Boolean).length;
      }
      if (n < this.rule.minUnits) continue;
      const mine = share(w);
      const others = pass / n;
      // (a tolerance for binary fractions: 100% - 80% must count as 20 points, not 19.999…)
      if ((others - mine) * 100 >= this.rule.dropPoints - 1e-9) {
        const pct = (x: number) => `${Math.round(x * 100)}%`;
        out.push({ slot, yield: mine, others, units: w.length, message: `slot ${slot}: first-pass yield ${pct(mine)} over its last ${w.length} units, other slots ${pct(others)}: check its contacts` });
      }
    }
    return out;
  }
}

function share(w: readonly boolean[]): number {
  return w.filter(Boolean).length / w.length;
}
