/**
 * The chip's installed profiles (ES10c on the simulated eUICC): listing with search criteria
 * and tag lists, enable / disable / delete, eUICC memory reset, ISD-P AID allocation. Pure
 * functions over ChipState; the caller persists after a change.
 */
import { bytesEqual, concatBytes, fromHex, uintBytes } from '../../core/bytes.ts';
import { decodeTlv, readHeader } from '../../core/tlv/ber-tlv.ts';
import {
  DeleteResult,
  DisableResult,
  EnableResult,
  MemoryResetResult,
  ResetOptions,
  type ProfileId,
  type ProfileInfo,
  type ProfileInfoListRequest,
  type ProfileInfoListResponse,
} from '../../core/rsp/es10.ts';
import { parseIccid } from '../../core/rsp/iccid.ts';
import { decodeDpProprietaryData, decodeStoreMetadata, ProfileClass } from '../../core/rsp/metadata.ts';
import type { ChipState, InstalledProfile } from './chip-state.ts';

/** ISD-R AID (SGP.22 §2.2.3). */
export const ISDR_AID = fromHex('A0000005591010FFFFFFFF8900000100');
const ISDP_PREFIX = fromHex('A0000005591010FFFFFFFF89');

/** The n-th ISD-P AID this chip allocates: A0000005591010FFFFFFFF89 00001000, 00001100, ... */
export function isdpAidFor(n: number): Uint8Array {
  return concatBytes(ISDP_PREFIX, uintBytes(0x1000 + n * 0x100, 4));
}

export function usedNvm(state: ChipState): number {
  return state.profiles.reduce((n, p) => n + p.uppBytes, 0);
}

function sameIccid(a: string, b: string): boolean {
  try {
    return parseIccid(a) === parseIccid(b);
  } catch {
    return false;
  }
}

export function profileByIccid(state: ChipState, iccid: string): InstalledProfile | undefined {
  return state.profiles.find((p) => sameIccid(p.iccid, iccid));
}

export function findProfile(state: ChipState, id: ProfileId): InstalledProfile | undefined {
  if ('iccid' in id) return profileByIccid(state, id.iccid);
  return state.profiles.find((p) => bytesEqual(fromHex(p.isdpAid), id.isdpAid));
}

/** Everything the chip knows about a profile, as ProfileInfo (E3). */
export function profileInfoOf(p: InstalledProfile): ProfileInfo {
  const m = decodeStoreMetadata(fromHex(p.metadata));
  const dp = p.dpProprietaryData !== undefined ? decodeTlv(fromHex(p.dpProprietaryData)) : undefined;
  return {
    iccid: p.iccid,
    isdpAid: fromHex(p.isdpAid),
    profileState: p.state === 'enabled' ? 1 : 0,
    profileNickname: p.nickname,
    serviceProviderName: m.serviceProviderName,
    profileName: m.profileName,
    iconType: m.iconType,
    icon: m.icon,
    // Explicit even when the metadata left it at its DEFAULT, as real cards answer.
    profileClass: m.profileClass ?? ProfileClass.values.operational,
    notificationConfigurationInfo: m.notificationConfigurationInfo,
    profileOwner: m.profileOwner,
    dpProprietaryData: dp ? decodeDpProprietaryData(dp, 'B8') : undefined,
    profilePolicyRules: m.profilePolicyRules,
  };
}

/** Profile class with the ASN.1 DEFAULT applied (absent = operational). */
export function classOf(p: InstalledProfile): number {
  return decodeStoreMetadata(fromHex(p.metadata)).profileClass ?? ProfileClass.values.operational;
}

/** Tags of a tag list (5C): concatenated BER tags, e.g. 5A 4F 9F70. */
export function tagsOfTagList(list: Uint8Array): number[] | undefined {
  const out: number[] = [];
  let p = 0;
  while (p < list.length) {
    // readHeader needs a length byte after the tag; give it one.
    const first = list[p]!;
    let n = 1;
    if ((first & 0x1f) === 0x1f) {
      while (p + n < list.length && list[p + n]! & 0x80) n++;
      n++;
    }
    if (p + n > list.length) return undefined;
    try {
      out.push(readHeader(concatBytes(list.subarray(p, p + n), Uint8Array.of(0))).tag);
    } catch {
      return undefined;
    }
    p += n;
  }
  return out;
}

const FIELD_TAGS: readonly [keyof ProfileInfo, number][] = [
  ['iccid', 0x5a],
  ['isdpAid', 0x4f],
  ['profileState', 0x9f70],
  ['profileNickname', 0x90],
  ['serviceProviderName', 0x91],
  ['profileName', 0x92],
  ['iconType', 0x93],
  ['icon', 0x94],
  ['profileClass', 0x95],
  ['notificationConfigurationInfo', 0xb6],
  ['profileOwner', 0xb7],
  ['dpProprietaryData', 0xb8],
  ['profilePolicyRules', 0x99],
];

function onlyTags(info: ProfileInfo, tags: readonly number[]): ProfileInfo {
  const out: Record<string, unknown> = {};
  for (const [field, tag] of FIELD_TAGS) if (tags.includes(tag)) out[field] = info[field];
  return out as ProfileInfo;
}

/** GetProfilesInfo: search criteria select profiles, a tag list selects fields. */
export function listProfiles(state: ChipState, req: ProfileInfoListRequest): ProfileInfoListResponse {
  let tags: number[] | undefined;
  if (req.tagList !== undefined) {
    tags = tagsOfTagList(req.tagList);
    if (!tags) return { ok: false, error: { code: 1, name: 'incorrectInputValues' } };
  }
  const sc = req.searchCriteria;
  const selected = state.profiles.filter((p) => {
    if (!sc) return true;
    if ('profileClass' in sc) return classOf(p) === sc.profileClass;
    return findProfile(state, sc) === p;
  });
  return { ok: true, profiles: selected.map((p) => (tags ? onlyTags(profileInfoOf(p), tags) : profileInfoOf(p))) };
}

export function enableProfile(state: ChipState, id: ProfileId): number {
  const p = findProfile(state, id);
  if (!p) return EnableResult.values.iccidOrAidNotFound;
  if (p.state !== 'disabled') return EnableResult.values.profileNotInDisabledState;
  // One enabled profile at a time: enabling switches the current one off (SGP.22 §3.2.1).
  for (const q of state.profiles) q.state = 'disabled';
  p.state = 'enabled';
  return EnableResult.values.ok;
}

export function disableProfile(state: ChipState, id: ProfileId): number {
  const p = findProfile(state, id);
  if (!p) return DisableResult.values.iccidOrAidNotFound;
  if (p.state !== 'enabled') return DisableResult.values.profileNotInEnabledState;
  p.state = 'disabled';
  return DisableResult.values.ok;
}

export function deleteProfile(state: ChipState, id: ProfileId): number {
  const p = findProfile(state, id);
  if (!p) return DeleteResult.values.iccidOrAidNotFound;
  if (p.state !== 'disabled') return DeleteResult.values.profileNotInDisabledState;
  state.profiles = state.profiles.filter((q) => q !== p);
  return DeleteResult.values.ok;
}

/**
 * eUICCMemoryReset: deleteOperationalProfiles removes operational (and class-less) profiles,
 * deleteFieldLoadedTestProfiles removes test profiles; provisioning profiles stay;
 * resetDefaultSmdpAddress removes the address SetDefaultDpAddress configured.
 */
export function memoryReset(state: ChipState, resetOptions: readonly number[]): number {
  const ops = resetOptions.includes(ResetOptions.deleteOperationalProfiles);
  const tests = resetOptions.includes(ResetOptions.deleteFieldLoadedTestProfiles);
  const address = resetOptions.includes(ResetOptions.resetDefaultSmdpAddress) && state.defaultDpAddress !== undefined;
  const doomed = state.profiles.filter((p) => {
    const c = classOf(p);
    return (ops && c === ProfileClass.values.operational) || (tests && c === ProfileClass.values.test);
  });
  if (doomed.length === 0 && !address) return MemoryResetResult.values.nothingToDelete;
  state.profiles = state.profiles.filter((p) => !doomed.includes(p));
  if (address) delete state.defaultDpAddress;
  return MemoryResetResult.values.ok;
}
