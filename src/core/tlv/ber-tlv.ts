/**
 * BER-TLV as used by SGP.22/ETSI 102 221: tags of 1..3 bytes, definite lengths of up to 3
 * bytes. This layer keeps the exact bytes of every element (`raw`, `header`) because the
 * station must segment a BPP along TLV headers and verify signatures over received bytes,
 * never over a re-encoding. Structure-level decoding of ASN.1 types builds on it.
 *
 * Hand-written rather than asn1js: we need header bytes and absolute offsets of every element
 * and zero-copy subarrays on the hot path; asn1js is used where a schema helps (X.509).
 */
import { IfppError } from '../errors.ts';
import { toHex } from '../bytes.ts';

export class TlvError extends IfppError {
  readonly offset: number;
  readonly tag: number | undefined;

  constructor(code: TlvErrorCode, message: string, offset: number, tag?: number, path?: string) {
    const where = `at offset ${offset}${tag !== undefined ? `, tag ${tagHex(tag)}` : ''}${path ? ` in ${path}` : ''}`;
    super(code, `${message} ${where}`, { details: { offset, tag: tag === undefined ? undefined : tagHex(tag), path } });
    this.offset = offset;
    this.tag = tag;
  }
}

export type TlvErrorCode =
  | 'TLV_TRUNCATED'
  | 'TLV_BAD_TAG'
  | 'TLV_BAD_LENGTH'
  | 'TLV_TRAILING_BYTES'
  | 'TLV_UNEXPECTED_TAG'
  | 'TLV_MISSING_ELEMENT'
  | 'TLV_BAD_VALUE';

/** Largest length we accept. A BPP is tens of kB; 16 MiB bounds memory on hostile input. */
export const MAX_TLV_LENGTH = 0xffffff;

export interface Tlv {
  /** Tag as a number, e.g. 0xBF36, 0x5F49, 0x80. */
  readonly tag: number;
  readonly constructed: boolean;
  /** Absolute offset of the tag's first byte in the outermost buffer parsed. */
  readonly offset: number;
  /** Tag and length bytes exactly as received. */
  readonly header: Uint8Array;
  /** Value bytes (a view, not a copy). */
  readonly value: Uint8Array;
  /** Tag, length and value exactly as received (a view). */
  readonly raw: Uint8Array;
}

export function tagHex(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(tag > 0xffff ? 6 : tag > 0xff ? 4 : 2, '0');
}

/** Reads one TLV starting at `pos` of `buf`. `base` is added to offsets in errors and results. */
export function readTlv(buf: Uint8Array, pos = 0, base = 0): Tlv {
  const h = readHeader(buf, pos, base);
  if (h.length > MAX_TLV_LENGTH) throw new TlvError('TLV_BAD_LENGTH', `length ${h.length} is too large`, base + pos, h.tag);
  const v = pos + h.headerLength;
  if (v + h.length > buf.length) {
    throw new TlvError('TLV_TRUNCATED', `value of ${h.length} bytes but only ${buf.length - v} remain`, base + pos, h.tag);
  }
  return {
    tag: h.tag,
    constructed: h.constructed,
    offset: base + pos,
    header: buf.subarray(pos, v),
    value: buf.subarray(v, v + h.length),
    raw: buf.subarray(pos, v + h.length),
  };
}

/** Parses exactly one TLV that must fill `buf` completely. */
export function decodeTlv(buf: Uint8Array, base = 0): Tlv {
  const t = readTlv(buf, 0, base);
  if (t.raw.length !== buf.length) {
    throw new TlvError('TLV_TRAILING_BYTES', `${buf.length - t.raw.length} bytes after the element`, base + t.raw.length, t.tag);
  }
  return t;
}

/** Parses a concatenation of TLVs filling `buf`. */
export function decodeTlvList(buf: Uint8Array, base = 0): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const t = readTlv(buf, pos, base);
    out.push(t);
    pos += t.raw.length;
  }
  return out;
}

/** Children of a constructed TLV. */
export function childrenOf(t: Tlv): Tlv[] {
  if (!t.constructed) throw new TlvError('TLV_BAD_VALUE', 'expected a constructed element', t.offset, t.tag);
  return decodeTlvList(t.value, t.offset + t.header.length);
}

export function findChild(children: readonly Tlv[], tag: number): Tlv | undefined {
  for (const c of children) if (c.tag === tag) return c;
  return undefined;
}

export function requireChild(parent: Tlv, children: readonly Tlv[], tag: number, what: string): Tlv {
  const c = findChild(children, tag);
  if (!c) throw new TlvError('TLV_MISSING_ELEMENT', `${what} (${tagHex(tag)}) missing`, parent.offset, parent.tag);
  return c;
}

export function expectTag(t: Tlv, tag: number, what: string): Tlv {
  if (t.tag !== tag) throw new TlvError('TLV_UNEXPECTED_TAG', `expected ${what} (${tagHex(tag)}), found ${tagHex(t.tag)}`, t.offset, t.tag);
  return t;
}

// ---------------------------------------------------------------- encoding

export function encodeTag(tag: number): Uint8Array {
  if (tag < 0 || tag > 0xffffff || !Number.isInteger(tag)) throw new TlvError('TLV_BAD_TAG', `cannot encode tag ${tag}`, 0);
  if (tag > 0xffff) return Uint8Array.of(tag >>> 16, (tag >>> 8) & 0xff, tag & 0xff);
  if (tag > 0xff) return Uint8Array.of(tag >>> 8, tag & 0xff);
  return Uint8Array.of(tag);
}

export function encodeLength(n: number): Uint8Array {
  if (n < 0 || n > MAX_TLV_LENGTH || !Number.isInteger(n)) throw new TlvError('TLV_BAD_LENGTH', `cannot encode length ${n}`, 0);
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >>> 8, n & 0xff);
  return Uint8Array.of(0x83, n >>> 16, (n >>> 8) & 0xff, n & 0xff);
}

/** Tag and length bytes only (for segmenting: e.g. the "A3 tag+length" call of a BPP load). */
export function encodeHeader(tag: number, length: number): Uint8Array {
  const t = encodeTag(tag);
  const l = encodeLength(length);
  const out = new Uint8Array(t.length + l.length);
  out.set(t, 0);
  out.set(l, t.length);
  return out;
}

/** Encodes tag | length | concatenation of the value parts. */
export function tlv(tag: number, ...value: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const v of value) n += v.length;
  const h = encodeHeader(tag, n);
  const out = new Uint8Array(h.length + n);
  out.set(h, 0);
  let o = h.length;
  for (const v of value) {
    out.set(v, o);
    o += v.length;
  }
  return out;
}

/** Short human form for error messages and logs. */
export function describeTlv(t: Tlv): string {
  return `${tagHex(t.tag)} (${t.value.length} bytes at ${t.offset})${t.value.length <= 16 ? ' ' + toHex(t.value) : ''}`;
}

export interface TlvHeader {
  readonly tag: number;
  readonly constructed: boolean;
  /** Declared value length (the value itself need not be present). */
  readonly length: number;
  /** Number of tag and length bytes. */
  readonly headerLength: number;
}

/**
 * Reads only a tag and length: for data that arrives in pieces, such as the "A3 tag+length"
 * call of a BPP load, whose value follows in later calls.
 */
export function readHeader(buf: Uint8Array, pos = 0, base = 0): TlvHeader {
  let p = pos;
  if (p >= buf.length) throw new TlvError('TLV_TRUNCATED', 'expected a tag but the data ended', base + pos);
  const first = buf[p++]!;
  if ((first & 0x1f) === 0x1f) {
    let n = 0;
    for (;;) {
      if (p >= buf.length) throw new TlvError('TLV_TRUNCATED', 'tag ended early', base + pos);
      const b = buf[p++]!;
      n++;
      if ((b & 0x80) === 0) break;
      if (n >= 2) throw new TlvError('TLV_BAD_TAG', 'tag longer than 3 bytes', base + pos);
    }
  }
  let tag = 0;
  for (let i = pos; i < p; i++) tag = tag * 256 + buf[i]!;
  if (p >= buf.length) throw new TlvError('TLV_TRUNCATED', 'length missing', base + pos, tag);
  const l0 = buf[p++]!;
  let length = l0;
  if (l0 === 0x80) throw new TlvError('TLV_BAD_LENGTH', 'indefinite length is not allowed in DER', base + pos, tag);
  if (l0 > 0x80) {
    const nl = l0 & 0x7f;
    if (nl > 3) throw new TlvError('TLV_BAD_LENGTH', `length field of ${nl} bytes is too large`, base + pos, tag);
    if (p + nl > buf.length) throw new TlvError('TLV_TRUNCATED', 'length field ended early', base + pos, tag);
    length = 0;
    for (let i = 0; i < nl; i++) length = length * 256 + buf[p++]!;
  }
  return { tag, constructed: (first & 0x20) !== 0, length, headerLength: p - pos };
}
