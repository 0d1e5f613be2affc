/**
 * Small typed helpers shared by the RSP object codecs: primitive ASN.1 values (INTEGER, BIT
 * STRING with named bits, UTF8String, BOOLEAN, OBJECT IDENTIFIER, VersionType) on top of the
 * BER-TLV layer, and child lookup that names the structural path in its errors
 * ("BF36 > A3 (sequenceOf86) missing").
 *
 * Decoders are tolerant where the wire allows it (non-minimal lengths, unknown extension
 * children) and strict where ambiguity could hurt (duplicate known children, wrong
 * primitive/constructed form, value sizes fixed by the module).
 */
import { childrenOf, decodeTlv, tagHex, tlv, TlvError, type Tlv } from '../tlv/ber-tlv.ts';
import { IfppError } from '../errors.ts';
import { RspEncodeError } from './errors.ts';

// ---------------------------------------------------------------- errors and paths

/** Path of a child element, e.g. `sub('BF36', a3)` -> "BF36 > A3". */
export function sub(path: string, t: Tlv | number): string {
  return `${path} > ${tagHex(typeof t === 'number' ? t : t.tag)}`;
}

/** A TLV_BAD_VALUE error about element `t` at `path` (path already includes t). */
export function badValue(t: Tlv, path: string, what: string, problem: string): TlvError {
  return new TlvError('TLV_BAD_VALUE', `${path} (${what}): ${problem}`, t.offset, t.tag);
}

/** Decodes exactly one TLV that must fill `bytes` and carry `tag`. */
export function decodeTop(bytes: Uint8Array, tag: number, what: string): Tlv {
  const t = decodeTlv(bytes);
  if (t.tag !== tag) {
    throw new TlvError('TLV_UNEXPECTED_TAG', `expected ${what} (${tagHex(tag)}), found ${tagHex(t.tag)}`, t.offset, t.tag);
  }
  if (!t.constructed) throw badValue(t, tagHex(tag), what, 'must be constructed');
  return t;
}

/**
 * Children of a constructed element indexed by tag. A known tag appearing twice is rejected:
 * in signed or security-relevant structures, "which one counts" must never be a question.
 * Unknown tags are kept in order in `unknown` (extensions we do not interpret).
 */
export class Children {
  readonly list: Tlv[];
  private readonly byTag = new Map<number, Tlv>();
  private readonly used = new Set<number>();
  private readonly dup: Tlv[] = [];

  constructor(
    readonly parent: Tlv,
    readonly path: string,
  ) {
    this.list = childrenOf(parent);
    for (const c of this.list) {
      if (this.byTag.has(c.tag)) this.dup.push(c);
      else this.byTag.set(c.tag, c);
    }
  }

  private checkDup(tag: number, what: string): void {
    const d = this.dup.find((c) => c.tag === tag);
    if (d) throw badValue(d, sub(this.path, d), what, 'appears more than once');
  }

  opt(tag: number, what: string): Tlv | undefined {
    this.used.add(tag);
    this.checkDup(tag, what);
    return this.byTag.get(tag);
  }

  need(tag: number, what: string): Tlv {
    const c = this.opt(tag, what);
    if (!c) {
      throw new TlvError('TLV_MISSING_ELEMENT', `${sub(this.path, tag)} (${what}) missing`, this.parent.offset, this.parent.tag);
    }
    return c;
  }

  /** Raw bytes of the children whose tags were never asked for, in received order. */
  unknown(): Uint8Array[] {
    return this.list.filter((c) => !this.used.has(c.tag)).map((c) => c.raw);
  }
}

/** Children of a SEQUENCE OF: every item must carry `itemTag`. */
export function itemsOf(t: Tlv, path: string, itemTag: number, what: string): Tlv[] {
  const items = childrenOf(t);
  for (const c of items) {
    if (c.tag !== itemTag) {
      throw new TlvError(
        'TLV_UNEXPECTED_TAG',
        `${sub(path, c)}: expected ${what} (${tagHex(itemTag)}), found ${tagHex(c.tag)}`,
        c.offset,
        c.tag,
      );
    }
  }
  return items;
}

export function primitive(t: Tlv, path: string, what: string): Uint8Array {
  if (t.constructed) throw badValue(t, path, what, 'must be primitive');
  return t.value;
}

/** Primitive value with a length in [min, max]. */
export function octets(t: Tlv, path: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): Uint8Array {
  const v = primitive(t, path, what);
  if (v.length < min || v.length > max) {
    const want = min === max ? `${min}` : max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min}..${max}`;
    throw badValue(t, path, what, `length ${v.length}, expected ${want} bytes`);
  }
  return v;
}

// ---------------------------------------------------------------- INTEGER

/** DER INTEGER contents (two's complement, minimal) of a safe integer. */
export function intValue(n: number): Uint8Array {
  if (!Number.isSafeInteger(n)) throw new RspEncodeError(`cannot encode INTEGER ${n}`);
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0xffn);
    out.unshift(b);
    v >>= 8n;
    // Stop once the remaining value is pure sign extension of the byte just written.
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

export function intTlv(tag: number, n: number): Uint8Array {
  return tlv(tag, intValue(n));
}

/** INTEGER of at most 6 content bytes (fits a JS number). Non-minimal forms are tolerated. */
export function decodeInt(t: Tlv, path: string, what: string): number {
  const v = octets(t, path, what, 1, 6);
  let n = v[0]! & 0x80 ? -1n : 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  return Number(n);
}

/** Unsigned big-endian number (not an INTEGER: no sign byte), e.g. ETSI 102 226 resources. */
export function uintValue(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RspEncodeError(`cannot encode unsigned ${n}`);
  const out: number[] = [];
  let v = n;
  do {
    out.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return Uint8Array.from(out);
}

export function decodeUint(t: Tlv, path: string, what: string): number {
  const v = octets(t, path, what, 1, 6);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

// ---------------------------------------------------------------- BOOLEAN

export function boolTlv(tag: number, b: boolean): Uint8Array {
  return tlv(tag, Uint8Array.of(b ? 0xff : 0x00));
}

/** Any non-zero octet is TRUE (BER); DER producers use FF. */
export function decodeBool(t: Tlv, path: string, what: string): boolean {
  return octets(t, path, what, 1, 1)[0] !== 0;
}

// ---------------------------------------------------------------- BIT STRING (named bits)

/**
 * DER BIT STRING of a named-bit list: the set bit numbers (bit 0 = most significant bit of the
 * first content octet), trailing zero bits removed as X.690 11.2.2 requires.
 */
export function bitsValue(bits: readonly number[]): Uint8Array {
  let top = -1;
  for (const b of bits) {
    if (!Number.isInteger(b) || b < 0 || b > 0xffff) throw new RspEncodeError(`bad bit number ${b}`);
    if (b > top) top = b;
  }
  if (top < 0) return Uint8Array.of(0);
  const nbytes = (top >> 3) + 1;
  const out = new Uint8Array(1 + nbytes);
  out[0] = 7 - (top & 7);
  for (const b of bits) out[1 + (b >> 3)]! |= 0x80 >> (b & 7);
  return out;
}

export function bitsTlv(tag: number, bits: readonly number[]): Uint8Array {
  return tlv(tag, bitsValue(bits));
}

/** Set bit numbers, ascending. Padding bits are ignored (tolerant), their count is checked. */
export function decodeBits(t: Tlv, path: string, what: string): number[] {
  const v = octets(t, path, what, 1);
  const unused = v[0]!;
  if (unused > 7 || (v.length === 1 && unused !== 0)) throw badValue(t, path, what, `bad unused-bits count ${unused}`);
  const nbits = (v.length - 1) * 8 - unused;
  const out: number[] = [];
  for (let i = 0; i < nbits; i++) if (v[1 + (i >> 3)]! & (0x80 >> (i & 7))) out.push(i);
  return out;
}

// ---------------------------------------------------------------- UTF8String

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function utf8Tlv(tag: number, s: string): Uint8Array {
  return tlv(tag, utf8Encoder.encode(s));
}

export function decodeUtf8(t: Tlv, path: string, what: string): string {
  const v = primitive(t, path, what);
  try {
    return utf8Decoder.decode(v);
  } catch {
    throw badValue(t, path, what, 'is not valid UTF-8');
  }
}

// ---------------------------------------------------------------- OBJECT IDENTIFIER

/** Contents octets of an OID given in dotted form ("2.23.146.1.2.1.5"). */
export function oidValue(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) throw new RspEncodeError(`bad OBJECT IDENTIFIER "${dotted}"`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const a0 = arcs[0]!;
  const a1 = arcs[1]!;
  if (a0 < 2n && a1 > 39n) throw new RspEncodeError(`bad OBJECT IDENTIFIER "${dotted}" (second arc > 39)`);
  const out: number[] = [];
  const put = (v: bigint) => {
    const tmp = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      tmp.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...tmp);
  };
  put(a0 * 40n + a1);
  for (const a of arcs.slice(2)) put(a);
  return Uint8Array.from(out);
}

export function oidTlv(tag: number, dotted: string): Uint8Array {
  return tlv(tag, oidValue(dotted));
}

export function decodeOid(t: Tlv, path: string, what: string): string {
  const v = octets(t, path, what, 1, 128);
  const arcs: bigint[] = [];
  let cur = 0n;
  let fresh = true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (fresh && b === 0x80) throw badValue(t, path, what, 'non-minimal sub-identifier');
    cur = (cur << 7n) | BigInt(b & 0x7f);
    fresh = false;
    if ((b & 0x80) === 0) {
      arcs.push(cur);
      cur = 0n;
      fresh = true;
    }
  }
  if (!fresh) throw badValue(t, path, what, 'last sub-identifier is incomplete');
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

// ---------------------------------------------------------------- VersionType

/** VersionType: 3 octets major/minor/revision, shown as "2.2.1". */
export function versionValue(v: string): Uint8Array {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (parts.length !== 3 || parts.some((p) => p > 255)) throw new RspEncodeError(`bad version "${v}" (want "major.minor.revision", each 0..255)`);
  return Uint8Array.from(parts);
}

export function decodeVersion(t: Tlv, path: string, what: string): string {
  const v = octets(t, path, what, 3, 3);
  return `${v[0]}.${v[1]}.${v[2]}`;
}

// ---------------------------------------------------------------- named integer enumerations

export interface NamedEnum<N extends string> {
  readonly values: Readonly<Record<N, number>>;
  /** Name of a code, or undefined for codes the module does not name. */
  name(code: number): N | undefined;
  /** "name(code)" or "unknown(code)", for messages. */
  describe(code: number): string;
}

export function namedEnum<N extends string>(values: Record<N, number>): NamedEnum<N> {
  const byCode = new Map<number, N>();
  for (const [k, v] of Object.entries(values) as [N, number][]) byCode.set(v, k);
  return {
    values,
    name: (code) => byCode.get(code),
    describe: (code) => `${byCode.get(code) ?? 'unknown'}(${code})`,
  };
}

/** A decoded enumerated result: the code as received and its name, when the module names it. */
export interface Coded<N extends string> {
  readonly code: number;
  readonly name: N | undefined;
}

export function coded<N extends string>(e: NamedEnum<N>, code: number): Coded<N> {
  return { code, name: e.name(code) };
}

/** Accepts a name or a number for encoders. */
export function codeOf<N extends string>(e: NamedEnum<N>, v: N | number): number {
  if (typeof v === 'number') return v;
  const c = e.values[v];
  if (c === undefined) throw new RspEncodeError(`unknown enumeration name "${v}"`);
  return c;
}

/**
 * Runs a value parser (EID, ICCID...) on a TLV's value and turns its IfppError into a
 * TlvError that names where the value was, so decoders report offsets uniformly.
 */
export function parseValue<T>(t: Tlv, path: string, what: string, parse: (v: Uint8Array) => T): T {
  const v = primitive(t, path, what);
  try {
    return parse(v);
  } catch (e) {
    if (e instanceof IfppError) throw badValue(t, path, what, e.message);
    throw e;
  }
}

// ---------------------------------------------------------------- result-only responses

/** `TAG { 80 code }`: the shape of most ES10c responses (enable, disable, delete, reset...). */
export function encodeResultResponse(tag: number, code: number): Uint8Array {
  return tlv(tag, intTlv(0x80, code));
}

export function decodeResultResponse<N extends string>(bytes: Uint8Array, tag: number, what: string, e: NamedEnum<N>): Coded<N> {
  const t = decodeTop(bytes, tag, what);
  const path = tagHex(tag);
  const c = new Children(t, path);
  const r = c.need(0x80, 'result');
  return coded(e, decodeInt(r, sub(path, r), 'result'));
}

/** A request without content, e.g. `BF22 00`. */
export function encodeEmptyRequest(tag: number): Uint8Array {
  return tlv(tag);
}

/** Checks the tag of a content-less request; extension children, if any, are ignored. */
export function decodeEmptyRequest(bytes: Uint8Array, tag: number, what: string): void {
  childrenOf(decodeTop(bytes, tag, what));
}
