/**
 * Stage identify (read-only): ISD-R, EID, the CI keys the chip trusts, its factory info (FPA
 * services, one-time keys). CERT.EUICC is checked meanwhile, while the card works.
 */
import type { FactoryInfo } from '../../../core/rsp/factory.ts';
import type { Certificate } from '../../../core/x509/certificate.ts';
import { FpaClient } from '../../fpa/fpa-client.ts';
import { handled, type Attempt, type UnitRun } from './context.ts';
import { UnitFailure, codeOf, messageOf } from './failure.ts';
import { refuseIfAlreadyProvisioned } from './already-provisioned.ts';
import { onItsOwnTurn, type Settled } from './cpu-turns.ts';

export interface Identified {
  fpa: FpaClient;
  eid: string;
  /** The chip's unused one-time public keys. */
  unused: Uint8Array[];
  /** Every one-time key with its state (to settle an attempt another station left on this chip). */
  keys: FactoryInfo['oneTimeKeys'];
  /** CERT.EUICC for this EID, checked against the imported eUICC data; never rejects. */
  certCheck: Promise<Settled<Certificate>>;
}

export async function identify(run: UnitRun, attempt: Attempt): Promise<Identified> {
  const { policy, journal, bus, trust } = run.deps;
  const fpa = new FpaClient(run.slot.apdu, {
    ...(policy.dialect ? { dialect: policy.dialect } : {}),
    blockSize: policy.blockSize,
    useLogicalChannel: policy.useLogicalChannel,
  });
  let keys;
  let eid: string;
  let certCheck: Promise<Settled<Certificate>>;
  try {
    await fpa.selectIsdR();
    eid = run.eid = await fpa.getEid(policy.verifyEidCheckDigits !== false);
    // A unit an earlier stop left unknown on this chip is settled first (its PIR recovered).
    await run.deps.seen?.(eid, fpa);
    const known = eid;
    certCheck = onItsOwnTurn(() => trust.certificateFor(known));
    await refuseIfAlreadyProvisioned(run, fpa, eid);
    // EUICCInfo2 once per unit: which CI keys the chip trusts, to prefer batches it accepts.
    if (run.trustedCis === undefined) run.trustedCis = (await fpa.getEuiccInfo2()).euiccCiPKIdListForVerification;
    keys = await fpa.getFactoryInfo();
  } catch (e) {
    if (e instanceof UnitFailure) throw e;
    throw new UnitFailure(run.eid ? 'failed-before-secure-channel' : 'unreachable', 'identify', codeOf(e, 'IDENTIFY_FAILED'), `cannot identify the chip: ${messageOf(e)}`, run.eid ? 'same-bpp' : 'none', {
      cause: e,
    });
  }
  if (keys.fpaServices !== 'open') {
    throw new UnitFailure('no-bpp', 'identify', 'FPA_CLOSED', `chip ${eid} has closed its factory services`, 'none', {
      hint: 'this unit was already finished in production; take it off the line',
    });
  }
  const unused = keys.oneTimeKeys.filter((k) => k.state === 'unused').map((k) => k.otpk);
  attempt.unsynced.push(handled(journal.append('unit.identified', { unit: attempt.id, slot: run.slot.id, eid, unusedKeys: unused.length }, { sync: false })));
  bus.emit({ type: 'slot.identified', t: run.now(), slot: run.slot.id, eid, unusedKeys: unused.length });
  run.emitState('identified');
  return { fpa, eid, unused, keys: keys.oneTimeKeys, certCheck };
}
