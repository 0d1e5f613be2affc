/**
 * The one way a claim is settled in the database, shared by the station's direct writes and
 * its outbox: only while the row is in flight for that unit attempt (a claim taken over by a
 * moved chip's settlement or an audited release is never overwritten). Final states keep who
 * spent the BPP; "failed before secure channel" gives it back (claim cleared).
 */
import { BppState } from '../station/store/bpp-store.ts';
import type { BppRef } from '../station/inventory/inventory.ts';

export interface Queryable {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rowCount: number | null }>;
}

/** True when this unit held the claim and the row changed. */
export async function settleClaim(q: Queryable, ref: BppRef, unit: string, state: BppState): Promise<boolean> {
  const back = state === BppState.failedBeforeSecureChannel || state === BppState.available;
  // Named: each connection parses and plans it once (one settlement per unit, on every station).
  const r = await q.query({
    name: back ? 'ifpp-settle-back' : 'ifpp-settle',
    text: `UPDATE ifpp.bpps SET state = $4, lease_until = NULL, updated_at = now()${back ? ', claim_station = NULL, claim_unit = NULL, claimed_at = NULL' : ''}
      WHERE batch_id = $1 AND position = $2 AND state = 1 AND claim_unit = $3`,
    values: [ref.batchId, ref.position, unit, state],
  });
  return (r.rowCount ?? 0) > 0;
}

/**
 * A verified PIR read back from the chip proves the attempt `unit` installed this BPP: installed,
 * from in flight or from the failed-key-burnt a restart left it in (BF23 sent, no result), only
 * while that attempt still holds it. True when the row changed.
 */
export async function settleRecoveredClaim(q: Queryable, ref: BppRef, unit: string): Promise<boolean> {
  const r = await q.query({
    name: 'ifpp-settle-recovered',
    text: `UPDATE ifpp.bpps SET state = ${BppState.installed}, lease_until = NULL, updated_at = now()
      WHERE batch_id = $1 AND position = $2 AND state IN (${BppState.inFlight}, ${BppState.failedKeyBurnt}) AND claim_unit = $3`,
    values: [ref.batchId, ref.position, unit],
  });
  return (r.rowCount ?? 0) > 0;
}
