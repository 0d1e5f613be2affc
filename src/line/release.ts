/**
 * `ifpp line release`: the audited manual way out of "in flight" for a BPP whose station will
 * not settle it (docs/line-guide.md, "Leases"). An expired lease never releases anything.
 */
import { BppState } from '../station/store/bpp-store.ts';
import { dbError, inTransaction, type Db } from './db.ts';
import { LineError } from './errors.ts';

export interface BppRef {
  batchId: string;
  position: number;
}

/** "BATCH#POSITION" as `line status` prints it. */
export function parseBppRef(text: string): BppRef {
  const m = /^(.+)#(\d+)$/.exec(text);
  if (!m) throw new LineError('LINE_BAD_BPP_REF', `"${text}" does not name a BPP`, { hint: 'give BATCH#POSITION as ifpp line status lists it' });
  return { batchId: m[1]!, position: Number(m[2]) };
}

export interface ReleaseResult extends BppRef {
  previous: { station: string | null; unit: string | null; claimedAt: string | null; leaseUntil: string | null };
  state: BppState;
}

export async function releaseBpp(db: Db, url: string, ref: BppRef, o: { reason: string; actor: string; retire: boolean }): Promise<ReleaseResult> {
  if (o.reason.trim().length < 3) throw new LineError('LINE_RELEASE_NO_REASON', 'a release needs a reason (--reason TEXT)', { hint: 'say why the BPP cannot have been pushed, e.g. "station 3 disk lost; chip checked on bench"' });
  try {
    return await inTransaction(db, async (c) => {
      const r = await c.query<{ state: number; claim_station: string | null; claim_unit: string | null; claimed_at: Date | null; lease_until: Date | null }>(
        'SELECT state, claim_station, claim_unit, claimed_at, lease_until FROM ifpp.bpps WHERE batch_id = $1 AND position = $2 FOR UPDATE',
        [ref.batchId, ref.position],
      );
      const row = r.rows[0];
      if (!row) throw new LineError('LINE_UNKNOWN_BPP', `BPP ${ref.batchId}#${ref.position} is not in the line inventory`, { hint: 'check the batch id and position (ifpp line status --json lists in-flight BPPs)' });
      if (row.state !== BppState.inFlight) {
        throw new LineError('LINE_NOT_IN_FLIGHT', `BPP ${ref.batchId}#${ref.position} is not in flight (its state is ${row.state}); only an in-flight BPP can be released`, { hint: 'nothing to do' });
      }
      const state = o.retire ? BppState.failedKeyBurnt : BppState.failedBeforeSecureChannel;
      await c.query(
        `UPDATE ifpp.bpps SET state = $3, claim_station = NULL, claim_unit = NULL, claimed_at = NULL, lease_until = NULL, updated_at = now()
          WHERE batch_id = $1 AND position = $2`,
        [ref.batchId, ref.position, state],
      );
      const previous = {
        station: row.claim_station,
        unit: row.claim_unit,
        claimedAt: row.claimed_at?.toISOString() ?? null,
        leaseUntil: row.lease_until?.toISOString() ?? null,
      };
      await c.query('INSERT INTO ifpp.audit (actor, action, batch_id, position, detail) VALUES ($1, $2, $3, $4, $5)', [
        o.actor,
        o.retire ? 'release-retire' : 'release',
        ref.batchId,
        ref.position,
        JSON.stringify({ reason: o.reason, previous, newState: state }),
      ]);
      return { ...ref, previous, state };
    });
  } catch (e) {
    throw dbError(e, url);
  }
}
