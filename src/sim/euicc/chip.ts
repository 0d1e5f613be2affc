/**
 * The ISD-R of the simulated eUICC at the ES10 level: complete ES10 payloads in (as reassembled
 * from STORE DATA), response data and status word out. Owns the chip's persistent state
 * (ChipState, saved through a ChipStateStore after every change and before the answer) and its
 * volatile session state (the key chosen by PrepareFactoryLoad, the BPP load in progress),
 * which a power loss wipes.
 *
 * Answered: GetEID (BF3E), GetEUICCInfo2 (BF22, free NVM kept current), GetProfilesInfo (BF2D),
 * Enable/Disable/Delete (BF31/32/33), eUICCMemoryReset (BF34), the LPA services of
 * lpa-services.ts (BF20, BF2E, BF28, BF2B, BF30, BF29, BF3C, BF3F, BF43), the factory requests of the
 * dialect (BF70–BF73 by default) and the BPP load calls (BF36, then A0, A1, 88, A2, A3, 86).
 *
 * Status words: 6A80 for a request that does not decode, 6A88 for an unknown request tag and
 * for load calls outside a load (none started, or it already ended with a BF37).
 * Enable/Disable/Delete answer disallowedByPolicy while unused one-time keys remain (SGP.41
 * EUICCF04: LPA services only once no one-time key is left).
 */
import { bytesEqual } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import {
  decodeDeleteProfileRequest,
  decodeDisableProfileRequest,
  decodeEnableProfileRequest,
  decodeEuiccInfo2,
  decodeGetEidRequest,
  decodeGetEuiccInfo2Request,
  decodeMemoryResetRequest,
  decodeProfileInfoListRequest,
  DeleteResult,
  DisableResult,
  EnableResult,
  encodeDeleteProfileResponse,
  encodeDisableProfileResponse,
  encodeEnableProfileResponse,
  encodeEuiccInfo2,
  encodeGetEidResponse,
  encodeMemoryResetResponse,
  encodeProfileInfoListResponse,
  profileInfoListError,
  TAG_DELETE_PROFILE,
  TAG_DISABLE_PROFILE,
  TAG_ENABLE_PROFILE,
  TAG_EUICC_INFO2,
  TAG_GET_EUICC_DATA,
  TAG_MEMORY_RESET,
  TAG_PROFILE_INFO_LIST,
  type ProfileId,
} from '../../core/rsp/es10.ts';
import {
  decodeConfiguredAddressesRequest,
  decodeGetEuiccChallengeRequest,
  decodeGetEuiccInfo1Request,
  decodeGetRatRequest,
  decodeListNotificationRequest,
  decodeNotificationSentRequest,
  decodeRetrieveNotificationsListRequest,
  decodeSetDefaultDpAddressRequest,
  decodeSetNicknameRequest,
  encodeConfiguredAddressesResponse,
  encodeEuiccInfo1,
  encodeGetEuiccChallengeResponse,
  encodeGetRatResponse,
  encodeListNotificationResponse,
  encodeNotificationSentResponse,
  encodeRetrieveNotificationsListResponse,
  encodeSetDefaultDpAddressResponse,
  encodeSetNicknameResponse,
  RetrieveNotificationsError,
  TAG_CONFIGURED_ADDRESSES,
  TAG_EUICC_CHALLENGE,
  TAG_EUICC_INFO1,
  TAG_GET_RAT,
  TAG_LIST_NOTIFICATION,
  TAG_NOTIFICATION_SENT,
  TAG_RETRIEVE_NOTIFICATIONS,
  TAG_SET_DEFAULT_DP_ADDRESS,
  TAG_SET_NICKNAME,
} from '../../core/rsp/es10-lpa.ts';
import { decodePir, NotificationEvent } from '../../core/rsp/pir.ts';
import { randomBytes } from 'node:crypto';
import { projectDialect, type FactoryDialect, type FactoryResultName } from '../../core/rsp/factory.ts';
import { encodeStoreMetadata } from '../../core/rsp/metadata.ts';
import { TAG_BPP } from '../../core/rsp/bpp.ts';
import { readHeader } from '../../core/tlv/ber-tlv.ts';
import { toHex } from '../../core/bytes.ts';
import { parseIccid } from '../../core/rsp/iccid.ts';
import { BppLoadSession, type LoadStep, type LoadWork } from './bpp-load.ts';
import { checkChipState, freshChipState, type ChipState, type ChipStateStore, type InstalledProfile } from './chip-state.ts';
import { EuiccConfigError } from './errors.ts';
import { closeFpaServices, deleteOneTimeKeys, getFactoryInfo, prepareFactoryLoad, unusedKeys, type PrepareOutcome, type PreparedLoad } from './factory-services.ts';
import type { EuiccFaults } from './faults.ts';
import type { ChipIdentity } from './identity.ts';
import {
  configuredAddresses,
  euiccInfo1Of,
  listNotifications,
  recordInstallNotification,
  recordProfileNotification,
  removeNotification,
  retrieveNotifications,
  setDefaultDpAddress,
  setNickname,
  SIM_RAT,
} from './lpa-services.ts';
import { deleteProfile, disableProfile, enableProfile, findProfile, isdpAidFor, listProfiles, memoryReset, profileByIccid, usedNvm } from './profiles.ts';
import type { EuiccTiming } from './timing.ts';

/** Tags of the calls that continue a BPP load after BF36+BF23. */
const LOAD_CALL_TAGS: ReadonlySet<number> = new Set([0xa0, 0xa1, 0xa2, 0xa3, 0x86, 0x87, 0x88]);

export const SW_OK = 0x9000;
export const SW_WRONG_DATA = 0x6a80;
export const SW_NOT_FOUND = 0x6a88;

export interface Es10Answer {
  readonly data: Uint8Array;
  readonly sw: number;
  /** The chip's processing time for this request (timing model). */
  readonly seconds: number;
}

/** A profile put on the chip at personalisation (e.g. to provoke "ICCID already present"). */
export interface PreinstalledProfile {
  readonly iccid: string;
  readonly serviceProviderName?: string;
  readonly profileName?: string;
  /** 0 test, 1 provisioning, 2 operational (absent = operational). */
  readonly profileClass?: number;
  readonly state?: 'disabled' | 'enabled';
  /** NVM it occupies (default 12000). */
  readonly uppBytes?: number;
}

export interface EuiccChipOptions {
  readonly identity: ChipIdentity;
  /** Persistent state to start from (shared by re-inserted cards of one chip); else the store's, else fresh. */
  readonly state?: ChipState;
  readonly store?: ChipStateStore;
  /** Factory request encoding (default: the project dialect BF70–BF73). */
  readonly dialect?: FactoryDialect;
  /** The chip's notion of time, for certificate validity (default: the host clock). */
  readonly now?: () => Date;
  /** NVM for profiles, bytes (default: freeNvm of the reel's EUICCInfo2, else 1 000 000). */
  readonly nvmCapacity?: number;
  /** notificationAddress of PIRs when the metadata names none (default "smdpf.ifpp.invalid"). */
  readonly notificationAddress?: string;
  readonly timing: EuiccTiming;
  readonly faults: EuiccFaults;
}

export class EuiccChip {
  readonly identity: ChipIdentity;
  readonly dialect: FactoryDialect;
  readonly nvmCapacity: number;
  private readonly info2: ReturnType<typeof decodeEuiccInfo2> | undefined;
  private readonly store: ChipStateStore | undefined;
  private readonly now: () => Date;
  private readonly notificationAddress: string;
  private lastSaved: string;
  private stateRef: ChipState;
  private prepared: PreparedLoad | undefined;
  private session: BppLoadSession | undefined;
  private sessionCalls = 0;
  /** Outcome of the last PrepareFactoryLoad (tests look at why a certificate was refused). */
  lastPrepare: PrepareOutcome | undefined;
  /** The last BF37 this chip produced. */
  lastPir: Uint8Array | undefined;
  /** The last GetEuiccChallenge answer (volatile, like the real chip's). */
  challenge: Uint8Array | undefined;

  constructor(private readonly opts: EuiccChipOptions) {
    const id = opts.identity;
    this.identity = id;
    this.dialect = opts.dialect ?? projectDialect;
    this.store = opts.store;
    this.now = opts.now ?? (() => new Date());
    this.notificationAddress = opts.notificationAddress ?? 'smdpf.ifpp.invalid';
    try {
      this.info2 = decodeEuiccInfo2(id.euiccInfo2);
    } catch {
      this.info2 = undefined; // answered as personalised, without the free-memory update
    }
    this.nvmCapacity = opts.nvmCapacity ?? this.info2?.extCardResource.freeNvm ?? 1_000_000;
    const otpks = id.otks.map((k) => k.pkHex);
    const loaded = opts.state ?? opts.store?.load();
    this.stateRef = loaded !== undefined ? checkChipState(loaded, id.eid, otpks) : freshChipState(id.eid, otpks);
    this.lastSaved = JSON.stringify(this.stateRef);
    if (loaded === undefined) this.persist(true);
  }

  /** The persistent state (live object: do not change it from outside). */
  get state(): ChipState {
    return this.stateRef;
  }

  get loadInProgress(): boolean {
    return this.session !== undefined && !this.session.finished;
  }

  /** Power loss or reset: the volatile session state is gone; NVM stays. */
  resetSession(): void {
    this.prepared = undefined;
    this.session = undefined;
    this.sessionCalls = 0;
    this.challenge = undefined;
  }

  /** Puts a profile on the chip as if installed at personalisation. */
  preinstall(p: PreinstalledProfile): InstalledProfile {
    const iccid = parseIccid(p.iccid);
    if (profileByIccid(this.stateRef, iccid)) throw new EuiccConfigError('EUICC_PREINSTALL_DUPLICATE', `ICCID ${iccid} is already on chip ${this.identity.eid}`);
    const s = this.stateRef;
    const profile: InstalledProfile = {
      iccid,
      isdpAid: toHex(isdpAidFor(s.nextIsdp++)),
      state: 'disabled',
      metadata: toHex(
        encodeStoreMetadata({
          iccid,
          serviceProviderName: p.serviceProviderName ?? 'Pre-installed',
          profileName: p.profileName ?? `Profile ${iccid}`,
          ...(p.profileClass !== undefined ? { profileClass: p.profileClass } : {}),
        }),
      ),
      uppBytes: p.uppBytes ?? 12_000,
      uppSha256: '',
    };
    if (p.state === 'enabled') for (const q of s.profiles) q.state = 'disabled';
    profile.state = p.state ?? 'disabled';
    s.profiles.push(profile);
    this.persist();
    return profile;
  }

  /**
   * Which call of a BPP load this payload would be (1 = BF36+BF23), or undefined when it is
   * no load call. The card uses it to trigger faults at the Nth call.
   */
  loadCallNumber(payload: Uint8Array): number | undefined {
    const tag = tagOf(payload);
    if (tag === TAG_BPP) return 1;
    if (tag !== undefined && LOAD_CALL_TAGS.has(tag) && this.loadInProgress) return this.sessionCalls + 1;
    return undefined;
  }

  /** Answers one complete ES10 payload. */
  es10(payload: Uint8Array): Es10Answer {
    const t = this.opts.timing;
    const work: LoadWork & { cert: boolean; loadBytes: number } = { verified: false, signed: false, cert: false, loadBytes: 0 };
    let answer: { data: Uint8Array; sw: number };
    try {
      answer = this.dispatch(payload, work);
    } finally {
      // Whatever happened, what changed in NVM is written before the chip answers.
      this.persist();
    }
    const slow = this.opts.faults.slowNvm;
    let seconds = t.es10Seconds + (work.verified ? t.verifySeconds : 0) + (work.signed ? t.signSeconds : 0) + (work.cert ? t.certSeconds : 0);
    if (work.loadBytes > 0) {
      seconds += t.segmentSeconds + t.nvmPerByteSeconds * work.loadBytes;
      if (slow) seconds += slow.perCallSeconds + (slow.perByteSeconds ?? 0) * work.loadBytes;
    }
    return { ...answer, seconds };
  }

  private dispatch(payload: Uint8Array, work: LoadWork & { cert: boolean; loadBytes: number }): { data: Uint8Array; sw: number } {
    const tag = tagOf(payload);
    if (tag === undefined) return sw(SW_WRONG_DATA);
    if (tag === TAG_BPP || LOAD_CALL_TAGS.has(tag)) return this.load(tag, payload, work);
    const factory = this.dialect.requestKind(tag);
    try {
      if (factory) return ok(this.factory(factory, payload, work));
      switch (tag) {
        case TAG_GET_EUICC_DATA: {
          const { tagList } = decodeGetEidRequest(payload);
          // SGP.22: the EID is the only data object this function returns.
          if (!bytesEqual(tagList, Uint8Array.of(0x5a))) return sw(SW_WRONG_DATA);
          return ok(encodeGetEidResponse(this.identity.eid));
        }
        case TAG_EUICC_INFO2:
          decodeGetEuiccInfo2Request(payload);
          return ok(this.euiccInfo2());
        case TAG_PROFILE_INFO_LIST: {
          let req;
          try {
            req = decodeProfileInfoListRequest(payload);
          } catch (e) {
            if (!isIfppError(e)) throw e;
            return ok(encodeProfileInfoListResponse(profileInfoListError('incorrectInputValues')));
          }
          return ok(encodeProfileInfoListResponse(listProfiles(this.stateRef, req)));
        }
        case TAG_ENABLE_PROFILE: {
          const r = decodeEnableProfileRequest(payload);
          if (!this.lpaAllowed()) return ok(encodeEnableProfileResponse(EnableResult.values.disallowedByPolicy));
          return ok(encodeEnableProfileResponse(this.notifying(r.profile, NotificationEvent.notificationEnable, () => enableProfile(this.stateRef, r.profile))));
        }
        case TAG_DISABLE_PROFILE: {
          const r = decodeDisableProfileRequest(payload);
          if (!this.lpaAllowed()) return ok(encodeDisableProfileResponse(DisableResult.values.disallowedByPolicy));
          return ok(encodeDisableProfileResponse(this.notifying(r.profile, NotificationEvent.notificationDisable, () => disableProfile(this.stateRef, r.profile))));
        }
        case TAG_DELETE_PROFILE: {
          const id = decodeDeleteProfileRequest(payload);
          if (!this.lpaAllowed()) return ok(encodeDeleteProfileResponse(DeleteResult.values.disallowedByPolicy));
          return ok(encodeDeleteProfileResponse(this.notifying(id, NotificationEvent.notificationDelete, () => deleteProfile(this.stateRef, id))));
        }
        case TAG_EUICC_INFO1:
          decodeGetEuiccInfo1Request(payload);
          if (!this.info2) return sw(SW_NOT_FOUND);
          return ok(encodeEuiccInfo1(euiccInfo1Of(this.info2)));
        case TAG_EUICC_CHALLENGE:
          decodeGetEuiccChallengeRequest(payload);
          this.challenge = new Uint8Array(randomBytes(16));
          return ok(encodeGetEuiccChallengeResponse(this.challenge));
        case TAG_LIST_NOTIFICATION: {
          const r = decodeListNotificationRequest(payload);
          return ok(encodeListNotificationResponse({ ok: true, notifications: listNotifications(this.stateRef, r.profileManagementOperation) }));
        }
        case TAG_RETRIEVE_NOTIFICATIONS: {
          const r = decodeRetrieveNotificationsListRequest(payload);
          const found = retrieveNotifications(this.stateRef, r.searchCriteria);
          return ok(encodeRetrieveNotificationsListResponse(found ? { ok: true, notifications: found } : { ok: false, code: RetrieveNotificationsError.values.noResultAvailable }));
        }
        case TAG_NOTIFICATION_SENT:
          return ok(encodeNotificationSentResponse(removeNotification(this.stateRef, decodeNotificationSentRequest(payload).seqNumber)));
        case TAG_SET_NICKNAME: {
          const r = decodeSetNicknameRequest(payload);
          return ok(encodeSetNicknameResponse(setNickname(this.stateRef, r.iccid, r.nickname)));
        }
        case TAG_CONFIGURED_ADDRESSES:
          decodeConfiguredAddressesRequest(payload);
          return ok(encodeConfiguredAddressesResponse(configuredAddresses(this.stateRef)));
        case TAG_SET_DEFAULT_DP_ADDRESS:
          return ok(encodeSetDefaultDpAddressResponse(setDefaultDpAddress(this.stateRef, decodeSetDefaultDpAddressRequest(payload).defaultDpAddress)));
        case TAG_GET_RAT:
          decodeGetRatRequest(payload);
          return ok(encodeGetRatResponse(SIM_RAT));
        case TAG_MEMORY_RESET: {
          const { resetOptions } = decodeMemoryResetRequest(payload);
          return ok(encodeMemoryResetResponse(memoryReset(this.stateRef, resetOptions)));
        }
        default:
          return sw(SW_NOT_FOUND);
      }
    } catch (e) {
      if (!isIfppError(e)) throw e;
      return sw(SW_WRONG_DATA);
    }
  }

  /** Runs a profile operation; on success (result 0) records the notification the profile asks for. */
  private notifying(id: ProfileId, event: number, op: () => number): number {
    const p = findProfile(this.stateRef, id);
    const result = op();
    if (result === 0 && p) recordProfileNotification(this.identity, this.stateRef, p, event);
    return result;
  }

  /** LPA services (profile state changes) only once no unused one-time key remains. */
  private lpaAllowed(): boolean {
    return unusedKeys(this.stateRef) === 0;
  }

  private euiccInfo2(): Uint8Array {
    const i = this.info2;
    if (!i || i.extCardResource.freeNvm === undefined) return this.identity.euiccInfo2;
    const free = Math.max(0, this.opts.faults.outOfMemory ? 0 : this.nvmCapacity - usedNvm(this.stateRef));
    return encodeEuiccInfo2({ ...i, extCardResource: { ...i.extCardResource, freeNvm: free } });
  }

  private factory(kind: NonNullable<ReturnType<FactoryDialect['requestKind']>>, payload: Uint8Array, work: { cert: boolean }): Uint8Array {
    const d = this.dialect;
    const s = this.stateRef;
    switch (kind) {
      case 'getFactoryInfo':
        d.decodeGetFactoryInfoRequest(payload);
        return getFactoryInfo(d, s);
      case 'prepareFactoryLoad': {
        const req = d.decodePrepareFactoryLoadRequest(payload);
        // A new preparation replaces the previous one, successful or not.
        this.prepared = undefined;
        const out = prepareFactoryLoad(this.identity, s, req, this.now());
        work.cert = out.result !== 'fpaServicesClosed' && out.result !== 'unknownOneTimeKey' && out.result !== 'keyAlreadyUsed';
        this.lastPrepare = out;
        this.prepared = out.prepared;
        return d.encodePrepareFactoryLoadResponse(out.result);
      }
      case 'deleteOneTimeKeys': {
        const out = deleteOneTimeKeys(this.identity, s, d.decodeDeleteOneTimeKeysRequest(payload));
        if (this.prepared && out.deleted.includes(this.prepared.keyIndex)) this.prepared = undefined;
        return d.encodeDeleteOneTimeKeysResponse({ result: out.result, ...(out.result === 'ok' ? { deletedCount: out.deleted.length } : {}) });
      }
      case 'closeFpaServices': {
        d.decodeCloseFpaServicesRequest(payload);
        const r: FactoryResultName = closeFpaServices(s);
        this.prepared = undefined;
        return d.encodeCloseFpaServicesResponse(r);
      }
    }
  }

  private load(tag: number, payload: Uint8Array, work: LoadWork & { loadBytes: number }): { data: Uint8Array; sw: number } {
    if (tag === TAG_BPP) {
      // A new BPP: any load in progress is abandoned; the preparation is used up by this attempt.
      this.session = new BppLoadSession(
        {
          identity: this.identity,
          state: this.stateRef,
          nvmCapacity: this.nvmCapacity,
          outOfMemory: this.opts.faults.outOfMemory,
          notificationAddress: this.notificationAddress,
        },
        this.prepared,
      );
      this.prepared = undefined;
      this.sessionCalls = 0;
    }
    const session = this.session;
    if (!session || session.finished) return sw(SW_NOT_FOUND);
    this.sessionCalls++;
    work.loadBytes = payload.length;
    const step: LoadStep = session.accept(payload, work);
    switch (step.kind) {
      case 'continue':
        return sw(SW_OK);
      case 'sw':
        return sw(step.sw);
      case 'pir':
        this.lastPir = step.pir;
        recordInstallNotification(this.stateRef, step.pir, decodePir(step.pir).notificationMetadata);
        return ok(step.pir);
    }
  }

  /** The reason the current or last load failed, if it did. */
  get lastLoadFailure(): BppLoadSession['failure'] {
    return this.session?.failure;
  }

  /** Writes the state if it changed (or always, with `force`). */
  persist(force = false): void {
    const text = JSON.stringify(this.stateRef);
    if (!force && text === this.lastSaved) return;
    this.store?.save(this.stateRef);
    this.lastSaved = text;
  }
}

function tagOf(payload: Uint8Array): number | undefined {
  try {
    return readHeader(payload).tag;
  } catch {
    return undefined;
  }
}

function ok(data: Uint8Array): { data: Uint8Array; sw: number } {
  return { data, sw: SW_OK };
}

function sw(code: number): { data: Uint8Array; sw: number } {
  return { data: new Uint8Array(0), sw: code };
}
