/**
 * Restart reconciliation. Every unit attempt the journal shows without an end is settled from
 * the last irreversible step it reached, and the BPP store is brought in line, so that no BPP
 * is ever pushed twice:
 *
 *   pir.received     → outcome from the PIR (it was signed and kept)
 *   bf23.sending     → the key may be consumed: the BPP is retired; outcome "unknown" until
 *                      the chip is seen again (a socket at restart, any slot later, the repair
 *                      bench) and asked for its signed result and key state (settlePending)
 *   bpp.chosen       → nothing irreversible happened: the BPP is loadable again; "interrupted"
 *   (nothing)        → "interrupted"
 */
import { toHex } from '../../core/bytes.ts';
import type { FactoryInfo } from '../../core/rsp/factory.ts';
import type { Journal, JournalRecord } from '../journal/journal.ts';
import { accountUnits, type UnitAccount } from '../report/accounting.ts';
import type { UnitOutcomeCode } from '../journal/records.ts';
import { provesInstall, recoveredPirFields, type RecoveredPir } from './recover-pir.ts';
import { BppState } from '../store/bpp-store.ts';
import type { BppRef, Inventory } from '../inventory/inventory.ts';

export interface PendingCheck {
  unit: string;
  eid: string;
  otpk: string;
  iccid?: string;
  batchId: string;
  position: number;
  transactionId: string;
}

/** A unit settled installed at a restart from its journaled PIR: its chip still needs the finish stage. */
export interface UnfinishedInstall {
  unit: string;
  eid: string;
}

export interface ReconcileSummary {
  settled: { unit: string; outcome: UnitOutcomeCode; how: string }[];
  /** Attempts stopped after BF23 without a result: settle when the chip is seen again. */
  pending: PendingCheck[];
  /** Installed units settled at a restart (this one or an earlier one) whose chip was never finished. */
  unfinished: UnfinishedInstall[];
}

/** The chip question an attempt left unknown after BF23 waits on (undefined without the data to ask). */
function pendingCheckOf(a: UnitAccount): PendingCheck | undefined {
  if (a.batchId === undefined || a.position === undefined || !a.eid || !a.otpk || !a.transactionId) return undefined;
  return { unit: a.unit, eid: a.eid, otpk: a.otpk, ...(a.iccid ? { iccid: a.iccid } : {}), batchId: a.batchId, position: a.position, transactionId: a.transactionId };
}

/**
 * Attempts already settled as `unknown` (by a restart), still waiting for their chip: what the
 * repair bench may settle. Open attempts are not in it: they are the station's to reconcile.
 */
export function pendingChecks(records: Iterable<JournalRecord>): PendingCheck[] {
  return chipChecks(records).pending;
}

/**
 * Units settled installed by a restart (from their journaled PIR) with no unit.finished since:
 * their chip skipped the finish stage, and gets it when seen again (chip-seen-again.ts). A PIR
 * recovered from the chip is finished right where it is recovered; it is listed here too when
 * that finish was never journaled.
 */
export function unfinishedInstalls(records: Iterable<JournalRecord>): UnfinishedInstall[] {
  return chipChecks(records).unfinished;
}

/** pendingChecks and unfinishedInstalls from one reading of the journal (the repair bench needs both). */
export function chipChecks(records: Iterable<JournalRecord>): { pending: PendingCheck[]; unfinished: UnfinishedInstall[] } {
  const units = accountUnits(records).units;
  return {
    pending: units.flatMap((a) => (a.status === 'unknown' && a.settledBy === 'reconciled' ? (pendingCheckOf(a) ?? []) : [])),
    unfinished: units.flatMap((a) => unfinishedInstall(a) ?? []),
  };
}

function unfinishedInstall(a: UnitAccount): UnfinishedInstall | undefined {
  return a.status === 'installed' && a.settledBy === 'reconciled' && a.finished === undefined && a.eid ? { unit: a.unit, eid: a.eid } : undefined;
}

/** Settles open attempts at start-up; returns what it did and the chips to ask later. */
export async function reconcileJournal(records: readonly JournalRecord[], journal: Journal, inventory: Inventory): Promise<ReconcileSummary> {
  const settled: ReconcileSummary['settled'] = [];
  const pending: PendingCheck[] = [];
  const unfinished: UnfinishedInstall[] = [];
  for (const a of accountUnits(records).units) {
    const ref = a.batchId !== undefined && a.position !== undefined ? { batchId: a.batchId, position: a.position } : undefined;
    const u = unfinishedInstall(a);
    if (u) {
      unfinished.push(u);
      continue;
    }
    if (a.status === 'unknown' && a.settledBy === 'reconciled') {
      // Settled as unknown by an earlier start; still waiting for the chip.
      const p = pendingCheckOf(a);
      if (p) pending.push(p);
      continue;
    }
    if (a.settledBy !== 'open') continue;
    let outcome: UnitOutcomeCode;
    let how: string;
    if (a.pir && ref) {
      const ok = a.pir.verified && a.pir.installed;
      outcome = ok ? 'installed' : 'failed-key-burnt';
      how = 'the signed result was received before the stop';
      await settle(inventory, ref, ok ? BppState.installed : BppState.failedKeyBurnt, a.unit);
      // Its finish stage never ran: the chip is finished when it is seen (still in its socket, or later).
      if (ok && a.eid) unfinished.push({ unit: a.unit, eid: a.eid });
    } else if (a.bf23Sent && ref) {
      outcome = 'unknown';
      how = 'stopped after BF23 was sent, before a result: BPP retired; the chip will be asked for its signed result and key state when seen again';
      await settle(inventory, ref, BppState.failedKeyBurnt, a.unit);
      const p = pendingCheckOf(a);
      if (p) pending.push(p);
    } else if (ref) {
      outcome = 'interrupted';
      how = 'stopped before the secure channel: BPP loadable again';
      if ((await inventory.stateOf(ref)) === BppState.inFlight) await settle(inventory, ref, BppState.failedBeforeSecureChannel, a.unit);
    } else {
      outcome = 'interrupted';
      how = 'stopped before a BPP was chosen';
    }
    await journal.append('unit.reconciled', {
      unit: a.unit,
      ...(a.eid ? { eid: a.eid } : {}),
      ...(ref ?? {}),
      ...(a.transactionId ? { transactionId: a.transactionId } : {}),
      outcome,
      how,
    });
    settled.push({ unit: a.unit, outcome, how });
  }
  return { settled, pending, unfinished };
}

/** What the chip said when it was seen again (asked by the station, or on the repair bench). */
export interface ChipAnswers {
  /** Every one-time key with its state (GetFactoryInfo). */
  keys: FactoryInfo['oneTimeKeys'];
  /** ICCIDs the chip lists (GetProfilesInfo); undefined when it would not list them. */
  listedIccids: readonly string[] | undefined;
  /** Its pending install notification for the unit's transactionId, verified (recover-pir.ts). */
  recovered: RecoveredPir | undefined;
}

/**
 * A chip with a pending check is back: settle its unit from what the chip holds, the signed
 * result first. Returns the outcome, or `unknown` when the chip cannot prove it: the profile is
 * installed but its install notification is gone (journaled nothing; still pending).
 *
 *   PIR found, verifies, success → installed (recovered), BPP installed, PIR in the PLR
 *   PIR found, verifies, error   → failed-key-burnt, with its PIR
 *   PIR found, does not verify   → failed-key-burnt, as a live one that does not verify
 *   no PIR, key unused           → failed-before-secure-channel (the BPP stays retired)
 *   no PIR, key used, no profile → failed-key-burnt
 *   no PIR, key used, profile    → stays unknown: nothing signed proves it (a removed notification)
 */
export async function settlePending(p: PendingCheck, chip: ChipAnswers, journal: Journal, inventory: Inventory): Promise<{ outcome: UnitOutcomeCode; how: string }> {
  const key = chip.keys.find((k) => toHex(k.otpk) === p.otpk.toLowerCase());
  const base = { unit: p.unit, eid: p.eid, batchId: p.batchId, position: p.position, transactionId: p.transactionId };
  const ref = { batchId: p.batchId, position: p.position };
  const r = chip.recovered;
  if (r) {
    const installed = provesInstall(r);
    const outcome: UnitOutcomeCode = installed ? 'installed' : 'failed-key-burnt';
    const how = !r.verdict.ok
      ? `chip seen again: its signed result (notification #${r.seqNumber}) does not verify (${r.verdict.code})`
      : installed
        ? `chip seen again: signed result recovered from its notification list (#${r.seqNumber}) and verified`
        : `chip seen again: its signed result (notification #${r.seqNumber}) reports an error`;
    await journal.append('unit.reconciled', { ...base, outcome, how, ...recoveredPirFields(r), recovered: true });
    // A restart retired the BPP (failed-key-burnt) when it could not ask: the PIR overrides that.
    if (installed) await inventory.settleRecovered(ref, p.unit, p.unit);
    else await settle(inventory, ref, BppState.failedKeyBurnt, p.unit);
    return { outcome, how };
  }
  let outcome: UnitOutcomeCode;
  let how: string;
  if (key && key.state === 'unused') {
    outcome = 'failed-before-secure-channel';
    how = 'chip seen again: its one-time key is unused, the BF23 never reached it (the BPP stays retired)';
  } else if (p.iccid && chip.listedIccids?.includes(p.iccid)) {
    // Installed, but nothing signed is left to prove it: the unit stays unknown (documented limit).
    return { outcome: 'unknown', how: `chip seen again: profile ${p.iccid} is installed but the chip holds no signed result for it any more (its install notification was removed)` };
  } else {
    outcome = 'failed-key-burnt';
    how = 'chip seen again: key consumed (or deleted), profile not installed';
  }
  await journal.append('unit.reconciled', { ...base, outcome, how });
  return { outcome, how };
}

/** A batch no longer in the inventory has nothing to settle. */
async function settle(inventory: Inventory, ref: BppRef, s: BppState, unit: string): Promise<void> {
  if ((await inventory.stateOf(ref)) !== undefined) await inventory.settle(ref, s, unit);
}
