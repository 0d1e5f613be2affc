/**
 * Stage choose: a BPP bound to this EID and to one of its unused keys, from a batch the chip
 * trusts when there is one, claimed from the inventory; journaled (bpp.chosen) before anything
 * is sent, then in flight. On a line (docs/line-guide.md) the claim is committed in the
 * database before bpp.chosen, and a chip with another station's attempt still unsettled gets
 * no new BPP until this station has settled that attempt from the chip's own key state.
 */
import { toHex } from '../../../core/bytes.ts';
import { isIfppError } from '../../../core/errors.ts';
import { eidToBytes } from '../../../core/rsp/eid.ts';
import { iccidFromBytes } from '../../../core/rsp/iccid.ts';
import type { Certificate } from '../../../core/x509/certificate.ts';
import type { InventoryBpp, UnsettledAttempt } from '../../inventory/inventory.ts';
import { handled, type Attempt, type UnitRun } from './context.ts';
import { UnitFailure, checkAbort, codeOf, foreignChip, messageOf } from './failure.ts';
import type { Identified } from './identify.ts';
import { ALREADY_PROVISIONED_CODE } from './already-provisioned.ts';
import { recoverHeld } from './recover-held.ts';

export interface Chosen {
  bpp: InventoryBpp;
  /** Its transactionId, hex. */
  txId: string;
  iccid: string | undefined;
  certEuicc: Certificate;
  /** The inventory's in-flight state made durable; awaited before BF23. */
  inFlightDurable: Promise<unknown>;
}

export async function choose(run: UnitRun, attempt: Attempt, id: Identified): Promise<Chosen> {
  const { inventory, journal, bus, policy } = run.deps;
  const { eid, unused } = id;
  const skipForeign = policy.unknownEid === 'skip';
  checkAbort(run.deps.signal, 'choose');
  const checked = await id.certCheck;
  if (!checked.ok) {
    const e = checked.error;
    // Foreign only when nothing in the store is for it either: a chip with BPPs but no eUICC
    // data is ours with its EUM data missing, and must not be skipped quietly.
    if (skipForeign && codeOf(e, '') === 'EUICC_UNKNOWN' && (await inventory.findByEid(eidToBytes(eid))).length === 0) throw foreignChip(eid, 'no-euicc-data');
    throw new UnitFailure('no-bpp', 'choose', codeOf(e, 'EUICC_UNKNOWN'), messageOf(e), 'none', { cause: e, ...(isIfppError(e) && e.hint ? { hint: e.hint } : {}) });
  }
  const request = { eid: eidToBytes(eid), unusedOtpks: unused, unit: attempt.id, excluded: run.excluded, trustedCis: run.trustedCis ?? [] };
  let claim = await inventory.claim(request);
  if (claim.kind === 'unsettled') {
    // Settled here, from the chip in this socket; an attempt that installed the profile ends the unit.
    for (const a of claim.attempts) await settleMoved(run, attempt, id, a);
    claim = await inventory.claim(request);
  }
  if (claim.kind === 'unavailable') {
    throw new UnitFailure('no-bpp', 'choose', 'INVENTORY_UNAVAILABLE', `no BPP can be claimed for chip ${eid} now: ${claim.reason}`, 'none', {
      hint: 'the line database is unreachable and this chip is not assigned to this station: set it aside or wait for the database',
    });
  }
  if (claim.kind === 'unsettled') {
    throw new UnitFailure('no-bpp', 'choose', 'CHIP_UNSETTLED', `chip ${eid} has an attempt still unsettled at station ${claim.attempts[0]?.station ?? '?'}`, 'none', {
      hint: 'retry the chip; if it stays so, run ifpp line status and settle that attempt at its station',
    });
  }
  if (claim.kind === 'none') {
    const all = await inventory.findByEid(eidToBytes(eid));
    if (skipForeign && all.length === 0) throw foreignChip(eid, 'no-bpp');
    const why =
      unused.length === 0
        ? `chip ${eid} has no unused one-time key left`
        : all.length === 0
          ? `no BPP in the store is bound to chip ${eid}`
          : `no loadable BPP left for chip ${eid} (${all.length} bound to it, none to an unused key in a loadable state)`;
    throw new UnitFailure('no-bpp', 'choose', 'NO_BPP', why, 'none', { hint: 'set the unit aside and report it; import a batch with BPPs for this chip' });
  }
  const chosen = claim.bpp;
  attempt.chosen = chosen;
  run.excluded.add(`${chosen.batchId}/${chosen.position}`);
  const txId = toHex(chosen.transactionId);
  const iccid = (run.iccid = chosen.iccid[0] === 0xff ? undefined : iccidFromBytes(chosen.iccid));
  await Promise.all(attempt.unsynced.splice(0));
  await journal.append('bpp.chosen', {
    unit: attempt.id,
    slot: run.slot.id,
    eid,
    batchId: chosen.batchId,
    position: chosen.position,
    transactionId: txId,
    otpk: toHex(chosen.otpk),
    ...(iccid ? { iccid } : {}),
  });
  // In flight once bpp.chosen is on disk; its own sync overlaps PrepareFactoryLoad and is
  // awaited before BF23.
  const inFlightDurable = handled(inventory.inFlight(chosen, attempt.id));
  bus.emit({ type: 'slot.bpp-chosen', t: run.now(), slot: run.slot.id, eid, batchId: chosen.batchId, transactionId: txId, ...(iccid ? { iccid } : {}), attempt: attempt.number });
  return { bpp: chosen, txId, iccid, certEuicc: checked.value, inFlightDurable };
}

/**
 * Another station's attempt on this chip is unsettled (the chip was moved mid-attempt): its
 * signed result, when the chip still holds it, settles it installed (recover-held.ts); else the
 * chip says whether BF23 reached it. Key used and the profile listed: it is installed, and this
 * unit loads nothing more. Otherwise that BPP is retired (never loadable again).
 */
async function settleMoved(run: UnitRun, attempt: Attempt, id: Identified, a: UnsettledAttempt): Promise<void> {
  // The chip's signed result first: it proves the install where key state and profile list only suggest it.
  const recovered = await recoverHeld(run, id.fpa, id.eid, { ...a, claimUnit: a.unit, claimStation: a.station });
  if (recovered) {
    throw new UnitFailure('already-provisioned', 'choose', ALREADY_PROVISIONED_CODE, `chip ${id.eid} already holds the profile of BPP ${a.batchId}#${a.position}: ${recovered}; nothing loaded`, 'none', {
      display: 'already done',
      hint: 'nothing to load: the unit is provisioned; the earlier attempt is settled installed from the chip',
    });
  }
  const key = id.keys.find((k) => toHex(k.otpk) === toHex(a.otpk));
  const keyUsed = key === undefined || key.state !== 'unused';
  let profileListed = false;
  const iccid = a.iccid[0] === 0xff ? undefined : iccidFromBytes(a.iccid);
  if (keyUsed && iccid) {
    const list = await id.fpa.listProfiles().catch(() => undefined);
    profileListed = !!list && 'profiles' in list && (list.profiles as readonly { iccid?: string }[]).some((p) => p.iccid === iccid);
  }
  const became = await run.deps.inventory.settleMoved(a, { keyUsed, profileListed }, attempt.id);
  run.deps.bus.emit({
    type: 'station.warning',
    t: run.now(),
    code: 'MOVED_CHIP_SETTLED',
    message: `${run.slot.id}: chip ${id.eid} had an unsettled attempt at station ${a.station ?? '?'}; read from the chip: key ${keyUsed ? 'used' : 'unused'}${profileListed ? ', profile installed' : ''} -> ${became}`,
  });
  if (became === 'installed') {
    throw new UnitFailure('no-bpp', 'choose', 'ALREADY_PROVISIONED', `chip ${id.eid} already holds the profile its earlier attempt at station ${a.station ?? '?'} loaded`, 'none', {
      hint: 'nothing to load: the unit is provisioned; the earlier station reports it',
    });
  }
}
