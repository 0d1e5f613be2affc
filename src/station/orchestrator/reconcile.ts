/**
 * Restart reconciliation. Every unit attempt the journal shows without an end is settled from
 * the last irreversible step it reached, and the BPP store is brought in line, so that no BPP
 * is ever pushed twice:
 *
 *   pir.received     → outcome from the PIR (it was signed and kept)
 *   bf23.sending     → the key may be consumed: the BPP is retired; outcome "unknown" until
 *                      the chip is seen again and asked for its key state
 *   bpp.chosen       → nothing irreversible happened: the BPP is loadable again; "interrupted"
 *   (nothing)        → "interrupted"
 */
import { toHex } from '../../core/bytes.ts';
import type { FactoryInfo } from '../../core/rsp/factory.ts';
import type { Journal, JournalRecord } from '../journal/journal.ts';
import { accountUnits } from '../report/accounting.ts';
import type { UnitOutcomeCode } from '../journal/records.ts';
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

export interface ReconcileSummary {
  settled: { unit: string; outcome: UnitOutcomeCode; how: string }[];
  /** Attempts stopped after BF23 without a result: settle when the chip is seen again. */
  pending: PendingCheck[];
}

/** Settles open attempts at start-up; returns what it did and the chips to ask later. */
export async function reconcileJournal(records: readonly JournalRecord[], journal: Journal, inventory: Inventory): Promise<ReconcileSummary> {
  const settled: ReconcileSummary['settled'] = [];
  const pending: PendingCheck[] = [];
  for (const a of accountUnits(records).units) {
    const ref = a.batchId !== undefined && a.position !== undefined ? { batchId: a.batchId, position: a.position } : undefined;
    if (a.status === 'unknown' && a.settledBy === 'reconciled') {
      // Settled as unknown by an earlier start; still waiting for the chip.
      if (ref && a.eid && a.otpk && a.transactionId) pending.push({ unit: a.unit, eid: a.eid, otpk: a.otpk, ...(a.iccid ? { iccid: a.iccid } : {}), ...ref, transactionId: a.transactionId });
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
    } else if (a.bf23Sent && ref) {
      outcome = 'unknown';
      how = 'stopped after BF23 was sent, before a result: BPP retired; the chip will be asked for its key state when seen again';
      await settle(inventory, ref, BppState.failedKeyBurnt, a.unit);
      if (a.eid && a.otpk && a.transactionId) pending.push({ unit: a.unit, eid: a.eid, otpk: a.otpk, ...(a.iccid ? { iccid: a.iccid } : {}), ...ref, transactionId: a.transactionId });
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
  return { settled, pending };
}

/**
 * A chip with a pending check is back: its key state tells whether the interrupted load
 * consumed the key, its profile list whether the profile got installed.
 */
export async function settlePending(
  p: PendingCheck,
  info: FactoryInfo,
  listedIccids: readonly string[] | undefined,
  journal: Journal,
): Promise<UnitOutcomeCode> {
  const key = info.oneTimeKeys.find((k) => toHex(k.otpk) === p.otpk.toLowerCase());
  let outcome: UnitOutcomeCode;
  let how: string;
  if (key && key.state === 'unused') {
    outcome = 'failed-before-secure-channel';
    how = 'chip seen again: its one-time key is unused, the BF23 never reached it (the BPP stays retired)';
  } else if (p.iccid && listedIccids?.includes(p.iccid)) {
    outcome = 'installed';
    how = 'chip seen again: key consumed and the profile is installed (no signed result was received)';
  } else {
    outcome = 'failed-key-burnt';
    how = 'chip seen again: key consumed (or deleted), profile not installed';
  }
  await journal.append('unit.reconciled', { unit: p.unit, eid: p.eid, batchId: p.batchId, position: p.position, transactionId: p.transactionId, outcome, how });
  return outcome;
}

/** A batch no longer in the inventory has nothing to settle. */
async function settle(inventory: Inventory, ref: BppRef, s: BppState, unit: string): Promise<void> {
  if ((await inventory.stateOf(ref)) !== undefined) await inventory.settle(ref, s, unit);
}
