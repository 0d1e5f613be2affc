/**
 * The simulated chip's LPA-facing services (SGP.22 ES10b/ES10c beyond profile switching):
 * pending notifications (one per install, with the signed PIR; one signed
 * OtherSignedNotification per enable/disable/delete when the profile's metadata asks for it),
 * nicknames, the configured SM-DP+/SM-DS addresses, EUICCInfo1 and the RAT. Pure functions
 * over ChipState; the chip persists after a change.
 */
import { fromHex, toHex } from '../../core/bytes.ts';
import { ecdsaSign } from '../../core/crypto/ecdsa.ts';
import {
  NotificationSentResult,
  SetDefaultDpAddressResult,
  SetNicknameResult,
  encodeOtherSignedNotification,
  type ConfiguredAddresses,
  type EuiccInfo1,
  type ProfilePolicyAuthorisationRule,
  type RetrieveCriteria,
} from '../../core/rsp/es10-lpa.ts';
import type { EuiccInfo2 } from '../../core/rsp/es10.ts';
import { decodeStoreMetadata, PprIds } from '../../core/rsp/metadata.ts';
import { NotificationEvent, type NotificationMetadata } from '../../core/rsp/pir.ts';
import type { ChipState, InstalledProfile, StoredNotification } from './chip-state.ts';
import type { ChipIdentity } from './identity.ts';
import { profileByIccid } from './profiles.ts';

/** GSMA root SM-DS: what a chip reports until someone configures another. */
export const DEFAULT_ROOT_DS = 'lpa.ds.gsma.com';

/** Wildcard operator (SGP.22 §2.9.2.2: 'E' nibbles match any MCC/MNC digit). */
const ANY_OPERATOR = { mccMnc: fromHex('EEEEEE') };

/** The chip's Rules Authorisation Table: PPR1 and PPR2 for any operator, with end-user consent. */
export const SIM_RAT: readonly ProfilePolicyAuthorisationRule[] = [{ pprIds: [PprIds.ppr1, PprIds.ppr2], allowedOperators: [ANY_OPERATOR], pprFlags: [0] }];

function notificationsOf(state: ChipState): StoredNotification[] {
  state.notifications ??= [];
  return state.notifications;
}

/** Keeps the install notification: the PIR exactly as signed and sent. */
export function recordInstallNotification(state: ChipState, pir: Uint8Array, m: NotificationMetadata): void {
  notificationsOf(state).push({
    seqNumber: m.seqNumber,
    event: NotificationEvent.notificationInstall,
    ...(m.iccid !== undefined ? { iccid: m.iccid } : {}),
    notificationAddress: m.notificationAddress,
    der: toHex(pir),
  });
}

/**
 * After enable (1), disable (2) or delete (3): a signed notification, when the profile's
 * notificationConfigurationInfo names that event (SGP.22 §3.2.x: otherwise none is made).
 */
export function recordProfileNotification(identity: ChipIdentity, state: ChipState, p: InstalledProfile, event: number): void {
  const config = decodeStoreMetadata(fromHex(p.metadata)).notificationConfigurationInfo ?? [];
  const wanted = config.find((c) => c.profileManagementOperation.includes(event));
  if (!wanted || !identity.eumCertificate) return;
  state.notificationSeq++;
  const m: NotificationMetadata = { seqNumber: state.notificationSeq, profileManagementOperation: [event], notificationAddress: wanted.notificationAddress, iccid: p.iccid };
  const der = encodeOtherSignedNotification(m, (tbs) => ecdsaSign(identity.curve, identity.skEuicc, tbs), identity.certEuicc, identity.eumCertificate);
  notificationsOf(state).push({ seqNumber: m.seqNumber, event, iccid: p.iccid, notificationAddress: m.notificationAddress, der: toHex(der) });
}

function matches(n: StoredNotification, events: readonly number[] | undefined): boolean {
  return events === undefined || events.includes(n.event);
}

/** ListNotification: the metadata of pending notifications, optionally of some events only. */
export function listNotifications(state: ChipState, events: readonly number[] | undefined): NotificationMetadata[] {
  return notificationsOf(state)
    .filter((n) => matches(n, events))
    .map((n) => ({ seqNumber: n.seqNumber, profileManagementOperation: [n.event], notificationAddress: n.notificationAddress, iccid: n.iccid }));
}

/** RetrieveNotificationsList: the signed notifications; undefined = noResultAvailable. */
export function retrieveNotifications(state: ChipState, criteria: RetrieveCriteria | undefined): Uint8Array[] | undefined {
  const all = notificationsOf(state);
  const found = criteria === undefined ? all : 'seqNumber' in criteria ? all.filter((n) => n.seqNumber === criteria.seqNumber) : all.filter((n) => matches(n, criteria.profileManagementOperation));
  // An empty list is a valid answer to "all"; a search that finds nothing is noResultAvailable.
  if (found.length === 0 && criteria !== undefined) return undefined;
  return found.map((n) => fromHex(n.der));
}

/** RemoveNotificationFromList (NotificationSent). */
export function removeNotification(state: ChipState, seqNumber: number): number {
  const all = notificationsOf(state);
  const i = all.findIndex((n) => n.seqNumber === seqNumber);
  if (i < 0) return NotificationSentResult.values.nothingToDelete;
  all.splice(i, 1);
  return NotificationSentResult.values.ok;
}

export function setNickname(state: ChipState, iccid: string, nickname: string): number {
  const p = profileByIccid(state, iccid);
  if (!p) return SetNicknameResult.values.iccidNotFound;
  if (nickname === '') delete p.nickname;
  else p.nickname = nickname;
  return SetNicknameResult.values.ok;
}

export function configuredAddresses(state: ChipState): ConfiguredAddresses {
  return { defaultDpAddress: state.defaultDpAddress, rootDsAddress: DEFAULT_ROOT_DS };
}

/** SetDefaultDpAddress: an empty address removes the configured one. */
export function setDefaultDpAddress(state: ChipState, address: string): number {
  if (address === '') delete state.defaultDpAddress;
  else state.defaultDpAddress = address;
  return SetDefaultDpAddressResult.values.ok;
}

/** EUICCInfo1: the SGP.22 version and CI key lists of EUICCInfo2. */
export function euiccInfo1Of(info2: EuiccInfo2): EuiccInfo1 {
  return { svn: info2.svn, euiccCiPKIdListForVerification: info2.euiccCiPKIdListForVerification, euiccCiPKIdListForSigning: info2.euiccCiPKIdListForSigning };
}
