/**
 * A chip holds the profile of one of our BPPs that the inventory does not have installed: an
 * attempt this unit's station does not journal (another station's, on a line: killed after
 * BF23 before its result was journaled, and the chip then moved here) left the row in flight,
 * or retired as failed-key-burnt by that station's restart. The chip's notification list may
 * still hold the signed result: read back and verified exactly like a live PIR (CERT.EUICC, the
 * BPP's transactionId), it is journaled here first (unit.recovered, naming that attempt), then
 * settles the row installed in the shared inventory, so the line's Profile Loading Report has
 * the unit; only then is the chip finished as the config asks. Nothing signed left (the
 * notification was removed): nothing changes (docs/operator-guide.md, "After a crash").
 */
import { isIfppError } from '../../../core/errors.ts';
import { toHex } from '../../../core/bytes.ts';
import type { FpaClient } from '../../fpa/fpa-client.ts';
import type { InventoryBpp } from '../../inventory/inventory.ts';
import { finishSettled } from '../finish-settled.ts';
import { provesInstall, recoverPir, recoveredPirFields } from '../recover-pir.ts';
import type { UnitRun } from './context.ts';

/** The BPP whose profile the chip may hold, and the attempt that holds or spent it. */
export type HeldBpp = Pick<InventoryBpp, 'batchId' | 'position' | 'transactionId' | 'claimUnit' | 'claimStation'>;

/** What was recovered, in a few words for the unit's reason; undefined when nothing was. */
export async function recoverHeld(run: UnitRun, fpa: FpaClient, eid: string, b: HeldBpp): Promise<string | undefined> {
  const { journal, inventory, bus, trust, policy } = run.deps;
  // Only the line's database names the attempt; a single station's own journal settles its units (chip-seen-again.ts).
  const unit = b.claimUnit;
  // This unit's own earlier attempt ended with its own record (unit.end).
  if (!unit || unit === run.unit || unit.startsWith(`${run.unit}#`)) return undefined;
  const warn = (message: string) => bus.emit({ type: 'station.warning', t: run.now(), code: 'PIR_RECOVERED', message: `${run.slot.id}: ${message}` });
  let recovered;
  try {
    recovered = await recoverPir(fpa, b.transactionId, trust.certificateFor(eid));
  } catch (e) {
    if (!isIfppError(e)) throw e;
    warn(`chip ${eid} holds the profile of BPP ${b.batchId}#${b.position}, but its signed result could not be read or checked: ${e.message}`);
    return undefined;
  }
  if (!recovered) return undefined;
  const installed = provesInstall(recovered);
  const how = installed
    ? `signed result recovered from the chip's notification list (#${recovered.seqNumber}) and verified`
    : `the chip's signed result (notification #${recovered.seqNumber}) ${recovered.verdict.ok ? 'reports an error' : `does not verify (${recovered.verdict.code})`}`;
  await journal.append('unit.recovered', {
    unit,
    ...(b.claimStation ? { station: b.claimStation } : {}),
    slot: run.slot.id,
    eid,
    batchId: b.batchId,
    position: b.position,
    transactionId: toHex(b.transactionId),
    outcome: installed ? 'installed' : 'failed-key-burnt',
    how,
    ...recoveredPirFields(recovered),
  });
  if (!installed) return undefined;
  await inventory.settleRecovered(b, unit, run.unit);
  const finished = await finishSettled(fpa, policy.endOfProduction, journal, { unit, slot: run.slot.id, eid }, bus);
  warn(`chip ${eid}: attempt ${unit.slice(0, 8)} of station ${b.claimStation ?? '?'} settled installed from the chip's signed result${finished === true ? '; chip finished' : ''}`);
  return `its attempt at station ${b.claimStation ?? '?'} is settled installed from the chip's signed result`;
}
