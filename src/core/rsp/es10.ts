/**
 * The SGP.22 ES10 requests the station reuses (v2.x numbering: ES10b/ES10c §5.7), both
 * directions, because the station asks them and the card simulator answers them:
 *
 *   GetEID             BF3E { 5C 01 5A }                    -> BF3E { 5A eid(16) }
 *   GetEUICCInfo2      BF22 {}                               -> BF22 EUICCInfo2
 *   GetProfilesInfo    BF2D { A0 { 4F | 5A | 95 }?, 5C? }   -> BF2D { A0 { E3 ... } } | BF2D { 81 error }
 *   EnableProfile      BF31 { A0 { 4F | 5A }, 81 refresh }   -> BF31 { 80 result }
 *   DisableProfile     BF32 { A0 { 4F | 5A }, 81 refresh }   -> BF32 { 80 result }
 *   DeleteProfile      BF33 { 4F | 5A }                      -> BF33 { 80 result }
 *   eUICCMemoryReset   BF34 { 82 resetOptions }              -> BF34 { 80 result }
 *
 * The A0/81/80 tags come from the module's AUTOMATIC TAGS (a tagged CHOICE is explicit, so the
 * profile identifier sits inside A0; DeleteProfileRequest is itself the CHOICE, so BF33 holds
 * 4F or 5A directly).
 */
import { tagHex, tlv, TlvError, decodeTlvList, type Tlv } from '../tlv/ber-tlv.ts';
import {
  badValue,
  bitsTlv,
  boolTlv,
  Children,
  coded,
  decodeBits,
  decodeBool,
  decodeEmptyRequest,
  decodeInt,
  decodeResultResponse,
  decodeTop,
  decodeUint,
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
  uintValue,
  utf8Tlv,
  versionValue,
  type Coded,
} from './der.ts';
import { eidFromBytes, eidToBytes } from './eid.ts';
import { RspEncodeError } from './errors.ts';
import { iccidFromBytes, iccidToBytes } from './iccid.ts';
import {
  decodeDpProprietaryData,
  decodeNotificationConfigurationInfo,
  decodeOperatorId,
  encodeDpProprietaryData,
  encodeNotificationConfigurationInfo,
  encodeOperatorId,
  type DpProprietaryData,
  type NotificationConfigurationInformation,
  type OperatorId,
} from './metadata.ts';

export const TAG_GET_EUICC_DATA = 0xbf3e;
export const TAG_EUICC_INFO2 = 0xbf22;
export const TAG_PROFILE_INFO_LIST = 0xbf2d;
export const TAG_PROFILE_INFO = 0xe3;
export const TAG_ENABLE_PROFILE = 0xbf31;
export const TAG_DISABLE_PROFILE = 0xbf32;
export const TAG_DELETE_PROFILE = 0xbf33;
export const TAG_MEMORY_RESET = 0xbf34;

// ---------------------------------------------------------------- GetEID (BF3E)

export function encodeGetEidRequest(): Uint8Array {
  return tlv(TAG_GET_EUICC_DATA, tlv(0x5c, Uint8Array.of(0x5a)));
}

/** The tag list asked for (SGP.22 allows only 5A; the card answers an error otherwise). */
export function decodeGetEidRequest(bytes: Uint8Array): { readonly tagList: Uint8Array } {
  const t = decodeTop(bytes, TAG_GET_EUICC_DATA, 'GetEuiccDataRequest');
  const c = new Children(t, 'BF3E');
  const tl = c.need(0x5c, 'tagList');
  return { tagList: octets(tl, sub('BF3E', tl), 'tagList', 1) };
}

export function encodeGetEidResponse(eid: string): Uint8Array {
  return tlv(TAG_GET_EUICC_DATA, tlv(0x5a, eidToBytes(eid)));
}

/** The EID as 32 digits; its check digits must hold unless `verify` is false. */
export function decodeGetEidResponse(bytes: Uint8Array, opts: { verify?: boolean } = {}): string {
  const t = decodeTop(bytes, TAG_GET_EUICC_DATA, 'GetEuiccDataResponse');
  const c = new Children(t, 'BF3E');
  const e = c.need(0x5a, 'eidValue');
  return parseValue(e, sub('BF3E', e), 'eidValue', (v) => eidFromBytes(v, { verify: opts.verify !== false }));
}

// ---------------------------------------------------------------- GetEUICCInfo2 (BF22)

export function encodeGetEuiccInfo2Request(): Uint8Array {
  return encodeEmptyRequest(TAG_EUICC_INFO2);
}

export function decodeGetEuiccInfo2Request(bytes: Uint8Array): void {
  decodeEmptyRequest(bytes, TAG_EUICC_INFO2, 'GetEuiccInfo2Request');
}

/** RspCapability named bits. */
export const RspCapability = { additionalProfile: 0, crlSupport: 1, rpmSupport: 2, testProfileSupport: 3 } as const;

/** UICCCapability named bits (the SIMalliance ServicesList order). */
export const UiccCapability = {
  contactlessSupport: 0,
  usimSupport: 1,
  isimSupport: 2,
  csimSupport: 3,
  akaMilenage: 4,
  akaCave: 5,
  akaTuak128: 6,
  akaTuak256: 7,
  rfu1: 8,
  rfu2: 9,
  gbaAuthenUsim: 10,
  gbaAuthenISim: 11,
  mbmsAuthenUsim: 12,
  eapClient: 13,
  javacard: 14,
  multos: 15,
  multipleUsimSupport: 16,
  multipleIsimSupport: 17,
  multipleCsimSupport: 18,
} as const;

export const EuiccCategory = namedEnum({ other: 0, basicEuicc: 1, mediumEuicc: 2, contactlessEuicc: 3 });

/** ETSI TS 102 226 extended card resource information (81/82/83, unsigned big-endian). */
export interface ExtCardResource {
  readonly installedApplications?: number | undefined;
  /** Free non-volatile memory, bytes. */
  readonly freeNvm?: number | undefined;
  /** Free volatile memory, bytes. */
  readonly freeRam?: number | undefined;
}

export interface CertificationDataObject {
  readonly platformLabel: string;
  readonly discoveryBaseURL: string;
}

export interface EuiccInfo2 {
  /** SIMalliance profile package version, "major.minor.revision". */
  readonly profileVersion: string;
  /** SGP.22 version. */
  readonly svn: string;
  readonly euiccFirmwareVer: string;
  readonly extCardResource: ExtCardResource;
  /** Set UICCCapability bit numbers. */
  readonly uiccCapability: readonly number[];
  readonly javacardVersion?: string | undefined;
  readonly globalplatformVersion?: string | undefined;
  /** Set RspCapability bit numbers. */
  readonly rspCapability: readonly number[];
  /** Subject key identifiers of the CI keys the eUICC verifies with. */
  readonly euiccCiPKIdListForVerification: readonly Uint8Array[];
  /** Subject key identifiers of the CI keys its own certificate chains to. */
  readonly euiccCiPKIdListForSigning: readonly Uint8Array[];
  readonly euiccCategory?: number | undefined;
  readonly forbiddenProfilePolicyRules?: readonly number[] | undefined;
  readonly ppVersion: string;
  readonly sasAcreditationNumber: string;
  readonly certificationDataObject?: CertificationDataObject | undefined;
  /** Elements this module does not define (later SGP.22 versions), raw, appended on encoding. */
  readonly unknown?: readonly Uint8Array[] | undefined;
}

function encodeExtCardResource(r: ExtCardResource): Uint8Array {
  const parts: Uint8Array[] = [];
  if (r.installedApplications !== undefined) parts.push(tlv(0x81, uintValue(r.installedApplications)));
  if (r.freeNvm !== undefined) parts.push(tlv(0x82, uintValue(r.freeNvm)));
  if (r.freeRam !== undefined) parts.push(tlv(0x83, uintValue(r.freeRam)));
  return tlv(0x84, ...parts);
}

function decodeExtCardResource(t: Tlv, path: string): ExtCardResource {
  const v = octets(t, path, 'extCardResource');
  const inner = decodeTlvList(v, t.offset + t.header.length);
  const get = (tag: number, what: string) => {
    const x = inner.find((i) => i.tag === tag);
    return x ? decodeUint(x, sub(path, x), what) : undefined;
  };
  return {
    installedApplications: get(0x81, 'installedApplications'),
    freeNvm: get(0x82, 'freeNonVolatileMemory'),
    freeRam: get(0x83, 'freeVolatileMemory'),
  };
}

function skiList(tag: number, list: readonly Uint8Array[]): Uint8Array {
  return tlv(tag, ...list.map((k) => tlv(0x04, k)));
}

export function encodeEuiccInfo2(i: EuiccInfo2): Uint8Array {
  const v = (tag: number, s: string) => tlv(tag, versionValue(s));
  const cdo = i.certificationDataObject;
  return tlv(
    TAG_EUICC_INFO2,
    v(0x81, i.profileVersion),
    v(0x82, i.svn),
    v(0x83, i.euiccFirmwareVer),
    encodeExtCardResource(i.extCardResource),
    bitsTlv(0x85, i.uiccCapability),
    ...(i.javacardVersion !== undefined ? [v(0x86, i.javacardVersion)] : []),
    ...(i.globalplatformVersion !== undefined ? [v(0x87, i.globalplatformVersion)] : []),
    bitsTlv(0x88, i.rspCapability),
    skiList(0xa9, i.euiccCiPKIdListForVerification),
    skiList(0xaa, i.euiccCiPKIdListForSigning),
    ...(i.euiccCategory !== undefined ? [intTlv(0x8b, i.euiccCategory)] : []),
    ...(i.forbiddenProfilePolicyRules !== undefined ? [bitsTlv(0x99, i.forbiddenProfilePolicyRules)] : []),
    v(0x04, i.ppVersion),
    utf8Tlv(0x0c, i.sasAcreditationNumber),
    ...(cdo ? [tlv(0xac, utf8Tlv(0x80, cdo.platformLabel), utf8Tlv(0x81, cdo.discoveryBaseURL))] : []),
    ...(i.unknown ?? []),
  );
}

export function decodeEuiccInfo2(bytes: Uint8Array): EuiccInfo2 & { readonly raw: Uint8Array } {
  const t = decodeTop(bytes, TAG_EUICC_INFO2, 'EUICCInfo2');
  const P = 'BF22';
  const c = new Children(t, P);
  const ver = (tag: number, what: string) => {
    const x = c.need(tag, what);
    return decodeVersion(x, sub(P, x), what);
  };
  const optVer = (tag: number, what: string) => {
    const x = c.opt(tag, what);
    return x ? decodeVersion(x, sub(P, x), what) : undefined;
  };
  const skis = (tag: number, what: string) => {
    const x = c.need(tag, what);
    const p = sub(P, x);
    return itemsOf(x, p, 0x04, 'SubjectKeyIdentifier').map((k) => octets(k, sub(p, k), 'SubjectKeyIdentifier', 1));
  };
  const profileVersion = ver(0x81, 'profileVersion');
  const svn = ver(0x82, 'svn');
  const euiccFirmwareVer = ver(0x83, 'euiccFirmwareVer');
  const ecr = c.need(0x84, 'extCardResource');
  const uicc = c.need(0x85, 'uiccCapability');
  const javacardVersion = optVer(0x86, 'javacardVersion');
  const globalplatformVersion = optVer(0x87, 'globalplatformVersion');
  const rsp = c.need(0x88, 'rspCapability');
  const forVerification = skis(0xa9, 'euiccCiPKIdListForVerification');
  const forSigning = skis(0xaa, 'euiccCiPKIdListForSigning');
  const cat = c.opt(0x8b, 'euiccCategory');
  const fppr = c.opt(0x99, 'forbiddenProfilePolicyRules');
  const ppVersion = ver(0x04, 'ppVersion');
  const sas = c.need(0x0c, 'sasAcreditationNumber');
  const cdoT = c.opt(0xac, 'certificationDataObject');
  let cdo: CertificationDataObject | undefined;
  if (cdoT) {
    const p = sub(P, cdoT);
    const cc = new Children(cdoT, p);
    const pl = cc.need(0x80, 'platformLabel');
    const url = cc.need(0x81, 'discoveryBaseURL');
    cdo = { platformLabel: decodeUtf8(pl, sub(p, pl), 'platformLabel'), discoveryBaseURL: decodeUtf8(url, sub(p, url), 'discoveryBaseURL') };
  }
  return {
    raw: t.raw,
    profileVersion,
    svn,
    euiccFirmwareVer,
    extCardResource: decodeExtCardResource(ecr, sub(P, ecr)),
    uiccCapability: decodeBits(uicc, sub(P, uicc), 'uiccCapability'),
    javacardVersion,
    globalplatformVersion,
    rspCapability: decodeBits(rsp, sub(P, rsp), 'rspCapability'),
    euiccCiPKIdListForVerification: forVerification,
    euiccCiPKIdListForSigning: forSigning,
    euiccCategory: cat ? decodeInt(cat, sub(P, cat), 'euiccCategory') : undefined,
    forbiddenProfilePolicyRules: fppr ? decodeBits(fppr, sub(P, fppr), 'forbiddenProfilePolicyRules') : undefined,
    ppVersion,
    sasAcreditationNumber: decodeUtf8(sas, sub(P, sas), 'sasAcreditationNumber'),
    certificationDataObject: cdo,
    unknown: c.unknown(),
  };
}

// ---------------------------------------------------------------- profile identifiers

/** A profile named by ICCID or by ISD-P AID. */
export type ProfileId = { readonly iccid: string } | { readonly isdpAid: Uint8Array };

function encodeProfileId(id: ProfileId): Uint8Array {
  if ('iccid' in id) return tlv(0x5a, iccidToBytes(id.iccid));
  if (id.isdpAid.length < 1 || id.isdpAid.length > 16) throw new RspEncodeError(`ISD-P AID must be 1..16 bytes, got ${id.isdpAid.length}`);
  return tlv(0x4f, id.isdpAid);
}

function decodeProfileId(t: Tlv, path: string): ProfileId {
  if (t.tag === 0x5a) return { iccid: parseValue(t, path, 'iccid', iccidFromBytes) };
  if (t.tag === 0x4f) return { isdpAid: octets(t, path, 'isdpAid', 1, 16) };
  throw new TlvError('TLV_UNEXPECTED_TAG', `${path}: expected isdpAid (4F) or iccid (5A)`, t.offset, t.tag);
}

/** The single alternative inside a CHOICE wrapper. */
function onlyChild(t: Tlv, path: string, what: string): Tlv {
  const c = new Children(t, path);
  if (c.list.length !== 1) throw badValue(t, path, what, `must hold exactly one element, found ${c.list.length}`);
  return c.list[0]!;
}

// ---------------------------------------------------------------- GetProfilesInfo (BF2D)

export type ProfileSearchCriteria = ProfileId | { readonly profileClass: number };

export interface ProfileInfoListRequest {
  readonly searchCriteria?: ProfileSearchCriteria | undefined;
  /** Tags of the ProfileInfo fields wanted, concatenated (e.g. 5A 4F 9F70 90 91 92 95). */
  readonly tagList?: Uint8Array | undefined;
}

export function encodeProfileInfoListRequest(r: ProfileInfoListRequest = {}): Uint8Array {
  const sc = r.searchCriteria;
  return tlv(
    TAG_PROFILE_INFO_LIST,
    ...(sc ? [tlv(0xa0, 'profileClass' in sc ? intTlv(0x95, sc.profileClass) : encodeProfileId(sc))] : []),
    ...(r.tagList !== undefined ? [tlv(0x5c, r.tagList)] : []),
  );
}

export function decodeProfileInfoListRequest(bytes: Uint8Array): ProfileInfoListRequest {
  const t = decodeTop(bytes, TAG_PROFILE_INFO_LIST, 'ProfileInfoListRequest');
  const P = 'BF2D';
  const c = new Children(t, P);
  const a0 = c.opt(0xa0, 'searchCriteria');
  const tl = c.opt(0x5c, 'tagList');
  let searchCriteria: ProfileSearchCriteria | undefined;
  if (a0) {
    const p = sub(P, a0);
    const alt = onlyChild(a0, p, 'searchCriteria');
    searchCriteria = alt.tag === 0x95 ? { profileClass: decodeInt(alt, sub(p, alt), 'profileClass') } : decodeProfileId(alt, sub(p, alt));
  }
  return { searchCriteria, tagList: tl ? octets(tl, sub(P, tl), 'tagList') : undefined };
}

export interface ProfileInfo {
  readonly iccid?: string | undefined;
  readonly isdpAid?: Uint8Array | undefined;
  /** ProfileState: 0 disabled, 1 enabled. */
  readonly profileState?: number | undefined;
  readonly profileNickname?: string | undefined;
  readonly serviceProviderName?: string | undefined;
  readonly profileName?: string | undefined;
  readonly iconType?: number | undefined;
  readonly icon?: Uint8Array | undefined;
  /** Absent means operational (DEFAULT), or not asked for in the tag list. */
  readonly profileClass?: number | undefined;
  readonly notificationConfigurationInfo?: readonly NotificationConfigurationInformation[] | undefined;
  readonly profileOwner?: OperatorId | undefined;
  readonly dpProprietaryData?: DpProprietaryData | undefined;
  readonly profilePolicyRules?: readonly number[] | undefined;
  readonly unknown?: readonly Uint8Array[] | undefined;
}

export const ProfileInfoListError = namedEnum({ incorrectInputValues: 1, undefinedError: 127 });
export type ProfileInfoListErrorName = keyof typeof ProfileInfoListError.values;

export type ProfileInfoListResponse =
  | { readonly ok: true; readonly profiles: readonly ProfileInfo[] }
  | { readonly ok: false; readonly error: Coded<ProfileInfoListErrorName> };

function encodeProfileInfo(p: ProfileInfo): Uint8Array {
  const o = <T>(v: T | undefined, f: (v: T) => Uint8Array) => (v !== undefined ? [f(v)] : []);
  return tlv(
    TAG_PROFILE_INFO,
    ...o(p.iccid, (v) => tlv(0x5a, iccidToBytes(v))),
    ...o(p.isdpAid, (v) => tlv(0x4f, v)),
    ...o(p.profileState, (v) => intTlv(0x9f70, v)),
    ...o(p.profileNickname, (v) => utf8Tlv(0x90, v)),
    ...o(p.serviceProviderName, (v) => utf8Tlv(0x91, v)),
    ...o(p.profileName, (v) => utf8Tlv(0x92, v)),
    ...o(p.iconType, (v) => intTlv(0x93, v)),
    ...o(p.icon, (v) => tlv(0x94, v)),
    ...o(p.profileClass, (v) => intTlv(0x95, v)),
    ...o(p.notificationConfigurationInfo, (v) => encodeNotificationConfigurationInfo(v)),
    ...o(p.profileOwner, (v) => encodeOperatorId(v)),
    ...o(p.dpProprietaryData, (v) => encodeDpProprietaryData(v)),
    ...o(p.profilePolicyRules, (v) => bitsTlv(0x99, v)),
    ...(p.unknown ?? []),
  );
}

function decodeProfileInfo(t: Tlv, path: string): ProfileInfo {
  const c = new Children(t, path);
  const f = <T>(tag: number, what: string, dec: (x: Tlv, p: string) => T): T | undefined => {
    const x = c.opt(tag, what);
    return x ? dec(x, sub(path, x)) : undefined;
  };
  return {
    iccid: f(0x5a, 'iccid', (x, p) => parseValue(x, p, 'iccid', iccidFromBytes)),
    isdpAid: f(0x4f, 'isdpAid', (x, p) => octets(x, p, 'isdpAid', 1, 16)),
    profileState: f(0x9f70, 'profileState', (x, p) => decodeInt(x, p, 'profileState')),
    profileNickname: f(0x90, 'profileNickname', (x, p) => decodeUtf8(x, p, 'profileNickname')),
    serviceProviderName: f(0x91, 'serviceProviderName', (x, p) => decodeUtf8(x, p, 'serviceProviderName')),
    profileName: f(0x92, 'profileName', (x, p) => decodeUtf8(x, p, 'profileName')),
    iconType: f(0x93, 'iconType', (x, p) => decodeInt(x, p, 'iconType')),
    icon: f(0x94, 'icon', (x, p) => octets(x, p, 'icon')),
    profileClass: f(0x95, 'profileClass', (x, p) => decodeInt(x, p, 'profileClass')),
    notificationConfigurationInfo: f(0xb6, 'notificationConfigurationInfo', decodeNotificationConfigurationInfo),
    profileOwner: f(0xb7, 'profileOwner', decodeOperatorId),
    dpProprietaryData: f(0xb8, 'dpProprietaryData', decodeDpProprietaryData),
    profilePolicyRules: f(0x99, 'profilePolicyRules', (x, p) => decodeBits(x, p, 'profilePolicyRules')),
    unknown: c.unknown(),
  };
}

export function encodeProfileInfoListResponse(r: ProfileInfoListResponse): Uint8Array {
  if (r.ok) return tlv(TAG_PROFILE_INFO_LIST, tlv(0xa0, ...r.profiles.map(encodeProfileInfo)));
  return tlv(TAG_PROFILE_INFO_LIST, intTlv(0x81, r.error.code));
}

/** Convenience for the card side: an error response by name or code. */
export function profileInfoListError(e: ProfileInfoListErrorName | number): ProfileInfoListResponse {
  const code = typeof e === 'number' ? e : ProfileInfoListError.values[e];
  return { ok: false, error: coded(ProfileInfoListError, code) };
}

export function decodeProfileInfoListResponse(bytes: Uint8Array): ProfileInfoListResponse {
  const t = decodeTop(bytes, TAG_PROFILE_INFO_LIST, 'ProfileInfoListResponse');
  const alt = onlyChild(t, 'BF2D', 'ProfileInfoListResponse');
  const p = sub('BF2D', alt);
  if (alt.tag === 0xa0) {
    return { ok: true, profiles: itemsOf(alt, p, TAG_PROFILE_INFO, 'ProfileInfo').map((x) => decodeProfileInfo(x, sub(p, x))) };
  }
  if (alt.tag === 0x81) return { ok: false, error: coded(ProfileInfoListError, decodeInt(alt, p, 'profileInfoListError')) };
  throw new TlvError('TLV_UNEXPECTED_TAG', `${p}: expected profileInfoListOk (A0) or profileInfoListError (81), found ${tagHex(alt.tag)}`, alt.offset, alt.tag);
}

// ---------------------------------------------------------------- Enable / Disable / Delete

export interface ProfileSwitchRequest {
  readonly profile: ProfileId;
  /** Whether the eUICC must issue a REFRESH. */
  readonly refreshFlag: boolean;
}

function encodeSwitch(tag: number, r: ProfileSwitchRequest): Uint8Array {
  return tlv(tag, tlv(0xa0, encodeProfileId(r.profile)), boolTlv(0x81, r.refreshFlag));
}

function decodeSwitch(bytes: Uint8Array, tag: number, what: string): ProfileSwitchRequest {
  const t = decodeTop(bytes, tag, what);
  const P = tagHex(tag);
  const c = new Children(t, P);
  const a0 = c.need(0xa0, 'profileIdentifier');
  const rf = c.need(0x81, 'refreshFlag');
  const p = sub(P, a0);
  const id = onlyChild(a0, p, 'profileIdentifier');
  return { profile: decodeProfileId(id, sub(p, id)), refreshFlag: decodeBool(rf, sub(P, rf), 'refreshFlag') };
}

export const EnableResult = namedEnum({
  ok: 0,
  iccidOrAidNotFound: 1,
  profileNotInDisabledState: 2,
  disallowedByPolicy: 3,
  wrongProfileReenabling: 4,
  undefinedError: 127,
});
export type EnableResultName = keyof typeof EnableResult.values;

export const DisableResult = namedEnum({
  ok: 0,
  iccidOrAidNotFound: 1,
  profileNotInEnabledState: 2,
  disallowedByPolicy: 3,
  undefinedError: 127,
});
export type DisableResultName = keyof typeof DisableResult.values;

export const DeleteResult = namedEnum({
  ok: 0,
  iccidOrAidNotFound: 1,
  profileNotInDisabledState: 2,
  disallowedByPolicy: 3,
  undefinedError: 127,
});
export type DeleteResultName = keyof typeof DeleteResult.values;

export const encodeEnableProfileRequest = (r: ProfileSwitchRequest): Uint8Array => encodeSwitch(TAG_ENABLE_PROFILE, r);
export const decodeEnableProfileRequest = (b: Uint8Array): ProfileSwitchRequest => decodeSwitch(b, TAG_ENABLE_PROFILE, 'EnableProfileRequest');
export const encodeEnableProfileResponse = (code: number): Uint8Array => encodeResultResponse(TAG_ENABLE_PROFILE, code);
export const decodeEnableProfileResponse = (b: Uint8Array): Coded<EnableResultName> =>
  decodeResultResponse(b, TAG_ENABLE_PROFILE, 'EnableProfileResponse', EnableResult);

export const encodeDisableProfileRequest = (r: ProfileSwitchRequest): Uint8Array => encodeSwitch(TAG_DISABLE_PROFILE, r);
export const decodeDisableProfileRequest = (b: Uint8Array): ProfileSwitchRequest => decodeSwitch(b, TAG_DISABLE_PROFILE, 'DisableProfileRequest');
export const encodeDisableProfileResponse = (code: number): Uint8Array => encodeResultResponse(TAG_DISABLE_PROFILE, code);
export const decodeDisableProfileResponse = (b: Uint8Array): Coded<DisableResultName> =>
  decodeResultResponse(b, TAG_DISABLE_PROFILE, 'DisableProfileResponse', DisableResult);

export function encodeDeleteProfileRequest(id: ProfileId): Uint8Array {
  return tlv(TAG_DELETE_PROFILE, encodeProfileId(id));
}

export function decodeDeleteProfileRequest(bytes: Uint8Array): ProfileId {
  const t = decodeTop(bytes, TAG_DELETE_PROFILE, 'DeleteProfileRequest');
  const id = onlyChild(t, 'BF33', 'DeleteProfileRequest');
  return decodeProfileId(id, sub('BF33', id));
}

export const encodeDeleteProfileResponse = (code: number): Uint8Array => encodeResultResponse(TAG_DELETE_PROFILE, code);
export const decodeDeleteProfileResponse = (b: Uint8Array): Coded<DeleteResultName> =>
  decodeResultResponse(b, TAG_DELETE_PROFILE, 'DeleteProfileResponse', DeleteResult);

// ---------------------------------------------------------------- eUICCMemoryReset (BF34)

/** resetOptions named bits. */
export const ResetOptions = { deleteOperationalProfiles: 0, deleteFieldLoadedTestProfiles: 1, resetDefaultSmdpAddress: 2 } as const;

export const MemoryResetResult = namedEnum({ ok: 0, nothingToDelete: 1, undefinedError: 127 });
export type MemoryResetResultName = keyof typeof MemoryResetResult.values;

export function encodeMemoryResetRequest(resetOptions: readonly number[]): Uint8Array {
  return tlv(TAG_MEMORY_RESET, bitsTlv(0x82, resetOptions));
}

/** The set resetOptions bit numbers. */
export function decodeMemoryResetRequest(bytes: Uint8Array): { readonly resetOptions: number[] } {
  const t = decodeTop(bytes, TAG_MEMORY_RESET, 'EuiccMemoryResetRequest');
  const c = new Children(t, 'BF34');
  const o = c.need(0x82, 'resetOptions');
  return { resetOptions: decodeBits(o, sub('BF34', o), 'resetOptions') };
}

export const encodeMemoryResetResponse = (code: number): Uint8Array => encodeResultResponse(TAG_MEMORY_RESET, code);
export const decodeMemoryResetResponse = (b: Uint8Array): Coded<MemoryResetResultName> =>
  decodeResultResponse(b, TAG_MEMORY_RESET, 'EuiccMemoryResetResponse', MemoryResetResult);
