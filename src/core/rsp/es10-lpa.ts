/**
 * The SGP.22 ES10 functions an LPA (here: the repair bench) uses on a finished chip, both
 * directions (the bench asks, the card simulator answers). Tags from the module's AUTOMATIC
 * TAGS; a SEQUENCE whose components already carry tags keeps them as written (so
 * NotificationMetadata keeps 0C and 5A, OtherSignedNotification its universal 30s).
 *
 *   GetEuiccInfo1             BF20 {}                          -> BF20 { 82 svn, A9 {04..}, AA {04..} }
 *   GetEuiccChallenge         BF2E {}                          -> BF2E { 80 challenge(16) }
 *   ListNotification          BF28 { 81 event? }               -> BF28 { A0 { BF2F.. } } | BF28 { 81 error }
 *   RetrieveNotificationsList BF2B { A0 { 80 seq | 81 event }? } -> BF2B { A0 { BF37 | 30.. } } | BF2B { 81 error }
 *   RemoveNotificationFromList BF30 { 80 seq }                 -> BF30 { 80 status }
 *   SetNickname               BF29 { 5A iccid, 90 nickname }   -> BF29 { 80 result }
 *   EuiccConfiguredAddresses  BF3C {}                          -> BF3C { 80 defaultDp?, 81 rootDs }
 *   SetDefaultDpAddress       BF3F { 80 address }              -> BF3F { 80 result }
 *   GetRAT                    BF43 {}                          -> BF43 { A0 { 30 { 80 pprIds, A1 { 30 OperatorID.. }, 82 flags } } }
 *
 * The existing requests (GetEID, EUICCInfo2, profiles, enable/disable/delete) stay in es10.ts.
 */
import { concatBytes } from '../bytes.ts';
import { tagHex, tlv, TlvError, type Tlv } from '../tlv/ber-tlv.ts';
import {
  badValue,
  bitsTlv,
  Children,
  coded,
  decodeBits,
  decodeEmptyRequest,
  decodeInt,
  decodeResultResponse,
  decodeTop,
  decodeUtf8,
  decodeVersion,
  encodeEmptyRequest,
  encodeResultResponse,
  intTlv,
  itemsOf,
  namedEnum,
  octets,
  parseValue,
  sub,
  utf8Tlv,
  versionValue,
  type Coded,
} from './der.ts';
import { RspEncodeError } from './errors.ts';
import { iccidFromBytes, iccidToBytes } from './iccid.ts';
import { decodeOperatorId, encodeOperatorId, type OperatorId } from './metadata.ts';
import { decodeNotificationMetadataTlv, decodePir, encodeNotificationMetadata, TAG_NOTIFICATION_METADATA, TAG_PIR, type NotificationMetadata, type Pir } from './pir.ts';

export const TAG_EUICC_INFO1 = 0xbf20;
export const TAG_EUICC_CHALLENGE = 0xbf2e;
export const TAG_LIST_NOTIFICATION = 0xbf28;
export const TAG_RETRIEVE_NOTIFICATIONS = 0xbf2b;
export const TAG_NOTIFICATION_SENT = 0xbf30;
export const TAG_SET_NICKNAME = 0xbf29;
export const TAG_CONFIGURED_ADDRESSES = 0xbf3c;
export const TAG_SET_DEFAULT_DP_ADDRESS = 0xbf3f;
export const TAG_GET_RAT = 0xbf43;

/** The single alternative inside a CHOICE. */
function onlyChild(t: Tlv, path: string, what: string): Tlv {
  const c = new Children(t, path);
  if (c.list.length !== 1) throw badValue(t, path, what, `must hold exactly one element, found ${c.list.length}`);
  return c.list[0]!;
}

function skiList(tag: number, list: readonly Uint8Array[]): Uint8Array {
  return tlv(tag, ...list.map((k) => tlv(0x04, k)));
}

function decodeSkiList(c: Children, path: string, tag: number, what: string): Uint8Array[] {
  const x = c.need(tag, what);
  const p = sub(path, x);
  return itemsOf(x, p, 0x04, 'SubjectKeyIdentifier').map((k) => octets(k, sub(p, k), 'SubjectKeyIdentifier', 1));
}

// ---------------------------------------------------------------- GetEuiccInfo1 (BF20)

export interface EuiccInfo1 {
  readonly svn: string;
  readonly euiccCiPKIdListForVerification: readonly Uint8Array[];
  readonly euiccCiPKIdListForSigning: readonly Uint8Array[];
}

export const encodeGetEuiccInfo1Request = (): Uint8Array => encodeEmptyRequest(TAG_EUICC_INFO1);
export const decodeGetEuiccInfo1Request = (b: Uint8Array): void => decodeEmptyRequest(b, TAG_EUICC_INFO1, 'GetEuiccInfo1Request');

export function encodeEuiccInfo1(i: EuiccInfo1): Uint8Array {
  return tlv(TAG_EUICC_INFO1, tlv(0x82, versionValue(i.svn)), skiList(0xa9, i.euiccCiPKIdListForVerification), skiList(0xaa, i.euiccCiPKIdListForSigning));
}

export function decodeEuiccInfo1(bytes: Uint8Array): EuiccInfo1 {
  const t = decodeTop(bytes, TAG_EUICC_INFO1, 'EUICCInfo1');
  const c = new Children(t, 'BF20');
  const svn = c.need(0x82, 'svn');
  return {
    svn: decodeVersion(svn, sub('BF20', svn), 'svn'),
    euiccCiPKIdListForVerification: decodeSkiList(c, 'BF20', 0xa9, 'euiccCiPKIdListForVerification'),
    euiccCiPKIdListForSigning: decodeSkiList(c, 'BF20', 0xaa, 'euiccCiPKIdListForSigning'),
  };
}

// ---------------------------------------------------------------- GetEuiccChallenge (BF2E)

export const encodeGetEuiccChallengeRequest = (): Uint8Array => encodeEmptyRequest(TAG_EUICC_CHALLENGE);
export const decodeGetEuiccChallengeRequest = (b: Uint8Array): void => decodeEmptyRequest(b, TAG_EUICC_CHALLENGE, 'GetEuiccChallengeRequest');

export function encodeGetEuiccChallengeResponse(challenge: Uint8Array): Uint8Array {
  if (challenge.length !== 16) throw new RspEncodeError(`euiccChallenge must be 16 bytes, got ${challenge.length}`);
  return tlv(TAG_EUICC_CHALLENGE, tlv(0x80, challenge));
}

export function decodeGetEuiccChallengeResponse(bytes: Uint8Array): Uint8Array {
  const t = decodeTop(bytes, TAG_EUICC_CHALLENGE, 'GetEuiccChallengeResponse');
  const c = new Children(t, 'BF2E');
  const x = c.need(0x80, 'euiccChallenge');
  return octets(x, sub('BF2E', x), 'euiccChallenge', 16, 16);
}

// ---------------------------------------------------------------- ListNotification (BF28)

export interface ListNotificationRequest {
  /** NotificationEvent bit numbers to list (absent: all). */
  readonly profileManagementOperation?: readonly number[] | undefined;
}

export function encodeListNotificationRequest(r: ListNotificationRequest = {}): Uint8Array {
  return tlv(TAG_LIST_NOTIFICATION, ...(r.profileManagementOperation !== undefined ? [bitsTlv(0x81, r.profileManagementOperation)] : []));
}

export function decodeListNotificationRequest(bytes: Uint8Array): ListNotificationRequest {
  const t = decodeTop(bytes, TAG_LIST_NOTIFICATION, 'ListNotificationRequest');
  const c = new Children(t, 'BF28');
  const op = c.opt(0x81, 'profileManagementOperation');
  return { profileManagementOperation: op ? decodeBits(op, sub('BF28', op), 'profileManagementOperation') : undefined };
}

export const ListNotificationError = namedEnum({ undefinedError: 127 });

export type ListNotificationResponse =
  | { readonly ok: true; readonly notifications: readonly NotificationMetadata[] }
  | { readonly ok: false; readonly error: Coded<keyof typeof ListNotificationError.values> };

export function encodeListNotificationResponse(r: ListNotificationResponse): Uint8Array {
  if (r.ok) return tlv(TAG_LIST_NOTIFICATION, tlv(0xa0, ...r.notifications.map(encodeNotificationMetadata)));
  return tlv(TAG_LIST_NOTIFICATION, intTlv(0x81, r.error.code));
}

export function decodeListNotificationResponse(bytes: Uint8Array): ListNotificationResponse {
  const t = decodeTop(bytes, TAG_LIST_NOTIFICATION, 'ListNotificationResponse');
  const alt = onlyChild(t, 'BF28', 'ListNotificationResponse');
  const p = sub('BF28', alt);
  if (alt.tag === 0xa0) {
    return { ok: true, notifications: itemsOf(alt, p, TAG_NOTIFICATION_METADATA, 'NotificationMetadata').map((x) => decodeNotificationMetadataTlv(x, sub(p, x))) };
  }
  if (alt.tag === 0x81) return { ok: false, error: coded(ListNotificationError, decodeInt(alt, p, 'listNotificationsResultError')) };
  throw new TlvError('TLV_UNEXPECTED_TAG', `${p}: expected notificationMetadataList (A0) or listNotificationsResultError (81), found ${tagHex(alt.tag)}`, alt.offset, alt.tag);
}

// ---------------------------------------------------------------- PendingNotification

/** OtherSignedNotification: a signed enable/disable/delete notification. */
export interface OtherSignedNotification {
  readonly kind: 'other';
  readonly metadata: NotificationMetadata;
  /** The BF2F TLV exactly as received: what the signature covers. */
  readonly tbsRaw: Uint8Array;
  /** 5F37, r||s. */
  readonly signature: Uint8Array;
  readonly euiccCertificate: Uint8Array;
  readonly eumCertificate: Uint8Array;
  readonly raw: Uint8Array;
}

export type PendingNotification = { readonly kind: 'pir'; readonly pir: Pir; readonly raw: Uint8Array } | OtherSignedNotification;

/** The notification's metadata, whichever kind it is. */
export function notificationMetadataOf(n: PendingNotification): NotificationMetadata {
  return n.kind === 'pir' ? n.pir.notificationMetadata : n.metadata;
}

/** 30 { BF2F tbs, 5F37 sign(BF2F TLV), CERT.EUICC, CERT.EUM }. */
export function encodeOtherSignedNotification(
  m: NotificationMetadata,
  sign: (tbs: Uint8Array) => Uint8Array,
  euiccCertificate: Uint8Array,
  eumCertificate: Uint8Array,
): Uint8Array {
  const tbs = encodeNotificationMetadata(m);
  return tlv(0x30, concatBytes(tbs, tlv(0x5f37, sign(tbs)), euiccCertificate, eumCertificate));
}

function decodeOtherSignedNotification(t: Tlv, path: string): OtherSignedNotification {
  const c = new Children(t, path);
  const tbs = c.need(TAG_NOTIFICATION_METADATA, 'tbsOtherNotification');
  const sig = c.need(0x5f37, 'euiccNotificationSignature');
  const certs = c.list.filter((x) => x.tag === 0x30);
  if (certs.length !== 2) throw badValue(t, path, 'OtherSignedNotification', `must carry euiccCertificate and eumCertificate, found ${certs.length} certificates`);
  return {
    kind: 'other',
    metadata: decodeNotificationMetadataTlv(tbs, sub(path, tbs)),
    tbsRaw: tbs.raw,
    signature: octets(sig, sub(path, sig), 'euiccNotificationSignature', 1),
    euiccCertificate: certs[0]!.raw,
    eumCertificate: certs[1]!.raw,
    raw: t.raw,
  };
}

function decodePendingNotification(t: Tlv, path: string): PendingNotification {
  if (t.tag === TAG_PIR) {
    try {
      return { kind: 'pir', pir: decodePir(t.raw), raw: t.raw };
    } catch (e) {
      if (e instanceof TlvError) throw badValue(t, path, 'profileInstallationResult', e.message);
      throw e;
    }
  }
  if (t.tag === 0x30) return decodeOtherSignedNotification(t, path);
  throw new TlvError('TLV_UNEXPECTED_TAG', `${path}: expected profileInstallationResult (BF37) or otherSignedNotification (30), found ${tagHex(t.tag)}`, t.offset, t.tag);
}

// ---------------------------------------------------------------- RetrieveNotificationsList (BF2B)

export type RetrieveCriteria = { readonly seqNumber: number } | { readonly profileManagementOperation: readonly number[] };

export function encodeRetrieveNotificationsListRequest(criteria?: RetrieveCriteria): Uint8Array {
  if (!criteria) return tlv(TAG_RETRIEVE_NOTIFICATIONS);
  const alt = 'seqNumber' in criteria ? intTlv(0x80, criteria.seqNumber) : bitsTlv(0x81, criteria.profileManagementOperation);
  return tlv(TAG_RETRIEVE_NOTIFICATIONS, tlv(0xa0, alt));
}

export function decodeRetrieveNotificationsListRequest(bytes: Uint8Array): { readonly searchCriteria?: RetrieveCriteria | undefined } {
  const t = decodeTop(bytes, TAG_RETRIEVE_NOTIFICATIONS, 'RetrieveNotificationsListRequest');
  const c = new Children(t, 'BF2B');
  const a0 = c.opt(0xa0, 'searchCriteria');
  if (!a0) return {};
  const p = sub('BF2B', a0);
  const alt = onlyChild(a0, p, 'searchCriteria');
  if (alt.tag === 0x80) return { searchCriteria: { seqNumber: decodeInt(alt, sub(p, alt), 'seqNumber') } };
  if (alt.tag === 0x81) return { searchCriteria: { profileManagementOperation: decodeBits(alt, sub(p, alt), 'profileManagementOperation') } };
  throw new TlvError('TLV_UNEXPECTED_TAG', `${p}: expected seqNumber (80) or profileManagementOperation (81), found ${tagHex(alt.tag)}`, alt.offset, alt.tag);
}

export const RetrieveNotificationsError = namedEnum({ noResultAvailable: 1, undefinedError: 127 });

export type RetrieveNotificationsListResponse =
  | { readonly ok: true; readonly notifications: readonly PendingNotification[] }
  | { readonly ok: false; readonly error: Coded<keyof typeof RetrieveNotificationsError.values> };

/** The card side: each notification as the DER it stored (BF37 or 30). */
export function encodeRetrieveNotificationsListResponse(r: { ok: true; notifications: readonly Uint8Array[] } | { ok: false; code: number }): Uint8Array {
  if (r.ok) return tlv(TAG_RETRIEVE_NOTIFICATIONS, tlv(0xa0, ...r.notifications));
  return tlv(TAG_RETRIEVE_NOTIFICATIONS, intTlv(0x81, r.code));
}

export function decodeRetrieveNotificationsListResponse(bytes: Uint8Array): RetrieveNotificationsListResponse {
  const t = decodeTop(bytes, TAG_RETRIEVE_NOTIFICATIONS, 'RetrieveNotificationsListResponse');
  const alt = onlyChild(t, 'BF2B', 'RetrieveNotificationsListResponse');
  const p = sub('BF2B', alt);
  if (alt.tag === 0xa0) {
    if (!alt.constructed) throw badValue(alt, p, 'notificationList', 'must be constructed');
    return { ok: true, notifications: new Children(alt, p).list.map((x) => decodePendingNotification(x, sub(p, x))) };
  }
  if (alt.tag === 0x81) return { ok: false, error: coded(RetrieveNotificationsError, decodeInt(alt, p, 'notificationsListResultError')) };
  throw new TlvError('TLV_UNEXPECTED_TAG', `${p}: expected notificationList (A0) or notificationsListResultError (81), found ${tagHex(alt.tag)}`, alt.offset, alt.tag);
}

// ---------------------------------------------------------------- RemoveNotificationFromList (BF30)

export const NotificationSentResult = namedEnum({ ok: 0, nothingToDelete: 1, undefinedError: 127 });
export type NotificationSentResultName = keyof typeof NotificationSentResult.values;

export function encodeNotificationSentRequest(seqNumber: number): Uint8Array {
  return tlv(TAG_NOTIFICATION_SENT, intTlv(0x80, seqNumber));
}

export function decodeNotificationSentRequest(bytes: Uint8Array): { readonly seqNumber: number } {
  const t = decodeTop(bytes, TAG_NOTIFICATION_SENT, 'NotificationSentRequest');
  const c = new Children(t, 'BF30');
  const s = c.need(0x80, 'seqNumber');
  return { seqNumber: decodeInt(s, sub('BF30', s), 'seqNumber') };
}

export const encodeNotificationSentResponse = (code: number): Uint8Array => encodeResultResponse(TAG_NOTIFICATION_SENT, code);
export const decodeNotificationSentResponse = (b: Uint8Array): Coded<NotificationSentResultName> =>
  decodeResultResponse(b, TAG_NOTIFICATION_SENT, 'NotificationSentResponse', NotificationSentResult);

// ---------------------------------------------------------------- SetNickname (BF29)

export const SetNicknameResult = namedEnum({ ok: 0, iccidNotFound: 1, undefinedError: 127 });
export type SetNicknameResultName = keyof typeof SetNicknameResult.values;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

export function encodeSetNicknameRequest(r: { readonly iccid: string; readonly nickname: string }): Uint8Array {
  if (utf8Length(r.nickname) > 64) throw new RspEncodeError(`profileNickname is ${utf8Length(r.nickname)} bytes, at most 64 allowed`);
  return tlv(TAG_SET_NICKNAME, tlv(0x5a, iccidToBytes(r.iccid)), utf8Tlv(0x90, r.nickname));
}

export function decodeSetNicknameRequest(bytes: Uint8Array): { readonly iccid: string; readonly nickname: string } {
  const t = decodeTop(bytes, TAG_SET_NICKNAME, 'SetNicknameRequest');
  const c = new Children(t, 'BF29');
  const i = c.need(0x5a, 'iccid');
  const n = c.need(0x90, 'profileNickname');
  const nickname = decodeUtf8(n, sub('BF29', n), 'profileNickname');
  if (utf8Length(nickname) > 64) throw badValue(n, sub('BF29', n), 'profileNickname', 'longer than 64 bytes');
  return { iccid: parseValue(i, sub('BF29', i), 'iccid', iccidFromBytes), nickname };
}

export const encodeSetNicknameResponse = (code: number): Uint8Array => encodeResultResponse(TAG_SET_NICKNAME, code);
export const decodeSetNicknameResponse = (b: Uint8Array): Coded<SetNicknameResultName> => decodeResultResponse(b, TAG_SET_NICKNAME, 'SetNicknameResponse', SetNicknameResult);

// ---------------------------------------------------------------- EuiccConfiguredAddresses (BF3C)

export interface ConfiguredAddresses {
  readonly defaultDpAddress?: string | undefined;
  readonly rootDsAddress: string;
}

export const encodeConfiguredAddressesRequest = (): Uint8Array => encodeEmptyRequest(TAG_CONFIGURED_ADDRESSES);
export const decodeConfiguredAddressesRequest = (b: Uint8Array): void => decodeEmptyRequest(b, TAG_CONFIGURED_ADDRESSES, 'EuiccConfiguredAddressesRequest');

export function encodeConfiguredAddressesResponse(a: ConfiguredAddresses): Uint8Array {
  return tlv(TAG_CONFIGURED_ADDRESSES, ...(a.defaultDpAddress !== undefined ? [utf8Tlv(0x80, a.defaultDpAddress)] : []), utf8Tlv(0x81, a.rootDsAddress));
}

export function decodeConfiguredAddressesResponse(bytes: Uint8Array): ConfiguredAddresses {
  const t = decodeTop(bytes, TAG_CONFIGURED_ADDRESSES, 'EuiccConfiguredAddressesResponse');
  const c = new Children(t, 'BF3C');
  const d = c.opt(0x80, 'defaultDpAddress');
  const r = c.need(0x81, 'rootDsAddress');
  return {
    defaultDpAddress: d ? decodeUtf8(d, sub('BF3C', d), 'defaultDpAddress') : undefined,
    rootDsAddress: decodeUtf8(r, sub('BF3C', r), 'rootDsAddress'),
  };
}

// ---------------------------------------------------------------- SetDefaultDpAddress (BF3F)

export const SetDefaultDpAddressResult = namedEnum({ ok: 0, undefinedError: 127 });
export type SetDefaultDpAddressResultName = keyof typeof SetDefaultDpAddressResult.values;

export function encodeSetDefaultDpAddressRequest(address: string): Uint8Array {
  return tlv(TAG_SET_DEFAULT_DP_ADDRESS, utf8Tlv(0x80, address));
}

export function decodeSetDefaultDpAddressRequest(bytes: Uint8Array): { readonly defaultDpAddress: string } {
  const t = decodeTop(bytes, TAG_SET_DEFAULT_DP_ADDRESS, 'SetDefaultDpAddressRequest');
  const c = new Children(t, 'BF3F');
  const a = c.need(0x80, 'defaultDpAddress');
  return { defaultDpAddress: decodeUtf8(a, sub('BF3F', a), 'defaultDpAddress') };
}

export const encodeSetDefaultDpAddressResponse = (code: number): Uint8Array => encodeResultResponse(TAG_SET_DEFAULT_DP_ADDRESS, code);
export const decodeSetDefaultDpAddressResponse = (b: Uint8Array): Coded<SetDefaultDpAddressResultName> =>
  decodeResultResponse(b, TAG_SET_DEFAULT_DP_ADDRESS, 'SetDefaultDpAddressResponse', SetDefaultDpAddressResult);

// ---------------------------------------------------------------- GetRAT (BF43)

/** pprFlags named bits. */
export const PprFlags = { consentRequired: 0 } as const;

export interface ProfilePolicyAuthorisationRule {
  /** PprIds bit numbers. */
  readonly pprIds: readonly number[];
  readonly allowedOperators: readonly OperatorId[];
  /** pprFlags bit numbers. */
  readonly pprFlags: readonly number[];
}

export const encodeGetRatRequest = (): Uint8Array => encodeEmptyRequest(TAG_GET_RAT);
export const decodeGetRatRequest = (b: Uint8Array): void => decodeEmptyRequest(b, TAG_GET_RAT, 'GetRatRequest');

export function encodeGetRatResponse(rat: readonly ProfilePolicyAuthorisationRule[]): Uint8Array {
  return tlv(
    TAG_GET_RAT,
    tlv(
      0xa0,
      ...rat.map((r) => tlv(0x30, bitsTlv(0x80, r.pprIds), tlv(0xa1, ...r.allowedOperators.map((o) => encodeOperatorId(o, 0x30))), bitsTlv(0x82, r.pprFlags))),
    ),
  );
}

export function decodeGetRatResponse(bytes: Uint8Array): ProfilePolicyAuthorisationRule[] {
  const t = decodeTop(bytes, TAG_GET_RAT, 'GetRatResponse');
  const c = new Children(t, 'BF43');
  const rat = c.need(0xa0, 'rat');
  const p = sub('BF43', rat);
  return itemsOf(rat, p, 0x30, 'ProfilePolicyAuthorisationRule').map((r) => {
    const rp = sub(p, r);
    const rc = new Children(r, rp);
    const ids = rc.need(0x80, 'pprIds');
    const ops = rc.need(0xa1, 'allowedOperators');
    const flags = rc.need(0x82, 'pprFlags');
    const op = sub(rp, ops);
    return {
      pprIds: decodeBits(ids, sub(rp, ids), 'pprIds'),
      allowedOperators: itemsOf(ops, op, 0x30, 'OperatorID').map((o) => decodeOperatorId(o, sub(op, o))),
      pprFlags: decodeBits(flags, sub(rp, flags), 'pprFlags'),
    };
  });
}
