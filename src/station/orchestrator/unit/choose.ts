/**
 * Stage choose: a BPP bound to this EID and to one of its unused keys, from a batch the chip
 * trusts when there is one; journaled (bpp.chosen) before anything is sent, then in flight.
 */
import { toHex } from '../../../core/bytes.ts';
import { isIfppError } from '../../../core/errors.ts';
import { eidToBytes } from '../../../core/rsp/eid.ts';
import { iccidFromBytes } from '../../../core/rsp/iccid.ts';
import type { Certificate } from '../../../core/x509/certificate.ts';
import { chipTrustsBatch } from '../../store/batch-trust.ts';
import { BppState, type BppStore, type StoredBpp } from '../../store/bpp-store.ts';
import { handled, type Attempt, type UnitRun } from './context.ts';
import { UnitFailure, checkAbort, codeOf, foreignChip, messageOf } from './failure.ts';
import type { Identified } from './identify.ts';

export interface Chosen {
  bpp: StoredBpp;
  /** Its transactionId, hex. */
  txId: string;
  iccid: string | undefined;
  certEuicc: Certificate;
  /** The store's in-flight state on disk; awaited before BF23. */
  inFlightDurable: Promise<unknown>;
}

export async function choose(run: UnitRun, attempt: Attempt, id: Identified): Promise<Chosen> {
  const { store, journal, bus, policy } = run.deps;
  const { eid, unused } = id;
  const skipForeign = policy.unknownEid === 'skip';
  checkAbort(run.deps.signal, 'choose');
  const checked = await id.certCheck;
  if (!checked.ok) {
    const e = checked.error;
    // Foreign only when nothing in the store is for it either: a chip with BPPs but no eUICC
    // data is ours with its EUM data missing, and must not be skipped quietly.
    if (skipForeign && codeOf(e, '') === 'EUICC_UNKNOWN' && store.findByEid(eidToBytes(eid)).length === 0) throw foreignChip(eid, 'no-euicc-data');
    throw new UnitFailure('no-bpp', 'choose', codeOf(e, 'EUICC_UNKNOWN'), messageOf(e), 'none', { cause: e, ...(isIfppError(e) && e.hint ? { hint: e.hint } : {}) });
  }
  const chosen = pick(store, eid, unused, run.excluded, run.trustedCis ?? []);
  if (!chosen) {
    const all = store.findByEid(eidToBytes(eid));
    if (skipForeign && all.length === 0) throw foreignChip(eid, 'no-bpp');
    const why =
      unused.length === 0
        ? `chip ${eid} has no unused one-time key left`
        : all.length === 0
          ? `no BPP in the store is bound to chip ${eid}`
          : `no loadable BPP left for chip ${eid} (${all.length} bound to it, none to an unused key in a loadable state)`;
    throw new UnitFailure('no-bpp', 'choose', 'NO_BPP', why, 'none', { hint: 'set the unit aside and report it; import a batch with BPPs for this chip' });
  }
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
  const inFlightDurable = handled(store.setStateDurable(chosen, BppState.inFlight));
  bus.emit({ type: 'slot.bpp-chosen', t: run.now(), slot: run.slot.id, eid, batchId: chosen.batchId, transactionId: txId, ...(iccid ? { iccid } : {}), attempt: attempt.number });
  return { bpp: chosen, txId, iccid, certEuicc: checked.value, inFlightDurable };
}

function pick(store: BppStore, eid: string, unused: readonly Uint8Array[], excluded: Set<string>, trustedCis: readonly Uint8Array[]): StoredBpp | undefined {
  const loadable = store.loadable(eidToBytes(eid), unused).filter((b) => !excluded.has(`${b.batchId}/${b.position}`));
  // Prefer a batch whose CI the chip lists in EUICCInfo2; if none is listed, let the chip decide
  // (PrepareFactoryLoad refuses an untrusted CERT.DPpb before any key is touched).
  return loadable.find((c) => chipTrustsBatch(store, c.batchId, trustedCis)) ?? loadable[0];
}
