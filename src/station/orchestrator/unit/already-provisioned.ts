/**
 * Is this chip already done? A chip that comes back (a used reel fed again, a unit re-run)
 * must not get a second profile and burn a spare BPP. Two witnesses, cheapest first:
 *   - the inventory (local store, or the line's database shared by every station): one of the
 *     BPPs bound to this EID is installed;
 *   - the chip itself (GetProfilesInfo): it lists the ICCID of one of the BPPs bound to it, even
 *     when this store never saw that load (another line, a restored store).
 * A chip with no BPP of ours bound to it cannot hold one of our profiles: it is not asked.
 * A held profile whose BPP is not installed in the inventory (another station's attempt, killed
 * after BF23) is first settled from the chip's signed result (recover-held.ts).
 */
import { eidToBytes } from '../../../core/rsp/eid.ts';
import { iccidFromBytes } from '../../../core/rsp/iccid.ts';
import type { FpaClient } from '../../fpa/fpa-client.ts';
import { BppState } from '../../store/bpp-store.ts';
import type { UnitRun } from './context.ts';
import { UnitFailure } from './failure.ts';
import { recoverHeld } from './recover-held.ts';

export const ALREADY_PROVISIONED_CODE = 'ALREADY_PROVISIONED';

function iccidOf(b: { iccid: Uint8Array }): string | undefined {
  if (b.iccid[0] === 0xff) return undefined;
  try {
    return iccidFromBytes(b.iccid);
  } catch {
    return undefined;
  }
}

/** Throws the already-provisioned ending when the chip holds a profile of ours; otherwise returns. */
export async function refuseIfAlreadyProvisioned(run: UnitRun, fpa: FpaClient, eid: string): Promise<void> {
  if (run.deps.policy.alreadyProvisioned === 'load') return;
  let bound;
  try {
    bound = await run.deps.inventory.findByEid(eidToBytes(eid));
  } catch {
    // The line's database is unreachable: the claim decides (offline assignments keep loading,
    // the others wait with INVENTORY_UNAVAILABLE), as it did before this check existed.
    return;
  }
  if (bound.length === 0) return;
  const installed = bound.find((b) => b.state === BppState.installed);
  if (installed) {
    const iccid = iccidOf(installed);
    throw done(eid, `the inventory has BPP ${installed.batchId}#${installed.position}${iccid ? ` (ICCID ${iccid})` : ''} installed on it`, iccid);
  }
  const ours = new Map(bound.flatMap((b) => (iccidOf(b) ? [[iccidOf(b)!, b] as const] : [])));
  const list = await fpa.listProfiles();
  if (!list.ok) return; // the chip would not list its profiles: the load decides (and is journaled)
  const held = list.profiles.find((p) => p.iccid !== undefined && ours.has(p.iccid));
  if (held) {
    const b = ours.get(held.iccid!)!;
    // Another attempt left its row unsettled (a station killed after BF23): the chip's signed result settles it.
    const recovered = await recoverHeld(run, fpa, eid, b);
    throw done(eid, `the chip holds ICCID ${held.iccid} of BPP ${b.batchId}#${b.position}${recovered ? `; ${recovered}` : ''}`, held.iccid);
  }
}

function done(eid: string, why: string, iccid: string | undefined): UnitFailure {
  return new UnitFailure('already-provisioned', 'identify', ALREADY_PROVISIONED_CODE, `chip ${eid} is already provisioned: ${why}; nothing loaded`, 'none', {
    display: `already done${iccid ? `: ICCID ${iccid}` : ''}`,
    hint: 'eidPolicy.alreadyProvisioned "load" loads another profile anyway',
  });
}
