/**
 * Factory-only ES10f requests (SGP.41 IFPP). The public specifications leave their encoding
 * open, so this is a **project mapping**, kept in one replaceable object: everything the
 * station and the simulator know about these commands goes through a FactoryDialect, and a
 * chip family with other tags or codes gets its own dialect object.
 *
 * The project dialect, in ASN.1 terms (AUTOMATIC TAGS style, like the SGP.22 module):
 *
 *   FactoryResult ::= INTEGER { ok(0), invalidCertificate(1), unknownOneTimeKey(2),
 *       keyAlreadyUsed(3), fpaServicesClosed(4), nothingToDelete(5), undefinedError(127) }
 *
 *   GetFactoryInfoRequest ::= [112] SEQUENCE { }                                    -- BF70 00
 *   GetFactoryInfoResponse ::= [112] SEQUENCE {                                     -- BF70
 *       fpaServicesState [0] INTEGER { open(0), closed(1) },                        -- 80
 *       oneTimeKeys [1] SEQUENCE OF SEQUENCE {                                      -- A1 { 30 ... }
 *           euiccOtpk [APPLICATION 73] OCTET STRING,                                -- 5F49
 *           keyState [0] INTEGER { unused(0), consumed(1) } } }                     -- 80
 *
 *   PrepareFactoryLoadRequest ::= [113] SEQUENCE {                                  -- BF71
 *       euiccOtpk [APPLICATION 73] OCTET STRING,                                    -- 5F49
 *       dpPbCertificate Certificate,                                                -- 30 (CERT.DPpb)
 *       otherCertsInChain [1] SEQUENCE OF Certificate OPTIONAL }                    -- A1 { 30 ... }
 *   PrepareFactoryLoadResponse ::= [113] SEQUENCE { result [0] FactoryResult }      -- BF71 { 80 }
 *
 *   DeleteOneTimeKeysRequest ::= [114] SEQUENCE {                                   -- BF72
 *       keys [0] SEQUENCE OF [APPLICATION 73] OCTET STRING OPTIONAL }               -- A0 { 5F49 ... }
 *       -- absent: delete every unused one-time key
 *   DeleteOneTimeKeysResponse ::= [114] SEQUENCE {                                  -- BF72
 *       result [0] FactoryResult,                                                   -- 80
 *       deletedCount [1] INTEGER OPTIONAL }                                         -- 81
 *
 *   CloseFpaServicesRequest ::= [115] SEQUENCE { }                                  -- BF73 00
 *   CloseFpaServicesResponse ::= [115] SEQUENCE { result [0] FactoryResult }        -- BF73 { 80 }
 *
 * GetFactoryInfo stays answered after CloseFpaServices (state closed), so the station can tell
 * a closed chip from a broken one; the other factory requests answer fpaServicesClosed.
 */
import { decodeTlv, tagHex, tlv, type Tlv } from '../tlv/ber-tlv.ts';
import {
  badValue,
  Children,
  codeOf,
  coded,
  decodeEmptyRequest,
  decodeInt,
  decodeResultResponse,
  decodeTop,
  encodeEmptyRequest,
  encodeResultResponse,
  intTlv,
  itemsOf,
  namedEnum,
  octets,
  sub,
  type Coded,
  type NamedEnum,
} from './der.ts';
import { RspEncodeError } from './errors.ts';

export type FactoryResultName =
  | 'ok'
  | 'invalidCertificate'
  | 'unknownOneTimeKey'
  | 'keyAlreadyUsed'
  | 'fpaServicesClosed'
  | 'nothingToDelete'
  | 'undefinedError';

export type FactoryRequestKind = 'getFactoryInfo' | 'prepareFactoryLoad' | 'deleteOneTimeKeys' | 'closeFpaServices';

export type OneTimeKeyState = 'unused' | 'consumed';

export interface OneTimeKeyInfo {
  /** otPK.EUICC.ECKA as the chip reports it (65-byte uncompressed point). */
  readonly otpk: Uint8Array;
  readonly state: OneTimeKeyState;
}

export interface FactoryInfo {
  readonly fpaServices: 'open' | 'closed';
  readonly oneTimeKeys: readonly OneTimeKeyInfo[];
}

export interface PrepareFactoryLoadRequest {
  /** The one-time key the next BPP was bound to. */
  readonly euiccOtpk: Uint8Array;
  /** CERT.DPpb, DER. */
  readonly dpPbCertificate: Uint8Array;
  /** Intermediate certificates between CERT.DPpb and the CI, DER, if any. */
  readonly otherCertsInChain?: readonly Uint8Array[] | undefined;
}

export interface DeleteOneTimeKeysRequest {
  /** Only these keys; undefined = every unused key. */
  readonly keys?: readonly Uint8Array[] | undefined;
}

export interface DeleteOneTimeKeysResult {
  readonly result: Coded<FactoryResultName>;
  readonly deletedCount?: number | undefined;
}

/** Everything chip-family specific about the factory requests. */
export interface FactoryDialect {
  readonly name: string;
  readonly tags: { readonly [K in FactoryRequestKind]: number };
  readonly results: NamedEnum<FactoryResultName>;
  /** Which factory request an ES10 payload with this outer tag is, if any. */
  requestKind(tag: number): FactoryRequestKind | undefined;

  encodeGetFactoryInfoRequest(): Uint8Array;
  decodeGetFactoryInfoRequest(bytes: Uint8Array): void;
  encodeGetFactoryInfoResponse(info: FactoryInfo): Uint8Array;
  decodeGetFactoryInfoResponse(bytes: Uint8Array): FactoryInfo;

  encodePrepareFactoryLoadRequest(r: PrepareFactoryLoadRequest): Uint8Array;
  decodePrepareFactoryLoadRequest(bytes: Uint8Array): PrepareFactoryLoadRequest;
  encodePrepareFactoryLoadResponse(result: FactoryResultName | number): Uint8Array;
  decodePrepareFactoryLoadResponse(bytes: Uint8Array): Coded<FactoryResultName>;

  encodeDeleteOneTimeKeysRequest(r?: DeleteOneTimeKeysRequest): Uint8Array;
  decodeDeleteOneTimeKeysRequest(bytes: Uint8Array): DeleteOneTimeKeysRequest;
  encodeDeleteOneTimeKeysResponse(r: { result: FactoryResultName | number; deletedCount?: number | undefined }): Uint8Array;
  decodeDeleteOneTimeKeysResponse(bytes: Uint8Array): DeleteOneTimeKeysResult;

  encodeCloseFpaServicesRequest(): Uint8Array;
  decodeCloseFpaServicesRequest(bytes: Uint8Array): void;
  encodeCloseFpaServicesResponse(result: FactoryResultName | number): Uint8Array;
  decodeCloseFpaServicesResponse(bytes: Uint8Array): Coded<FactoryResultName>;
}

export const PROJECT_RESULTS = namedEnum<FactoryResultName>({
  ok: 0,
  invalidCertificate: 1,
  unknownOneTimeKey: 2,
  keyAlreadyUsed: 3,
  fpaServicesClosed: 4,
  nothingToDelete: 5,
  undefinedError: 127,
});

const FPA_STATE = ['open', 'closed'] as const;
const KEY_STATE = ['unused', 'consumed'] as const;

/** A certificate given to an encoder must be one DER SEQUENCE. */
function checkCert(der: Uint8Array, what: string): void {
  let t: Tlv;
  try {
    t = decodeTlv(der);
  } catch (e) {
    throw new RspEncodeError(`${what} is not one DER element: ${(e as Error).message}`);
  }
  if (t.tag !== 0x30) throw new RspEncodeError(`${what} must be a DER SEQUENCE (30), starts with ${tagHex(t.tag)}`);
}

function indexIn<S extends string>(names: readonly S[], v: S, what: string): number {
  const i = names.indexOf(v);
  if (i < 0) throw new RspEncodeError(`${what} must be one of ${names.join(', ')}, got "${v}"`);
  return i;
}

function stateOf<S extends string>(t: Tlv, path: string, what: string, names: readonly S[]): S {
  const n = decodeInt(t, path, what);
  const s = names[n];
  if (s === undefined) throw badValue(t, path, what, `unknown value ${n}`);
  return s;
}

/**
 * Builds a dialect with this project's structure and the given tags/result codes. Closures,
 * not `this`, so methods survive being passed around detached.
 */
export function makeFactoryDialect(name: string, tags: FactoryDialect['tags'], results: NamedEnum<FactoryResultName>): FactoryDialect {
  const T = tags;
  const R = results;
  return {
    name,
    tags,
    results,

    requestKind(tag) {
      for (const [k, v] of Object.entries(T) as [FactoryRequestKind, number][]) if (v === tag) return k;
      return undefined;
    },

    encodeGetFactoryInfoRequest() {
      return encodeEmptyRequest(T.getFactoryInfo);
    },
    decodeGetFactoryInfoRequest(bytes) {
      decodeEmptyRequest(bytes, T.getFactoryInfo, 'GetFactoryInfoRequest');
    },
    encodeGetFactoryInfoResponse(info) {
      return tlv(
        T.getFactoryInfo,
        intTlv(0x80, indexIn(FPA_STATE, info.fpaServices, 'fpaServices')),
        tlv(0xa1, ...info.oneTimeKeys.map((k) => tlv(0x30, tlv(0x5f49, k.otpk), intTlv(0x80, indexIn(KEY_STATE, k.state, 'key state'))))),
      );
    },
    decodeGetFactoryInfoResponse(bytes) {
      const tag = T.getFactoryInfo;
      const P = tagHex(tag);
      const c = new Children(decodeTop(bytes, tag, 'GetFactoryInfoResponse'), P);
      const st = c.need(0x80, 'fpaServicesState');
      const keys = c.need(0xa1, 'oneTimeKeys');
      const kp = sub(P, keys);
      return {
        fpaServices: stateOf(st, sub(P, st), 'fpaServicesState', FPA_STATE),
        oneTimeKeys: itemsOf(keys, kp, 0x30, 'OneTimeKeyInfo').map((k) => {
          const p = sub(kp, k);
          const kc = new Children(k, p);
          const pk = kc.need(0x5f49, 'euiccOtpk');
          const s = kc.need(0x80, 'keyState');
          return { otpk: octets(pk, sub(p, pk), 'euiccOtpk', 1), state: stateOf(s, sub(p, s), 'keyState', KEY_STATE) };
        }),
      };
    },

    encodePrepareFactoryLoadRequest(r) {
      if (r.euiccOtpk.length === 0) throw new RspEncodeError('euiccOtpk is empty');
      checkCert(r.dpPbCertificate, 'CERT.DPpb');
      r.otherCertsInChain?.forEach((c, i) => checkCert(c, `chain certificate ${i}`));
      return tlv(
        T.prepareFactoryLoad,
        tlv(0x5f49, r.euiccOtpk),
        r.dpPbCertificate,
        ...(r.otherCertsInChain !== undefined ? [tlv(0xa1, ...r.otherCertsInChain)] : []),
      );
    },
    decodePrepareFactoryLoadRequest(bytes) {
      const tag = T.prepareFactoryLoad;
      const P = tagHex(tag);
      const c = new Children(decodeTop(bytes, tag, 'PrepareFactoryLoadRequest'), P);
      const pk = c.need(0x5f49, 'euiccOtpk');
      const cert = c.need(0x30, 'dpPbCertificate');
      const chain = c.opt(0xa1, 'otherCertsInChain');
      return {
        euiccOtpk: octets(pk, sub(P, pk), 'euiccOtpk', 1),
        dpPbCertificate: cert.raw,
        otherCertsInChain: chain ? itemsOf(chain, sub(P, chain), 0x30, 'Certificate').map((x) => x.raw) : undefined,
      };
    },
    encodePrepareFactoryLoadResponse(result) {
      return encodeResultResponse(T.prepareFactoryLoad, codeOf(R, result));
    },
    decodePrepareFactoryLoadResponse(bytes) {
      return decodeResultResponse(bytes, T.prepareFactoryLoad, 'PrepareFactoryLoadResponse', R);
    },

    encodeDeleteOneTimeKeysRequest(r = {}) {
      return tlv(T.deleteOneTimeKeys, ...(r.keys !== undefined ? [tlv(0xa0, ...r.keys.map((k) => tlv(0x5f49, k)))] : []));
    },
    decodeDeleteOneTimeKeysRequest(bytes) {
      const tag = T.deleteOneTimeKeys;
      const P = tagHex(tag);
      const c = new Children(decodeTop(bytes, tag, 'DeleteOneTimeKeysRequest'), P);
      const keys = c.opt(0xa0, 'keys');
      if (!keys) return { keys: undefined };
      const kp = sub(P, keys);
      return { keys: itemsOf(keys, kp, 0x5f49, 'euiccOtpk').map((k) => octets(k, sub(kp, k), 'euiccOtpk', 1)) };
    },
    encodeDeleteOneTimeKeysResponse(r) {
      return tlv(
        T.deleteOneTimeKeys,
        intTlv(0x80, codeOf(R, r.result)),
        ...(r.deletedCount !== undefined ? [intTlv(0x81, r.deletedCount)] : []),
      );
    },
    decodeDeleteOneTimeKeysResponse(bytes) {
      const tag = T.deleteOneTimeKeys;
      const P = tagHex(tag);
      const c = new Children(decodeTop(bytes, tag, 'DeleteOneTimeKeysResponse'), P);
      const r = c.need(0x80, 'result');
      const n = c.opt(0x81, 'deletedCount');
      const deletedCount = n ? decodeInt(n, sub(P, n), 'deletedCount') : undefined;
      if (deletedCount !== undefined && deletedCount < 0) throw badValue(n!, sub(P, n!), 'deletedCount', 'is negative');
      return { result: coded(R, decodeInt(r, sub(P, r), 'result')), deletedCount };
    },

    encodeCloseFpaServicesRequest() {
      return encodeEmptyRequest(T.closeFpaServices);
    },
    decodeCloseFpaServicesRequest(bytes) {
      decodeEmptyRequest(bytes, T.closeFpaServices, 'CloseFpaServicesRequest');
    },
    encodeCloseFpaServicesResponse(result) {
      return encodeResultResponse(T.closeFpaServices, codeOf(R, result));
    },
    decodeCloseFpaServicesResponse(bytes) {
      return decodeResultResponse(bytes, T.closeFpaServices, 'CloseFpaServicesResponse', R);
    },
  };
}

/** The project mapping (BF70..BF73), see the module comment and docs/protocol.md. */
export const projectDialect: FactoryDialect = makeFactoryDialect(
  'ifpp-project/1',
  { getFactoryInfo: 0xbf70, prepareFactoryLoad: 0xbf71, deleteOneTimeKeys: 0xbf72, closeFpaServices: 0xbf73 },
  PROJECT_RESULTS,
);
