/**
 * Per-slot production figures: units, first-pass yield, outcomes and failure codes, per slot and
 * per bridge. One fold serves both sources, so the run's figures (from the event stream) and
 * the history's (from the journal) are counted by the same rules:
 *
 *   - a unit is one chip in one slot (runUnit): its attempts count once, its outcome is the last;
 *   - judged units are passes and real failures: interrupted and skipped units say nothing about
 *     the chip or the slot, so they are left out of the yield (as in the UI's FPY);
 *   - first-pass yield = units installed at their first attempt / judged units;
 *   - a failure code is counted once per failed unit (its final code).
 */
import type { UnitOutcome } from '../events.ts';
import type { UnitAccount } from '../report/accounting.ts';

export interface UnitTally {
  slot: string;
  outcome: UnitOutcome;
  passFirstTime: boolean;
  code?: string;
  /** The unit's time in the slot (all attempts), ms. */
  millis?: number;
}

export interface SlotFigures {
  units: number;
  judged: number;
  installed: number;
  passFirstTime: number;
  /** passFirstTime / judged; null before the first judged unit. */
  fpy: number | null;
  byOutcome: Partial<Record<UnitOutcome, number>>;
  /** Final failure codes of failed or interrupted units. */
  codes: Record<string, number>;
  /** Mean time in the slot of installed units, ms; null before the first. */
  meanInstallMillis: number | null;
}

export function emptyFigures(): SlotFigures {
  return { units: 0, judged: 0, installed: 0, passFirstTime: 0, fpy: null, byOutcome: {}, codes: {}, meanInstallMillis: null };
}

/** Whether an outcome is a verdict on the chip (and the slot): interrupted, skipped and already-provisioned are not. */
export function isJudged(outcome: UnitOutcome): boolean {
  return outcome !== 'interrupted' && outcome !== 'skipped' && outcome !== 'already-provisioned';
}

/** A copy of `f` with one more unit; figures are values, so snapshots stay as they were. */
export function addUnit(f: SlotFigures, u: UnitTally): SlotFigures {
  const judged = isJudged(u.outcome);
  const installed = u.outcome === 'installed';
  const n = { ...f, byOutcome: { ...f.byOutcome }, codes: { ...f.codes } };
  n.units++;
  n.byOutcome[u.outcome] = (n.byOutcome[u.outcome] ?? 0) + 1;
  if (judged) n.judged++;
  if (installed) {
    if (u.millis !== undefined) n.meanInstallMillis = ((f.meanInstallMillis ?? 0) * f.installed + u.millis) / (f.installed + 1);
    n.installed++;
    if (u.passFirstTime) n.passFirstTime++;
  } else if (u.code && u.outcome !== 'skipped' && u.outcome !== 'already-provisioned') {
    n.codes[u.code] = (n.codes[u.code] ?? 0) + 1;
  }
  n.fpy = n.judged === 0 ? null : n.passFirstTime / n.judged;
  return n;
}

/** Sums figures (a bridge's slots, the whole station). */
export function mergeFigures(list: readonly SlotFigures[]): SlotFigures {
  const out = emptyFigures();
  let millisSum = 0;
  for (const f of list) {
    out.units += f.units;
    out.judged += f.judged;
    out.installed += f.installed;
    out.passFirstTime += f.passFirstTime;
    millisSum += (f.meanInstallMillis ?? 0) * f.installed;
    for (const [k, v] of Object.entries(f.byOutcome)) out.byOutcome[k as UnitOutcome] = (out.byOutcome[k as UnitOutcome] ?? 0) + v;
    for (const [k, v] of Object.entries(f.codes)) out.codes[k] = (out.codes[k] ?? 0) + v;
  }
  out.fpy = out.judged === 0 ? null : out.passFirstTime / out.judged;
  out.meanInstallMillis = out.installed === 0 ? null : millisSum / out.installed;
  return out;
}

/**
 * The units of a journal, from its attempt accounts: attempts of one unit share the id before
 * "#" (runUnit names attempt n `${unit}#n`). Open attempts (the station died meanwhile) are not
 * units yet and are left out; "unknown" and "open" statuses say nothing about the slot either.
 */
export function unitsFromAccounts(accounts: Iterable<UnitAccount>): UnitTally[] {
  const byUnit = new Map<string, UnitAccount[]>();
  for (const a of accounts) {
    const id = a.unit.split('#')[0]!;
    const list = byUnit.get(id);
    if (list) list.push(a);
    else byUnit.set(id, [a]);
  }
  const out: UnitTally[] = [];
  for (const attempts of byUnit.values()) {
    const first = attempts[0]!;
    const last = attempts[attempts.length - 1]!;
    const slot = attempts.find((a) => a.slot !== undefined)?.slot;
    if (slot === undefined || last.status === 'open') continue;
    const outcome = last.status as UnitOutcome;
    const millis = attempts.reduce((n, a) => Math.max(n, a.millis ?? 0), 0);
    out.push({
      slot,
      outcome,
      passFirstTime: attempts.length === 1 && first.status === 'installed',
      ...(outcome !== 'installed' && last.code ? { code: last.code } : {}),
      ...(millis > 0 ? { millis } : {}),
    });
  }
  return out;
}

/** Figures per slot (and a slot's bridge from the config, for per-bridge sums). */
export class SlotStatsTable {
  private readonly figures = new Map<string, SlotFigures>();

  constructor(units: Iterable<UnitTally> = []) {
    for (const u of units) this.add(u);
  }

  add(u: UnitTally): SlotFigures {
    const f = addUnit(this.figures.get(u.slot) ?? emptyFigures(), u);
    this.figures.set(u.slot, f);
    return f;
  }

  get(slot: string): SlotFigures {
    return this.figures.get(slot) ?? emptyFigures();
  }

  slots(): string[] {
    return [...this.figures.keys()];
  }

  total(): SlotFigures {
    return mergeFigures([...this.figures.values()]);
  }

  /** Figures per bridge, for slots whose bridge `bridgeOf` knows. */
  byBridge(bridgeOf: (slot: string) => string | undefined): Map<string, SlotFigures> {
    const groups = new Map<string, SlotFigures[]>();
    for (const [slot, f] of this.figures) {
      const b = bridgeOf(slot);
      if (b === undefined) continue;
      const g = groups.get(b);
      if (g) g.push(f);
      else groups.set(b, [f]);
    }
    return new Map([...groups].map(([b, list]) => [b, mergeFigures(list)]));
  }
}
