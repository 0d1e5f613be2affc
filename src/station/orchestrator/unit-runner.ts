/**
 * One unit on one slot, from power-on to a settled outcome: activate, identify (EID, one-time
 * keys), choose a BPP bound to this EID and an unused key, PrepareFactoryLoad, push the BPP,
 * verify the signed result, and journal every irreversible step before it happens.
 *
 * Retry policy: a load that failed after the secure channel opened burnt its key, so the
 * next attempt takes another BPP bound to another unused key of the same chip; a transport
 * fault before BF23 retries the same BPP after a fresh activation. At most
 * `maxAttemptsPerChip` attempts; a chip with no loadable BPP is reported, not retried.
 *
 * A foreign chip (see `foreignChip`) under eidPolicy.unknownEid "skip" ends as `skipped` right
 * after the read-only identification: nothing else is sent to it and no BPP changes state.
 */
import { randomUUID } from 'node:crypto';
import { toHex } from '../../core/bytes.ts';
import { IfppError, isIfppError } from '../../core/errors.ts';
import { eidToBytes } from '../../core/rsp/eid.ts';
import { iccidFromBytes } from '../../core/rsp/iccid.ts';
import type { Certificate } from '../../core/x509/certificate.ts';
import { BppCommandId, ErrorReason } from '../../core/rsp/pir.ts';
import type { EventBus, SlotState, UnitOutcome } from '../events.ts';
import { FpaClient } from '../fpa/fpa-client.ts';
import type { UnknownEidAction } from '../config/schema.ts';
import type { EuiccDialect } from '../fpa/dialect.ts';
import { verifyPir } from '../fpa/verify-pir.ts';
import type { Journal } from '../journal/journal.ts';
import type { UnitOutcomeCode, UnitStage } from '../journal/records.ts';
import { BppState, type BppStore, type StoredBpp } from '../store/bpp-store.ts';
import { chipTrustsBatch } from '../store/batch-trust.ts';
import type { CardSlot } from './card-slot.ts';
import type { EuiccTrust } from './euicc-trust.ts';

export interface UnitPolicy {
  dialect?: EuiccDialect;
  blockSize: number;
  useLogicalChannel: boolean;
  maxAttemptsPerChip: number;
  verifyProfileListed: boolean;
  /** eidPolicy.verifyCheckDigits: refuse an EID whose mod-97 check digits are wrong. Default true. */
  verifyEidCheckDigits?: boolean;
  /**
   * eidPolicy.unknownEid: what to do with a chip that is not for this station (no BPP in the
   * store is bound to its EID). "fail" (default) fails the unit; "skip" leaves the chip
   * untouched and ends the unit as `skipped`.
   */
  unknownEid?: UnknownEidAction;
  /** Delete unused one-time keys and close FPA services after a successful load. */
  endOfProduction?: { deleteUnusedKeys: boolean; closeFpaServices: boolean };
}

export interface UnitDeps {
  store: BppStore;
  trust: EuiccTrust;
  journal: Journal;
  bus: EventBus;
  policy: UnitPolicy;
  /** Aborts every unit at once (e-stop, guard, operator abort). */
  signal: AbortSignal;
  now?: () => number;
}

export interface UnitResult {
  unit: string;
  slot: string;
  eid?: string;
  iccid?: string;
  outcome: UnitOutcomeCode;
  code?: string;
  reason?: string;
  attempts: number;
  millis: number;
}

class UnitFailure extends IfppError {
  constructor(
    readonly outcome: UnitOutcomeCode,
    readonly stage: UnitStage,
    code: string,
    message: string,
    readonly retry: 'none' | 'same-bpp' | 'next-bpp' = 'none',
    opts: { hint?: string; cause?: unknown; display?: string } = {},
  ) {
    super(code, message, opts);
    this.display = opts.display;
  }

  /** A shorter reason for the slot's cell, when the message is too long for it. */
  readonly display: string | undefined;
}

/** The code of a unit ended as `skipped` (journal unit.end, slot.result). */
export const FOREIGN_CHIP_CODE = 'EID_NOT_FOR_THIS_STATION';

/**
 * A chip that is not for this station, under eidPolicy.unknownEid "skip": after the read-only
 * identification, the store holds no BPP bound to its EID at all (whether or not its EID is in
 * the imported eUICC data). A chip with BPPs but no eUICC data (EUM data not imported), with
 * BPPs none of which is loadable, a CERT.EUICC that does not verify, closed FPA services or bad
 * check digits are failures under either policy.
 */
function foreignChip(eid: string, why: 'no-euicc-data' | 'no-bpp'): UnitFailure {
  const [long, short] =
    why === 'no-euicc-data'
      ? [`no BPP in the store is bound to EID ${eid}, nor is it in any imported eUICC data`, 'no BPP for this EID']
      : [`no BPP in the store is bound to EID ${eid}`, 'no BPP for this EID'];
  return new UnitFailure('skipped', 'choose', FOREIGN_CHIP_CODE, `not for this station (skipped, left untouched): ${long}`, 'none', {
    display: `not for this station: ${short}`,
  });
}

const OUTCOME_EVENT: Record<UnitOutcomeCode, UnitOutcome> = {
  installed: 'installed',
  'failed-key-burnt': 'failed-key-burnt',
  'failed-before-secure-channel': 'failed-before-secure-channel',
  'no-bpp': 'no-bpp',
  unreachable: 'unreachable',
  interrupted: 'interrupted',
  unknown: 'unknown',
  skipped: 'skipped',
};

export async function runUnit(slot: CardSlot, deps: UnitDeps): Promise<UnitResult> {
  const now = deps.now ?? Date.now;
  const t0 = now();
  const unit = randomUUID();
  const { bus, journal, store, policy } = deps;
  const skipForeign = policy.unknownEid === 'skip';
  const emitState = (state: SlotState, reason?: string, code?: string) =>
    bus.emit({ type: 'slot.state', t: now(), slot: slot.id, state, ...(reason ? { reason } : {}), ...(code ? { code } : {}) });

  let eid: string | undefined;
  let iccid: string | undefined;
  let attempt = 0;
  let last: UnitFailure | undefined;
  const excluded = new Set<string>(); // BPPs this unit must not take again
  let trustedCis: readonly Uint8Array[] | undefined;

  while (attempt < Math.max(1, policy.maxAttemptsPerChip)) {
    attempt++;
    let chosen: StoredBpp | undefined;
    let bf23Sent = false;
    const unitAttempt = attempt === 1 ? unit : `${unit}#${attempt}`;
    // unit.start and unit.identified record nothing irreversible: they go to disk with the next
    // record the unit waits for (the journal keeps order), not at the cost of a sync wait each.
    const unsynced: Promise<unknown>[] = [handled(journal.append('unit.start', { unit: unitAttempt, slot: slot.id, attempt }))];
    try {
      checkAbort(deps.signal, 'activate');
      emitState('powered');
      let activated;
      try {
        activated = await slot.activate();
      } catch (e) {
        throw new UnitFailure('unreachable', 'activate', codeOf(e, 'CARD_NO_ATR'), `no answer to reset: ${messageOf(e)}`, 'none', {
          hint: 'check the unit is seated and its eUICC supply; re-seat and retry',
          cause: e,
        });
      }
      emitState('atr', `Fi/Di ${activated.fi}/${activated.di}`);

      const fpa = new FpaClient(slot.apdu, {
        ...(policy.dialect ? { dialect: policy.dialect } : {}),
        blockSize: policy.blockSize,
        useLogicalChannel: policy.useLogicalChannel,
      });
      let keys;
      let certCheck: Promise<Settled<Certificate>> | undefined;
      try {
        await fpa.selectIsdR();
        eid = await fpa.getEid(policy.verifyEidCheckDigits !== false);
        const known = eid;
        certCheck = whileCardWorks(() => deps.trust.certificateFor(known));
        // EUICCInfo2 once per unit: which CI keys the chip trusts, to prefer batches it accepts.
        if (trustedCis === undefined) trustedCis = (await fpa.getEuiccInfo2()).euiccCiPKIdListForVerification;
        keys = await fpa.getFactoryInfo();
      } catch (e) {
        throw new UnitFailure(eid ? 'failed-before-secure-channel' : 'unreachable', 'identify', codeOf(e, 'IDENTIFY_FAILED'), `cannot identify the chip: ${messageOf(e)}`, eid ? 'same-bpp' : 'none', { cause: e });
      }
      if (keys.fpaServices !== 'open') {
        throw new UnitFailure('no-bpp', 'identify', 'FPA_CLOSED', `chip ${eid} has closed its factory services`, 'none', {
          hint: 'this unit was already finished in production; take it off the line',
        });
      }
      const unused = keys.oneTimeKeys.filter((k) => k.state === 'unused').map((k) => k.otpk);
      unsynced.push(handled(journal.append('unit.identified', { unit: unitAttempt, slot: slot.id, eid, unusedKeys: unused.length })));
      bus.emit({ type: 'slot.identified', t: now(), slot: slot.id, eid, unusedKeys: unused.length });
      emitState('identified');

      checkAbort(deps.signal, 'choose');
      const checked = await (certCheck ?? whileCardWorks(() => deps.trust.certificateFor(eid!)));
      if (!checked.ok) {
        const e = checked.error;
        // Foreign only when nothing in the store is for it either: a chip with BPPs but no eUICC
        // data is ours with its EUM data missing, and must not be skipped quietly.
        if (skipForeign && codeOf(e, '') === 'EUICC_UNKNOWN' && store.findByEid(eidToBytes(eid)).length === 0) throw foreignChip(eid, 'no-euicc-data');
        throw new UnitFailure('no-bpp', 'choose', codeOf(e, 'EUICC_UNKNOWN'), messageOf(e), 'none', { cause: e, ...(isIfppError(e) && e.hint ? { hint: e.hint } : {}) });
      }
      const certEuicc = checked.value;
      chosen = pick(store, eid, unused, excluded, trustedCis ?? []);
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
      excluded.add(`${chosen.batchId}/${chosen.position}`);
      const txId = toHex(chosen.transactionId);
      iccid = chosen.iccid[0] === 0xff ? undefined : iccidFromBytes(chosen.iccid);
      await Promise.all(unsynced.splice(0));
      await journal.append('bpp.chosen', {
        unit: unitAttempt,
        slot: slot.id,
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
      bus.emit({ type: 'slot.bpp-chosen', t: now(), slot: slot.id, eid, batchId: chosen.batchId, transactionId: txId, ...(iccid ? { iccid } : {}), attempt });

      const certDpPb = new Uint8Array(Buffer.from(store.manifest(chosen.batchId).certDpPb, 'base64'));
      const prep = await fpa.prepareFactoryLoad({ euiccOtpk: chosen.otpk, dpPbCertificate: certDpPb }).catch((e: unknown) => {
        throw new UnitFailure('failed-before-secure-channel', 'prepare', codeOf(e, 'PREPARE_FAILED'), `PrepareFactoryLoad: ${messageOf(e)}`, 'same-bpp', { cause: e });
      });
      if (prep !== 'ok') {
        // keyAlreadyUsed: the chip says this key is spent, so this BPP can never load.
        if (prep === 'keyAlreadyUsed') await store.setStateDurable(chosen, BppState.failedKeyBurnt);
        const hint = prep === 'invalidCertificate' ? { hint: 'the chip does not trust this SM-DPf certificate: wrong batch for this chip lot' } : {};
        throw new UnitFailure('failed-before-secure-channel', 'prepare', `PREPARE_${String(prep).toUpperCase()}`, `chip refused PrepareFactoryLoad: ${prep}`, prep === 'keyAlreadyUsed' ? 'next-bpp' : 'none', hint);
      }

      checkAbort(deps.signal, 'load');
      emitState('loading');
      const bpp = store.readBpp(chosen);
      let outcome;
      try {
        outcome = await fpa.loadBpp(bpp, {
          signal: deps.signal,
          beforeSecureChannel: async () => {
            checkAbort(deps.signal, 'load');
            await inFlightDurable;
            await journal.append('bf23.sending', { unit: unitAttempt, batchId: chosen!.batchId, position: chosen!.position, transactionId: txId });
            bf23Sent = true;
          },
          onProgress: (p) =>
            bus.emit({ type: 'slot.progress', t: now(), slot: slot.id, bytesSent: p.bytesSent, bytesTotal: p.bytesTotal, segmentsSent: p.callsSent, segmentsTotal: p.callsTotal }),
        });
      } catch (e) {
        if (e instanceof UnitFailure) throw e;
        if (!bf23Sent) throw new UnitFailure('failed-before-secure-channel', 'load', codeOf(e, 'LOAD_FAILED'), `load failed before the secure channel: ${messageOf(e)}`, 'same-bpp', { cause: e });
        // After BF23 without a result: the key is most likely consumed; never push this BPP again.
        await store.setStateDurable(chosen, BppState.failedKeyBurnt);
        throw new UnitFailure(deps.signal.aborted ? 'interrupted' : 'failed-key-burnt', 'load', codeOf(e, 'LOAD_FAILED'), `load failed after the secure channel opened: ${messageOf(e)}`, 'next-bpp', { cause: e });
      }

      emitState('verifying');
      const pir = outcome.pir;
      const verdict = verifyPir(pir, certEuicc, chosen.transactionId);
      const fr = pir.finalResult;
      await journal.append('pir.received', {
        unit: unitAttempt,
        batchId: chosen.batchId,
        position: chosen.position,
        eid,
        transactionId: txId,
        pir: toHex(pir.raw),
        verified: verdict.ok,
        ...(verdict.ok ? {} : { verifyCode: verdict.code }),
        installed: fr.kind === 'success',
        ...(fr.kind === 'error' ? { bppCommandId: BppCommandId.describe(fr.bppCommandId), errorReason: ErrorReason.describe(fr.errorReason) } : {}),
      });
      if (!verdict.ok) {
        await store.setStateDurable(chosen, BppState.failedKeyBurnt);
        throw new UnitFailure('failed-key-burnt', 'verify', verdict.code, verdict.reason, 'none', { hint: 'a result that does not verify cannot be reported as installed; set the unit aside' });
      }
      if (fr.kind === 'error') {
        // Any BF37 means BF23 reached the chip: even an initialiseSecureChannel error spends the BPP.
        await store.setStateDurable(chosen, BppState.failedKeyBurnt);
        throw new UnitFailure(
          'failed-key-burnt',
          'load',
          'PIR_ERROR',
          `chip refused the profile: ${BppCommandId.describe(fr.bppCommandId)} / ${ErrorReason.describe(fr.errorReason)}`,
          retryablePirError(fr.errorReason) ? 'next-bpp' : 'none',
        );
      }
      // Its sync overlaps the post-checks below and is awaited before unit.end.
      const installedDurable = handled(store.setStateDurable(chosen, BppState.installed));

      if (policy.verifyProfileListed && iccid) {
        const list = await fpa.listProfiles().catch(() => undefined);
        const listed = list && 'profiles' in list ? (list.profiles as readonly { iccid?: string }[]).some((p) => p.iccid === iccid) : undefined;
        if (listed === false) bus.emit({ type: 'station.warning', t: now(), code: 'PROFILE_NOT_LISTED', message: `${slot.id}: installed ICCID ${iccid} is not listed by the chip` });
      }
      if (policy.endOfProduction?.deleteUnusedKeys) await fpa.deleteOneTimeKeys().catch(() => undefined);
      if (policy.endOfProduction?.closeFpaServices) await fpa.closeFpaServices().catch(() => undefined);

      await installedDurable;
      const millis = now() - t0;
      await journal.append('unit.end', { unit: unitAttempt, slot: slot.id, eid, batchId: chosen.batchId, position: chosen.position, transactionId: txId, outcome: 'installed', millis });
      emitState('pass', iccid ? `ICCID ${iccid}` : undefined);
      return finish({ unit, slot: slot.id, eid, ...(iccid ? { iccid } : {}), outcome: 'installed', attempts: attempt, millis }, attempt === 1);
    } catch (e) {
      const raw =
        e instanceof UnitFailure
          ? e
          : new UnitFailure(bf23Sent ? 'failed-key-burnt' : 'failed-before-secure-channel', 'load', codeOf(e, 'INTERNAL'), messageOf(e), 'none', { cause: e });
      const f = cardPulled(raw, bf23Sent) ?? raw;
      if (chosen && !bf23Sent && f.outcome !== 'failed-key-burnt') {
        // The key was never touched: the BPP stays loadable (by this chip, later).
        if (store.stateAt(chosen.batchId, chosen.position) === BppState.inFlight) await store.setStateDurable(chosen, BppState.failedBeforeSecureChannel);
      }
      // A retry that finds no spare BPP: the unit's real failure is the burnt key before it.
      const final = f.code === 'NO_BPP' && last && last.outcome === 'failed-key-burnt'
        ? new UnitFailure(last.outcome, last.stage, last.code, `${last.message}; no spare BPP for this chip (${f.message})`, 'none', last.hint ? { hint: last.hint } : {})
        : f;
      last = final;
      await journal.append('unit.end', {
        unit: unitAttempt,
        slot: slot.id,
        ...(eid ? { eid } : {}),
        ...(chosen ? { batchId: chosen.batchId, position: chosen.position, transactionId: toHex(chosen.transactionId) } : {}),
        outcome: final.outcome,
        stage: final.stage,
        code: final.code,
        reason: final.message,
        millis: now() - t0,
      });
      if (deps.signal.aborted || f.outcome === 'interrupted') break;
      if (f.retry === 'none') break;
      if (f.retry === 'same-bpp' && chosen) excluded.delete(`${chosen.batchId}/${chosen.position}`);
      await slot.powerOff().catch(() => undefined);
    }
  }
  const f = last!;
  const outcome: UnitOutcomeCode = deps.signal.aborted ? 'interrupted' : f.outcome;
  if (outcome === 'skipped') {
    // Not a failure: the slot says why in a few words; the journal and the result name the EID.
    emitState('skipped', f.display ?? f.message, f.code);
  } else {
    emitState(outcome === 'interrupted' ? 'interrupted' : 'fail', f.message + (f.hint ? ` — ${f.hint}` : ''), f.code);
  }
  return finish(
    { unit, slot: slot.id, ...(eid ? { eid } : {}), ...(iccid ? { iccid } : {}), outcome, code: f.code, reason: f.message, attempts: attempt, millis: now() - t0 },
    false,
    outcome === 'skipped' ? f.display : undefined,
  );

  function finish(r: UnitResult, passFirstTime: boolean, shownReason?: string): UnitResult {
    bus.emit({
      type: 'slot.result',
      t: now(),
      slot: slot.id,
      ...(r.eid ? { eid: r.eid } : {}),
      ...(r.iccid ? { iccid: r.iccid } : {}),
      outcome: OUTCOME_EVENT[r.outcome],
      ...(r.code ? { code: r.code } : {}),
      ...((shownReason ?? r.reason) ? { reason: shownReason ?? r.reason } : {}),
      millis: r.millis,
      attempt: r.attempts,
    });
    bus.emit({ type: 'unit.done', t: now(), slot: slot.id, ...(r.eid ? { eid: r.eid } : {}), outcome: OUTCOME_EVENT[r.outcome], passFirstTime });
    return r;
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs CPU-bound work (CERT.EUICC parse and chain check: milliseconds) on the next turn of the
 * event loop, i.e. after the exchange just started has gone out, so it overlaps the card's own
 * processing time instead of adding to the unit's. Never rejects: the caller decides when a
 * failure counts.
 */
function whileCardWorks<T>(work: () => T): Promise<Settled<T>> {
  return new Promise((resolve) =>
    setImmediate(() => {
      try {
        resolve({ ok: true, value: work() });
      } catch (error) {
        resolve({ ok: false, error });
      }
    }),
  );
}

function pick(store: BppStore, eid: string, unused: readonly Uint8Array[], excluded: Set<string>, trustedCis: readonly Uint8Array[]): StoredBpp | undefined {
  const loadable = store.loadable(eidToBytes(eid), unused).filter((b) => !excluded.has(`${b.batchId}/${b.position}`));
  // Prefer a batch whose CI the chip lists in EUICCInfo2; if none is listed, let the chip decide
  // (PrepareFactoryLoad refuses an untrusted CERT.DPpb before any key is touched).
  return loadable.find((c) => chipTrustsBatch(store, c.batchId, trustedCis)) ?? loadable[0];
}

/** Errors after which another BPP for the same chip may succeed (not: chip full, ICCID clash). */
function retryablePirError(reason: number): boolean {
  const name = ErrorReason.name(reason);
  return name !== 'installFailedDueToIccidAlreadyExistsOnEuicc' && name !== 'installFailedDueToInsufficientMemoryForProfile' && name !== 'pprNotAllowed';
}

/** Marks a promise nobody awaits yet as handled (its failure surfaces where it is awaited). */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function checkAbort(signal: AbortSignal, stage: UnitStage): void {
  if (signal.aborted) throw new UnitFailure('interrupted', stage, 'ABORTED', `stopped: ${String(signal.reason ?? 'abort')}`);
}

/**
 * A card taken out of its socket mid-unit is not a chip failure: the unit is interrupted (no
 * retry: the slot is empty), and the operator is told what it cost and what to do. A slot that
 * was empty at power-on stays "unreachable" (stage activate).
 */
const STAGE_WORDS: Record<UnitStage, string> = {
  connect: 'connection',
  activate: 'activation',
  identify: 'identification',
  choose: 'BPP choice',
  prepare: 'load preparation',
  load: 'load',
  verify: 'result check',
  'post-check': 'final checks',
};

function cardPulled(f: UnitFailure, bf23Sent: boolean): UnitFailure | undefined {
  if (f.stage === 'activate' || f.outcome === 'interrupted' || !causedBy(f, 'BRIDGE_ERR_NOCARD')) return undefined;
  const during = STAGE_WORDS[f.stage];
  return bf23Sent
    ? new UnitFailure('interrupted', f.stage, 'CARD_REMOVED', `card removed during the ${during}: its BPP is spent (the one-time key was used)`, 'none', {
        cause: f,
        hint: 'put the chip back in: it is loaded with its next BPP',
      })
    : new UnitFailure('interrupted', f.stage, 'CARD_REMOVED', `card removed during the ${during}, before its BPP was sent: nothing was spent`, 'none', {
        cause: f,
        hint: 'put the chip back in to load it',
      });
}

function causedBy(e: unknown, code: string): boolean {
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    if (isIfppError(x) && x.code === code) return true;
  }
  return false;
}

function codeOf(e: unknown, fallback: string): string {
  return isIfppError(e) ? e.code : fallback;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
