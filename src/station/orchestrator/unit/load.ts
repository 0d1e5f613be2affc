/**
 * Stage load: PrepareFactoryLoad with the chosen key and CERT.DPpb, then the BPP call by call.
 * bf23.sending is journaled (and the in-flight state on disk) before BF23 goes out: from there
 * the key may be consumed and this BPP is never pushed again.
 */
import type { Pir } from '../../../core/rsp/pir.ts';
import { BppState } from '../../store/bpp-store.ts';
import type { Attempt, UnitRun } from './context.ts';
import type { Chosen } from './choose.ts';
import { UnitFailure, checkAbort, codeOf, messageOf } from './failure.ts';
import type { Identified } from './identify.ts';

export async function load(run: UnitRun, attempt: Attempt, id: Identified, chosen: Chosen): Promise<Pir> {
  const { inventory, journal, bus, signal } = run.deps;
  const { fpa } = id;
  const bppRef = chosen.bpp;
  const certDpPb = new Uint8Array(Buffer.from(inventory.manifest(bppRef.batchId).certDpPb, 'base64'));
  const prep = await fpa.prepareFactoryLoad({ euiccOtpk: bppRef.otpk, dpPbCertificate: certDpPb }).catch((e: unknown) => {
    throw new UnitFailure('failed-before-secure-channel', 'prepare', codeOf(e, 'PREPARE_FAILED'), `PrepareFactoryLoad: ${messageOf(e)}`, 'same-bpp', { cause: e });
  });
  if (prep !== 'ok') {
    // keyAlreadyUsed: the chip says this key is spent, so this BPP can never load.
    if (prep === 'keyAlreadyUsed') await inventory.settle(bppRef, BppState.failedKeyBurnt, attempt.id);
    const hint = prep === 'invalidCertificate' ? { hint: 'the chip does not trust this SM-DPf certificate: wrong batch for this chip lot' } : {};
    throw new UnitFailure('failed-before-secure-channel', 'prepare', `PREPARE_${String(prep).toUpperCase()}`, `chip refused PrepareFactoryLoad: ${prep}`, prep === 'keyAlreadyUsed' ? 'next-bpp' : 'none', hint);
  }

  checkAbort(signal, 'load');
  run.emitState('loading');
  const bpp = await inventory.readBpp(bppRef);
  try {
    const outcome = await fpa.loadBpp(bpp, {
      signal,
      beforeSecureChannel: async () => {
        checkAbort(signal, 'load');
        await chosen.inFlightDurable;
        await journal.append('bf23.sending', { unit: attempt.id, batchId: bppRef.batchId, position: bppRef.position, transactionId: chosen.txId });
        attempt.bf23Sent = true;
      },
      onProgress: (p) =>
        bus.emit({ type: 'slot.progress', t: run.now(), slot: run.slot.id, bytesSent: p.bytesSent, bytesTotal: p.bytesTotal, segmentsSent: p.callsSent, segmentsTotal: p.callsTotal }),
    });
    return outcome.pir;
  } catch (e) {
    if (e instanceof UnitFailure) throw e;
    if (!attempt.bf23Sent) throw new UnitFailure('failed-before-secure-channel', 'load', codeOf(e, 'LOAD_FAILED'), `load failed before the secure channel: ${messageOf(e)}`, 'same-bpp', { cause: e });
    // After BF23 without a result: the key is most likely consumed; never push this BPP again.
    await inventory.settle(bppRef, BppState.failedKeyBurnt, attempt.id);
    throw new UnitFailure(signal.aborted ? 'interrupted' : 'failed-key-burnt', 'load', codeOf(e, 'LOAD_FAILED'), `load failed after the secure channel opened: ${messageOf(e)}`, 'next-bpp', { cause: e });
  }
}
