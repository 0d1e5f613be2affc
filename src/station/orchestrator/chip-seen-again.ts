/**
 * Units a stop left `unknown` (BF23 sent, no PIR journaled) wait for their chip. Whenever a
 * chip is identified (a socket at restart, any slot later, the repair bench), its EID is
 * looked up here first, before anything else is decided for it: the chip is asked for its
 * signed result (recover-pir.ts), its key state and its profiles, and the unit is settled
 * (reconcile.ts settlePending). A unit settled `installed` this way is then finished (spare
 * keys deleted, FPA services closed) as the config asks: only after its PIR is journaled.
 */
import { fromHex } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import type { Certificate } from '../../core/x509/certificate.ts';
import type { EventBus } from '../events.ts';
import type { FpaClient } from '../fpa/fpa-client.ts';
import type { Inventory } from '../inventory/inventory.ts';
import type { Journal } from '../journal/journal.ts';
import type { UnitOutcomeCode } from '../journal/records.ts';
import type { EuiccTrust } from './euicc-trust.ts';
import { finishSettled } from './finish-settled.ts';
import { settlePending, type PendingCheck, type UnfinishedInstall } from './reconcile.ts';
import { recoverPir } from './recover-pir.ts';

export interface SeenAgainDeps {
  journal: Journal;
  inventory: Inventory;
  trust: EuiccTrust;
  bus?: EventBus;
  /** The finish steps for a unit settled installed (the config's loading.endOfProduction); none: not finished here. */
  endOfProduction?: { deleteUnusedKeys: boolean; closeFpaServices: boolean } | undefined;
}

export interface SeenAgainResult {
  unit: string;
  outcome: UnitOutcomeCode;
  how: string;
  /** For an installed unit: whether finishing it succeeded (absent when not tried). */
  finished?: boolean;
}

export class PendingChecks {
  constructor(
    private pending: PendingCheck[],
    private readonly deps: SeenAgainDeps,
    /** Units settled installed at a restart (their PIR journaled before the stop), not finished yet. */
    private unfinished: UnfinishedInstall[] = [],
  ) {}

  get size(): number {
    return this.pending.length;
  }

  has(eid: string): boolean {
    return this.pending.some((p) => p.eid === eid);
  }

  /**
   * Settles every unit pending on this chip. `where` names the slot or reader (journal and
   * messages). A chip that cannot be asked (no answer, no eUICC data to verify with) keeps
   * its units pending; a journal or inventory failure propagates.
   */
  async settleFrom(eid: string, fpa: FpaClient, where: string): Promise<SeenAgainResult[]> {
    const mine = this.pending.filter((p) => p.eid === eid);
    if (mine.length === 0) return this.finishUnfinished(eid, fpa, where);
    let cert: Certificate;
    try {
      cert = this.deps.trust.certificateFor(eid);
    } catch (e) {
      if (!isIfppError(e)) throw e;
      this.warn(`${where}: chip ${eid} has ${mine.length} unit(s) left unknown by a stop, but its signed result cannot be checked: ${e.message}`);
      return [];
    }
    // Everything asked of the chip first: a chip that does not answer keeps its units pending,
    // while a journal or inventory failure (settling, below) is never swallowed.
    let answers;
    try {
      const keys = (await fpa.getFactoryInfo()).oneTimeKeys;
      const list = await fpa.listProfiles().catch(() => undefined);
      const listedIccids = list?.ok ? list.profiles.flatMap((p) => (p.iccid ? [p.iccid] : [])) : undefined;
      answers = [];
      for (const p of mine) answers.push({ p, chip: { keys, listedIccids, recovered: await recoverPir(fpa, fromHex(p.transactionId), cert) } });
    } catch (e) {
      if (!isIfppError(e)) throw e;
      this.warn(`${where}: chip ${eid} could not be asked about the unit(s) a stop left unknown: ${e.message}; asked again when seen again`);
      return [];
    }
    const results: SeenAgainResult[] = [];
    for (const { p, chip } of answers) {
      const r = await settlePending(p, chip, this.deps.journal, this.deps.inventory);
      if (r.outcome !== 'unknown') this.pending = this.pending.filter((x) => x !== p);
      this.warn(`${where}: unit ${p.unit.slice(0, 8)} left by a stop on chip ${eid}: ${r.outcome} (${r.how})`);
      results.push({ unit: p.unit, ...r });
    }
    const installed = results.find((r) => r.outcome === 'installed');
    if (installed) {
      const f = await finishSettled(fpa, this.deps.endOfProduction, this.deps.journal, { unit: installed.unit, slot: where, eid }, this.deps.bus);
      if (f !== undefined) installed.finished = f;
    }
    return results;
  }

  /**
   * A unit settled installed at a restart from its journaled PIR missed its finish stage: the
   * chip is finished now (its PIR was journaled and verified before the stop). Once per unit.
   */
  private async finishUnfinished(eid: string, fpa: FpaClient, where: string): Promise<SeenAgainResult[]> {
    const u = this.unfinished.find((x) => x.eid === eid);
    if (!u || !this.deps.endOfProduction) return [];
    this.unfinished = this.unfinished.filter((x) => x !== u);
    const finished = await finishSettled(fpa, this.deps.endOfProduction, this.deps.journal, { unit: u.unit, slot: where, eid }, this.deps.bus);
    if (finished === undefined) return [];
    this.warn(`${where}: unit ${u.unit.slice(0, 8)} on chip ${eid}, settled installed at a restart, ${finished ? 'finished now (spare keys deleted)' : 'could not be finished'}`);
    return [{ unit: u.unit, outcome: 'installed', how: 'settled installed at a restart; finished when seen again', finished }];
  }

  private warn(message: string): void {
    this.deps.bus?.emit({ type: 'station.warning', t: Date.now(), code: 'RECONCILED', message });
  }
}
