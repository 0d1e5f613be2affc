/**
 * ProfileInstallationResult (BF37, SGP.22 v2.x §5.7, ES10b.LoadBoundProfilePackage), the
 * eUICC-signed answer to a BPP load:
 *
 *   BF37 { BF27 ProfileInstallationResultData {
 *            80 transactionId,
 *            BF2F notificationMetadata { 80 seqNumber, 81 profileManagementOperation,
 *                                        0C notificationAddress, 5A iccid? },
 *            06 smdpOid?,
 *            A2 finalResult { A0 successResult { 4F aid, 04 simaResponse }
 *                           | A1 errorResult { 80 bppCommandId, 81 errorReason, 82 simaResponse? } } },
 *          5F37 euiccSignPIR }
 *
 * Tags follow the module's AUTOMATIC TAGS: the CHOICE alternatives become A0/A1 and the
 * untagged ErrorResult components 80/81/82, while SuccessResult keeps 4F and a universal 04.
 * euiccSignPIR is made over the whole BF27 TLV: the decoder keeps it exactly as received
 * (`bf27Raw`) so verification never depends on a re-encoding.
 */
import { concatBytes, toHex } from '../bytes.ts';
import { tlv, TlvError, type Tlv } from '../tlv/ber-tlv.ts';
import {
  badValue,
  bitsTlv,
  Children,
  decodeBits,
  decodeInt,
  decodeOid,
  decodeTop,
  decodeUtf8,
  intTlv,
  namedEnum,
  octets,
  oidTlv,
  parseValue,
  sub,
  utf8Tlv,
} from './der.ts';
import { RspEncodeError } from './errors.ts';
import { iccidFromBytes, iccidToBytes } from './iccid.ts';

export const TAG_PIR = 0xbf37;
export const TAG_PIR_DATA = 0xbf27;
export const TAG_NOTIFICATION_METADATA = 0xbf2f;

export const BppCommandId = namedEnum({
  initialiseSecureChannel: 0,
  configureISDP: 1,
  storeMetadata: 2,
  storeMetadata2: 3,
  replaceSessionKeys: 4,
  loadProfileElements: 5,
});
export type BppCommandIdName = keyof typeof BppCommandId.values;

export const ErrorReason = namedEnum({
  incorrectInputValues: 1,
  invalidSignature: 2,
  invalidTransactionId: 3,
  unsupportedCrtValues: 4,
  unsupportedRemoteOperationType: 5,
  unsupportedProfileClass: 6,
  scp03tStructureError: 7,
  scp03tSecurityError: 8,
  installFailedDueToIccidAlreadyExistsOnEuicc: 9,
  installFailedDueToInsufficientMemoryForProfile: 10,
  installFailedDueToInterruption: 11,
  installFailedDueToPEProcessingError: 12,
  installFailedDueToIccidMismatch: 13,
  testProfileInstallFailedDueToInvalidNaaKey: 14,
  pprNotAllowed: 15,
  installFailedDueToUnknownError: 127,
});
export type ErrorReasonName = keyof typeof ErrorReason.values;

/** NotificationEvent named bits (profileManagementOperation). */
export const NotificationEvent = {
  notificationInstall: 0,
  notificationEnable: 1,
  notificationDisable: 2,
  notificationDelete: 3,
} as const;

export interface NotificationMetadata {
  readonly seqNumber: number;
  /** Set bit numbers of NotificationEvent (one bit for a real notification). */
  readonly profileManagementOperation: readonly number[];
  readonly notificationAddress: string;
  readonly iccid?: string | undefined;
}

export interface SuccessResult {
  readonly kind: 'success';
  /** 4F: AID of the ISD-P (5..16 bytes). */
  readonly aid: Uint8Array;
  /** 04: EUICCResponse(s) of the SIMalliance interpreter (mandatory in the module, tolerated absent). */
  readonly simaResponse?: Uint8Array | undefined;
}

export interface ErrorResult {
  readonly kind: 'error';
  readonly bppCommandId: number;
  readonly errorReason: number;
  readonly simaResponse?: Uint8Array | undefined;
}

export type FinalResult = SuccessResult | ErrorResult;

export interface PirData {
  readonly transactionId: Uint8Array;
  readonly notificationMetadata: NotificationMetadata;
  /** Dotted OID of the SM-DP (as in CERT.DPpb). */
  readonly smdpOid?: string | undefined;
  readonly finalResult: FinalResult;
}

export interface Pir extends PirData {
  /** The whole BF37 as received. */
  readonly raw: Uint8Array;
  /** The BF27 TLV exactly as received: the data euiccSignPIR covers. */
  readonly bf27Raw: Uint8Array;
  /** 5F37 euiccSignPIR, r||s. */
  readonly signature: Uint8Array;
}

// ---------------------------------------------------------------- NotificationMetadata

export function encodeNotificationMetadata(m: NotificationMetadata): Uint8Array {
  return tlv(
    TAG_NOTIFICATION_METADATA,
    intTlv(0x80, m.seqNumber),
    bitsTlv(0x81, m.profileManagementOperation),
    utf8Tlv(0x0c, m.notificationAddress),
    ...(m.iccid !== undefined ? [tlv(0x5a, iccidToBytes(m.iccid))] : []),
  );
}

export function decodeNotificationMetadataTlv(t: Tlv, path: string): NotificationMetadata {
  const c = new Children(t, path);
  const seq = c.need(0x80, 'seqNumber');
  const op = c.need(0x81, 'profileManagementOperation');
  const addr = c.need(0x0c, 'notificationAddress');
  const iccid = c.opt(0x5a, 'iccid');
  return {
    seqNumber: decodeInt(seq, sub(path, seq), 'seqNumber'),
    profileManagementOperation: decodeBits(op, sub(path, op), 'profileManagementOperation'),
    notificationAddress: decodeUtf8(addr, sub(path, addr), 'notificationAddress'),
    iccid: iccid ? parseValue(iccid, sub(path, iccid), 'iccid', iccidFromBytes) : undefined,
  };
}

// ---------------------------------------------------------------- decoding

function decodeFinalResult(t: Tlv, path: string): FinalResult {
  const c = new Children(t, path);
  if (c.list.length !== 1) {
    throw badValue(t, path, 'finalResult', `must hold exactly one of successResult (A0) / errorResult (A1), found ${c.list.length} elements`);
  }
  const alt = c.list[0]!;
  const p = sub(path, alt);
  if (alt.tag === 0xa0) {
    const s = new Children(alt, p);
    const aid = s.need(0x4f, 'aid');
    const sima = s.opt(0x04, 'simaResponse');
    return {
      kind: 'success',
      aid: octets(aid, sub(p, aid), 'aid', 5, 16),
      simaResponse: sima ? octets(sima, sub(p, sima), 'simaResponse') : undefined,
    };
  }
  if (alt.tag === 0xa1) {
    const e = new Children(alt, p);
    const cmd = e.need(0x80, 'bppCommandId');
    const reason = e.need(0x81, 'errorReason');
    const sima = e.opt(0x82, 'simaResponse');
    return {
      kind: 'error',
      bppCommandId: decodeInt(cmd, sub(p, cmd), 'bppCommandId'),
      errorReason: decodeInt(reason, sub(p, reason), 'errorReason'),
      simaResponse: sima ? octets(sima, sub(p, sima), 'simaResponse') : undefined,
    };
  }
  throw new TlvError('TLV_UNEXPECTED_TAG', `${p}: finalResult must be successResult (A0) or errorResult (A1)`, alt.offset, alt.tag);
}

function decodePirDataTlv(t: Tlv, path: string): PirData {
  const c = new Children(t, path);
  const tid = c.need(0x80, 'transactionId');
  const nm = c.need(TAG_NOTIFICATION_METADATA, 'notificationMetadata');
  const oid = c.opt(0x06, 'smdpOid');
  const fr = c.need(0xa2, 'finalResult');
  return {
    transactionId: octets(tid, sub(path, tid), 'transactionId', 1, 16),
    notificationMetadata: decodeNotificationMetadataTlv(nm, sub(path, nm)),
    smdpOid: oid ? decodeOid(oid, sub(path, oid), 'smdpOid') : undefined,
    finalResult: decodeFinalResult(fr, sub(path, fr)),
  };
}

export function decodePir(bytes: Uint8Array): Pir {
  const top = decodeTop(bytes, TAG_PIR, 'ProfileInstallationResult');
  const c = new Children(top, 'BF37');
  const data = c.need(TAG_PIR_DATA, 'profileInstallationResultData');
  const sig = c.need(0x5f37, 'euiccSignPIR');
  return {
    ...decodePirDataTlv(data, sub('BF37', data)),
    raw: top.raw,
    bf27Raw: data.raw,
    signature: octets(sig, sub('BF37', sig), 'euiccSignPIR', 1),
  };
}

// ---------------------------------------------------------------- encoding

function encodeFinalResult(r: FinalResult): Uint8Array {
  if (r.kind === 'success') {
    if (r.aid.length < 5 || r.aid.length > 16) throw new RspEncodeError(`ISD-P AID must be 5..16 bytes, got ${r.aid.length}`);
    return tlv(0xa2, tlv(0xa0, tlv(0x4f, r.aid), tlv(0x04, r.simaResponse ?? new Uint8Array(0))));
  }
  return tlv(
    0xa2,
    tlv(
      0xa1,
      intTlv(0x80, r.bppCommandId),
      intTlv(0x81, r.errorReason),
      ...(r.simaResponse !== undefined ? [tlv(0x82, r.simaResponse)] : []),
    ),
  );
}

/** The BF27 ProfileInstallationResultData TLV (the signed part). */
export function encodePirData(p: PirData): Uint8Array {
  if (p.transactionId.length < 1 || p.transactionId.length > 16) {
    throw new RspEncodeError(`transactionId must be 1..16 bytes, got ${p.transactionId.length}`);
  }
  return tlv(
    TAG_PIR_DATA,
    tlv(0x80, p.transactionId),
    encodeNotificationMetadata(p.notificationMetadata),
    ...(p.smdpOid !== undefined ? [oidTlv(0x06, p.smdpOid)] : []),
    encodeFinalResult(p.finalResult),
  );
}

/** BF37 with euiccSignPIR = sign(BF27 TLV). */
export function encodePir(p: PirData, sign: (bf27: Uint8Array) => Uint8Array): Uint8Array {
  const bf27 = encodePirData(p);
  return tlv(TAG_PIR, concatBytes(bf27, tlv(0x5f37, sign(bf27))));
}

/** One line for logs: "success (ISD-P a0000005...)" or "error in configureISDP(1): scp03tSecurityError(8)". */
export function describeFinalResult(r: FinalResult): string {
  if (r.kind === 'success') {
    return `success (ISD-P ${toHex(r.aid)})`;
  }
  return `error in ${BppCommandId.describe(r.bppCommandId)}: ${ErrorReason.describe(r.errorReason)}`;
}
