/**
 * InitialiseSecureChannelRequest (BF23), the signed head of every BPP (SGP.22 v2.x §2.5,
 * ES8+.InitialiseSecureChannel §5.5.1):
 *
 *   BF23 { 82 remoteOpId, 80 transactionId, A6 { 80 keyType, 81 keyLen, 84 hostId },
 *          5F49 smdpOtpk, 5F37 smdpSign }
 *
 * smdpSign is made over the four data objects 82, 80, A6, 5F49 (tags and lengths included,
 * without the BF23 header) followed by the eUICC's one-time key as a 5F49 TLV. The verifier
 * must use the bytes as received, so the decoder keeps them and is strict about order: the
 * five elements must come exactly in module order with nothing else around them.
 */
import { concatBytes } from '../bytes.ts';
import { childrenOf, tagHex, tlv, TlvError, type Tlv } from '../tlv/ber-tlv.ts';
import { decodeInt, decodeTop, intTlv, octets, sub } from './der.ts';
import { RspEncodeError } from './errors.ts';

export const TAG_BF23 = 0xbf23;
/** RemoteOpId installBoundProfilePackage, the only value SGP.22 v2.x defines. */
export const REMOTE_OP_INSTALL_BPP = 1;
/** GlobalPlatform key type for AES. */
export const KEY_TYPE_AES = 0x88;
export const KEY_LEN_AES128 = 0x10;

export interface ControlRefTemplate {
  /** 80: key type (88 = AES). */
  readonly keyType: number;
  /** 81: key length in bytes (10). */
  readonly keyLen: number;
  /** 84: host identifier, 1..16 bytes. */
  readonly hostId: Uint8Array;
}

export interface Bf23 {
  /** The whole BF23 TLV exactly as received. */
  readonly raw: Uint8Array;
  /** Absolute offset of BF23 in the buffer it was decoded from. */
  readonly offset: number;
  /** 82 remoteOpId (decoded, not checked: the eUICC answers unsupportedRemoteOperationType). */
  readonly remoteOpId: number;
  /** 80 transactionId, 1..16 bytes. */
  readonly transactionId: Uint8Array;
  readonly controlRefTemplate: ControlRefTemplate;
  /** 5F49 otPK.DP.ECKA, the SM-DP(f)'s ephemeral public key as sent (uncompressed point). */
  readonly smdpOtpk: Uint8Array;
  /** 5F37 smdpSign, r||s. */
  readonly smdpSign: Uint8Array;
  /** 82 | 80 | A6 | 5F49 exactly as received: the first part of the signed data. */
  readonly signedPart: Uint8Array;
}

const ORDER: readonly [number, string][] = [
  [0x82, 'remoteOpId'],
  [0x80, 'transactionId'],
  [0xa6, 'controlRefTemplate'],
  [0x5f49, 'smdpOtpk'],
  [0x5f37, 'smdpSign'],
];

/** Decodes a BF23 given as bytes (must be exactly one TLV). */
export function decodeBf23(bytes: Uint8Array): Bf23 {
  return decodeBf23Tlv(decodeTop(bytes, TAG_BF23, 'InitialiseSecureChannelRequest'));
}

/** Decodes an already-parsed BF23 element (e.g. the first child of BF36). */
export function decodeBf23Tlv(t: Tlv, path = 'BF23'): Bf23 {
  if (t.tag !== TAG_BF23) {
    throw new TlvError('TLV_UNEXPECTED_TAG', `${path}: expected InitialiseSecureChannelRequest (BF23), found ${tagHex(t.tag)}`, t.offset, t.tag);
  }
  const kids = childrenOf(t);
  for (let i = 0; i < ORDER.length; i++) {
    const [tag, what] = ORDER[i]!;
    const k = kids[i];
    if (!k) throw new TlvError('TLV_MISSING_ELEMENT', `${sub(path, tag)} (${what}) missing`, t.offset, t.tag);
    if (k.tag !== tag) {
      throw new TlvError('TLV_UNEXPECTED_TAG', `${sub(path, k)}: expected ${what} (${tagHex(tag)}) at position ${i + 1}`, k.offset, k.tag);
    }
  }
  if (kids.length > ORDER.length) {
    const x = kids[ORDER.length]!;
    throw new TlvError('TLV_UNEXPECTED_TAG', `${sub(path, x)}: unexpected element after smdpSign`, x.offset, x.tag);
  }
  const [op, tid, crt, otpk, sign] = kids as [Tlv, Tlv, Tlv, Tlv, Tlv];

  const crtPath = sub(path, crt);
  const crtKids = childrenOf(crt);
  const want: [number, string][] = [
    [0x80, 'keyType'],
    [0x81, 'keyLen'],
    [0x84, 'hostId'],
  ];
  const crtVals: Uint8Array[] = [];
  for (let i = 0; i < want.length; i++) {
    const [tag, what] = want[i]!;
    const k = crtKids[i];
    if (!k) throw new TlvError('TLV_MISSING_ELEMENT', `${sub(crtPath, tag)} (${what}) missing`, crt.offset, crt.tag);
    if (k.tag !== tag) {
      throw new TlvError('TLV_UNEXPECTED_TAG', `${sub(crtPath, k)}: expected ${what} (${tagHex(tag)})`, k.offset, k.tag);
    }
    crtVals.push(octets(k, sub(crtPath, k), what, 1, tag === 0x84 ? 16 : 1));
  }
  if (crtKids.length > want.length) {
    const x = crtKids[want.length]!;
    throw new TlvError('TLV_UNEXPECTED_TAG', `${sub(crtPath, x)}: unexpected element after hostId`, x.offset, x.tag);
  }

  const signedStart = op.offset - t.offset;
  const signedEnd = otpk.offset - t.offset + otpk.raw.length;
  return {
    raw: t.raw,
    offset: t.offset,
    remoteOpId: decodeInt(op, sub(path, op), 'remoteOpId'),
    transactionId: octets(tid, sub(path, tid), 'transactionId', 1, 16),
    controlRefTemplate: { keyType: crtVals[0]![0]!, keyLen: crtVals[1]![0]!, hostId: crtVals[2]! },
    smdpOtpk: octets(otpk, sub(path, otpk), 'smdpOtpk', 1),
    smdpSign: octets(sign, sub(path, sign), 'smdpSign', 1),
    signedPart: t.raw.subarray(signedStart, signedEnd),
  };
}

/**
 * The data smdpSign covers, from a received BF23: 82|80|A6|5F49 as received, then
 * `5F49 len euiccOtpk` (SGP.22 v2.x §5.5.1: the eUICC's otPK is appended as a tagged object).
 */
export function signedDataOf(bf23: Bf23 | Uint8Array, euiccOtpk: Uint8Array): Uint8Array {
  const d = bf23 instanceof Uint8Array ? decodeBf23(bf23) : bf23;
  return concatBytes(d.signedPart, tlv(0x5f49, euiccOtpk));
}

export interface Bf23Parts {
  /** Default 1 (installBoundProfilePackage). */
  readonly remoteOpId?: number;
  readonly transactionId: Uint8Array;
  /** Default 88 (AES). */
  readonly keyType?: number;
  /** Default 10 (16 bytes). */
  readonly keyLen?: number;
  readonly hostId: Uint8Array;
  readonly smdpOtpk: Uint8Array;
}

function signedPartOf(p: Bf23Parts): Uint8Array {
  if (p.transactionId.length < 1 || p.transactionId.length > 16) {
    throw new RspEncodeError(`transactionId must be 1..16 bytes, got ${p.transactionId.length}`);
  }
  if (p.hostId.length < 1 || p.hostId.length > 16) throw new RspEncodeError(`hostId must be 1..16 bytes, got ${p.hostId.length}`);
  if (p.smdpOtpk.length < 1) throw new RspEncodeError('smdpOtpk is empty');
  const keyType = p.keyType ?? KEY_TYPE_AES;
  const keyLen = p.keyLen ?? KEY_LEN_AES128;
  for (const [n, v] of [
    ['keyType', keyType],
    ['keyLen', keyLen],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new RspEncodeError(`${n} must be one byte, got ${v}`);
  }
  return concatBytes(
    intTlv(0x82, p.remoteOpId ?? REMOTE_OP_INSTALL_BPP),
    tlv(0x80, p.transactionId),
    tlv(0xa6, tlv(0x80, Uint8Array.of(keyType)), tlv(0x81, Uint8Array.of(keyLen)), tlv(0x84, p.hostId)),
    tlv(0x5f49, p.smdpOtpk),
  );
}

/** What the binder signs (with SK.DPpb) before it can build the BF23. */
export function bf23DataToSign(parts: Bf23Parts, euiccOtpk: Uint8Array): Uint8Array {
  return concatBytes(signedPartOf(parts), tlv(0x5f49, euiccOtpk));
}

export function encodeBf23(parts: Bf23Parts & { readonly smdpSign: Uint8Array }): Uint8Array {
  if (parts.smdpSign.length < 1) throw new RspEncodeError('smdpSign is empty');
  return tlv(TAG_BF23, signedPartOf(parts), tlv(0x5f37, parts.smdpSign));
}
