/**
 * The plaintext commands carried inside a BPP (SGP.22 v2.x §2.5 and ES8+ §5.5) that the binder
 * protects and the simulated eUICC unprotects and executes:
 *
 *   ConfigureISDPRequest      BF24 { B8 dpProprietaryData { 80 dpOid, ... }? }
 *   StoreMetadataRequest      BF25 { 5A iccid, 91 serviceProviderName, 92 profileName,
 *                                    93 iconType?, 94 icon?, 95 profileClass?,
 *                                    B6 notificationConfigurationInfo?, B7 profileOwner?,
 *                                    99 profilePolicyRules? }
 *   ReplaceSessionKeysRequest BF26 { 80 initialMacChainingValue, 81 ppkEnc, 82 ppkCmac }
 *
 * AUTOMATIC TAGS gives DpProprietaryData's dpOid the tag 80 (not the universal 06), the
 * NotificationConfigurationInformation items 30 { 80 bits, 81 address }, OperatorID
 * { 80 mccMnc, 81 gid1, 82 gid2 } and BF26 80/81/82. The sub-structures are shared with
 * ProfileInfo (es10.ts).
 */
import { tlv, TlvError, type Tlv } from '../tlv/ber-tlv.ts';
import {
  bitsTlv,
  Children,
  decodeBits,
  decodeInt,
  decodeOid,
  decodeTop,
  decodeUtf8,
  intTlv,
  itemsOf,
  namedEnum,
  octets,
  oidTlv,
  parseValue,
  sub,
  utf8Tlv,
} from './der.ts';
import { RspEncodeError } from './errors.ts';
import { iccidFromBytes, iccidToBytes } from './iccid.ts';

export const TAG_CONFIGURE_ISDP = 0xbf24;
export const TAG_STORE_METADATA = 0xbf25;
export const TAG_REPLACE_SESSION_KEYS = 0xbf26;

export const ProfileClass = namedEnum({ test: 0, provisioning: 1, operational: 2 });
export type ProfileClassName = keyof typeof ProfileClass.values;
export const IconType = namedEnum({ jpg: 0, png: 1 });
export const ProfileState = namedEnum({ disabled: 0, enabled: 1 });

/** PprIds named bits. */
export const PprIds = { pprUpdateControl: 0, ppr1: 1, ppr2: 2, ppr3: 3 } as const;

// ---------------------------------------------------------------- shared sub-structures

export interface DpProprietaryData {
  readonly dpOid: string;
  /** Further SM-DP data objects, raw TLVs, kept in order. */
  readonly extra?: readonly Uint8Array[] | undefined;
}

export function encodeDpProprietaryData(d: DpProprietaryData, tag = 0xb8): Uint8Array {
  return tlv(tag, oidTlv(0x80, d.dpOid), ...(d.extra ?? []));
}

/** Accepts dpOid as 80 (per the module's automatic tagging) or, tolerantly, as universal 06. */
export function decodeDpProprietaryData(t: Tlv, path: string): DpProprietaryData {
  const c = new Children(t, path);
  const first = c.list[0];
  if (!first || (first.tag !== 0x80 && first.tag !== 0x06)) {
    throw new TlvError('TLV_MISSING_ELEMENT', `${sub(path, 0x80)} (dpOid) missing`, t.offset, t.tag);
  }
  return {
    dpOid: decodeOid(first, sub(path, first), 'dpOid'),
    extra: c.list.slice(1).map((x) => x.raw),
  };
}

export interface NotificationConfigurationInformation {
  /** Set NotificationEvent bit numbers. */
  readonly profileManagementOperation: readonly number[];
  readonly notificationAddress: string;
}

export function encodeNotificationConfigurationInfo(list: readonly NotificationConfigurationInformation[], tag = 0xb6): Uint8Array {
  return tlv(
    tag,
    ...list.map((n) => tlv(0x30, bitsTlv(0x80, n.profileManagementOperation), utf8Tlv(0x81, n.notificationAddress))),
  );
}

export function decodeNotificationConfigurationInfo(t: Tlv, path: string): NotificationConfigurationInformation[] {
  return itemsOf(t, path, 0x30, 'NotificationConfigurationInformation').map((it) => {
    const p = sub(path, it);
    const c = new Children(it, p);
    const op = c.need(0x80, 'profileManagementOperation');
    const addr = c.need(0x81, 'notificationAddress');
    return {
      profileManagementOperation: decodeBits(op, sub(p, op), 'profileManagementOperation'),
      notificationAddress: decodeUtf8(addr, sub(p, addr), 'notificationAddress'),
    };
  });
}

export interface OperatorId {
  /** 3 bytes, MCC/MNC as in 3GPP TS 24.008. */
  readonly mccMnc: Uint8Array;
  readonly gid1?: Uint8Array | undefined;
  readonly gid2?: Uint8Array | undefined;
}

export function encodeOperatorId(o: OperatorId, tag = 0xb7): Uint8Array {
  if (o.mccMnc.length !== 3) throw new RspEncodeError(`mccMnc must be 3 bytes, got ${o.mccMnc.length}`);
  return tlv(
    tag,
    tlv(0x80, o.mccMnc),
    ...(o.gid1 !== undefined ? [tlv(0x81, o.gid1)] : []),
    ...(o.gid2 !== undefined ? [tlv(0x82, o.gid2)] : []),
  );
}

export function decodeOperatorId(t: Tlv, path: string): OperatorId {
  const c = new Children(t, path);
  const mm = c.need(0x80, 'mccMnc');
  const g1 = c.opt(0x81, 'gid1');
  const g2 = c.opt(0x82, 'gid2');
  return {
    mccMnc: octets(mm, sub(path, mm), 'mccMnc', 3, 3),
    gid1: g1 ? octets(g1, sub(path, g1), 'gid1') : undefined,
    gid2: g2 ? octets(g2, sub(path, g2), 'gid2') : undefined,
  };
}

// ---------------------------------------------------------------- ConfigureISDP (BF24)

export interface ConfigureIsdpRequest {
  readonly dpProprietaryData?: DpProprietaryData | undefined;
}

export function encodeConfigureIsdp(r: ConfigureIsdpRequest = {}): Uint8Array {
  return tlv(TAG_CONFIGURE_ISDP, ...(r.dpProprietaryData ? [encodeDpProprietaryData(r.dpProprietaryData)] : []));
}

export function decodeConfigureIsdp(bytes: Uint8Array): ConfigureIsdpRequest {
  const t = decodeTop(bytes, TAG_CONFIGURE_ISDP, 'ConfigureISDPRequest');
  const c = new Children(t, 'BF24');
  const dp = c.opt(0xb8, 'dpProprietaryData');
  return { dpProprietaryData: dp ? decodeDpProprietaryData(dp, sub('BF24', dp)) : undefined };
}

// ---------------------------------------------------------------- StoreMetadata (BF25)

export interface ProfileMetadata {
  readonly iccid: string;
  readonly serviceProviderName: string;
  readonly profileName: string;
  readonly iconType?: number | undefined;
  readonly icon?: Uint8Array | undefined;
  /** Absent means operational. */
  readonly profileClass?: number | undefined;
  readonly notificationConfigurationInfo?: readonly NotificationConfigurationInformation[] | undefined;
  readonly profileOwner?: OperatorId | undefined;
  /** Set PprIds bit numbers. */
  readonly profilePolicyRules?: readonly number[] | undefined;
  /** Extension elements (raw TLVs): kept by the decoder, appended by the encoder. */
  readonly unknown?: readonly Uint8Array[] | undefined;
}

export interface StoreMetadataRequest extends ProfileMetadata {
  readonly raw: Uint8Array;
}

export function encodeStoreMetadata(m: ProfileMetadata): Uint8Array {
  if (m.icon !== undefined && m.iconType === undefined) throw new RspEncodeError('icon given without iconType');
  return tlv(
    TAG_STORE_METADATA,
    tlv(0x5a, iccidToBytes(m.iccid)),
    utf8Tlv(0x91, m.serviceProviderName),
    utf8Tlv(0x92, m.profileName),
    ...(m.iconType !== undefined ? [intTlv(0x93, m.iconType)] : []),
    ...(m.icon !== undefined ? [tlv(0x94, m.icon)] : []),
    ...(m.profileClass !== undefined ? [intTlv(0x95, m.profileClass)] : []),
    ...(m.notificationConfigurationInfo !== undefined ? [encodeNotificationConfigurationInfo(m.notificationConfigurationInfo)] : []),
    ...(m.profileOwner !== undefined ? [encodeOperatorId(m.profileOwner)] : []),
    ...(m.profilePolicyRules !== undefined ? [bitsTlv(0x99, m.profilePolicyRules)] : []),
    ...(m.unknown ?? []),
  );
}

export function decodeStoreMetadata(bytes: Uint8Array): StoreMetadataRequest {
  const t = decodeTop(bytes, TAG_STORE_METADATA, 'StoreMetadataRequest');
  const P = 'BF25';
  const c = new Children(t, P);
  const iccid = c.need(0x5a, 'iccid');
  const spn = c.need(0x91, 'serviceProviderName');
  const name = c.need(0x92, 'profileName');
  const iconType = c.opt(0x93, 'iconType');
  const icon = c.opt(0x94, 'icon');
  const cls = c.opt(0x95, 'profileClass');
  const nci = c.opt(0xb6, 'notificationConfigurationInfo');
  const owner = c.opt(0xb7, 'profileOwner');
  const ppr = c.opt(0x99, 'profilePolicyRules');
  return {
    raw: t.raw,
    iccid: parseValue(iccid, sub(P, iccid), 'iccid', iccidFromBytes),
    serviceProviderName: decodeUtf8(spn, sub(P, spn), 'serviceProviderName'),
    profileName: decodeUtf8(name, sub(P, name), 'profileName'),
    iconType: iconType ? decodeInt(iconType, sub(P, iconType), 'iconType') : undefined,
    icon: icon ? octets(icon, sub(P, icon), 'icon') : undefined,
    profileClass: cls ? decodeInt(cls, sub(P, cls), 'profileClass') : undefined,
    notificationConfigurationInfo: nci ? decodeNotificationConfigurationInfo(nci, sub(P, nci)) : undefined,
    profileOwner: owner ? decodeOperatorId(owner, sub(P, owner)) : undefined,
    profilePolicyRules: ppr ? decodeBits(ppr, sub(P, ppr), 'profilePolicyRules') : undefined,
    unknown: c.unknown(),
  };
}

// ---------------------------------------------------------------- ReplaceSessionKeys (BF26)

export interface ReplaceSessionKeysRequest {
  readonly initialMacChainingValue: Uint8Array;
  readonly ppkEnc: Uint8Array;
  readonly ppkCmac: Uint8Array;
}

/** Sizes are not fixed by the module; the BSP layer checks them against the key length. */
export function encodeReplaceSessionKeys(r: ReplaceSessionKeysRequest): Uint8Array {
  for (const [n, v] of Object.entries(r) as [string, Uint8Array][]) if (v.length === 0) throw new RspEncodeError(`${n} is empty`);
  return tlv(TAG_REPLACE_SESSION_KEYS, tlv(0x80, r.initialMacChainingValue), tlv(0x81, r.ppkEnc), tlv(0x82, r.ppkCmac));
}

export function decodeReplaceSessionKeys(bytes: Uint8Array): ReplaceSessionKeysRequest {
  const t = decodeTop(bytes, TAG_REPLACE_SESSION_KEYS, 'ReplaceSessionKeysRequest');
  const P = 'BF26';
  const c = new Children(t, P);
  const mcv = c.need(0x80, 'initialMacChainingValue');
  const enc = c.need(0x81, 'ppkEnc');
  const mac = c.need(0x82, 'ppkCmac');
  return {
    initialMacChainingValue: octets(mcv, sub(P, mcv), 'initialMacChainingValue', 1),
    ppkEnc: octets(enc, sub(P, enc), 'ppkEnc', 1),
    ppkCmac: octets(mac, sub(P, mac), 'ppkCmac', 1),
  };
}
