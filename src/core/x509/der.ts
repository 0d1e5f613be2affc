/**
 * A thin DER reading layer over asn1js. asn1js does the BER framing (with resource limits);
 * we turn its tree into plain nodes that keep the exact received bytes of every element and
 * decode primitives ourselves, so every failure becomes an X509Error that says what and where.
 */
import * as asn1js from 'asn1js';
import { X509Error } from './errors.ts';
import type { X509ErrorCode } from './errors.ts';

export type TagClass = 'universal' | 'application' | 'context' | 'private';

export interface DerNode {
  readonly tagClass: TagClass;
  /** Tag number; -1 for tag numbers too large to matter (asn1js "hex only" tags). */
  readonly tag: number;
  readonly constructed: boolean;
  /** Offset of the element in the buffer given to parseDer. */
  readonly offset: number;
  /** Tag, length and value as received. */
  readonly raw: Uint8Array;
  /** Value bytes as received. */
  readonly content: Uint8Array;
  readonly children: readonly DerNode[];
}

export const UNIVERSAL = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  NUMERIC_STRING: 18,
  PRINTABLE_STRING: 19,
  TELETEX_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  VISIBLE_STRING: 26,
  UNIVERSAL_STRING: 28,
  BMP_STRING: 30,
} as const;

const UNIVERSAL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(UNIVERSAL).map(([k, v]) => [v, k.replace(/_/g, ' ')]),
);

const TAG_CLASSES: Record<number, TagClass> = { 1: 'universal', 2: 'application', 3: 'context', 4: 'private' };

// Certificates are small and shallow; tight limits keep hostile input cheap.
const LIMITS = { maxDepth: 24, maxNodes: 4096, maxContentLength: 1 << 20, parseEmbedded: false };

function fail(code: X509ErrorCode, message: string, offset?: number): never {
  throw new X509Error(code, offset === undefined ? message : `${message} (at offset ${offset})`, {
    details: offset === undefined ? {} : { offset },
  });
}

export function describeTag(n: Pick<DerNode, 'tagClass' | 'tag' | 'constructed'>): string {
  if (n.tagClass === 'universal') return UNIVERSAL_NAMES[n.tag] ?? `universal tag ${n.tag}`;
  return `[${n.tagClass === 'context' ? '' : n.tagClass + ' '}${n.tag}]${n.constructed ? ' (constructed)' : ''}`;
}

/**
 * Decodes one DER element starting at `start`; returns it and the offset just after it.
 * Never throws anything but X509Error.
 */
export function parseDerAt(bytes: Uint8Array, start: number, what: string): { node: DerNode; end: number } {
  if (start >= bytes.length) fail('X509_MALFORMED', `${what}: no data`, start);
  let res: ReturnType<typeof asn1js.fromBER>;
  try {
    res = asn1js.fromBER(bytes.subarray(start), LIMITS);
  } catch (e) {
    throw new X509Error('X509_MALFORMED', `${what}: not valid DER (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  if (res.offset === -1 || res.result.error) {
    fail('X509_MALFORMED', `${what}: not valid DER: ${res.result.error || 'decoder rejected the data'}`, start);
  }
  const node = convert(res.result, start, what);
  return { node, end: start + res.offset };
}

/** Decodes exactly one DER element filling all of `bytes`. */
export function parseDer(bytes: Uint8Array, what: string): DerNode {
  const { node, end } = parseDerAt(bytes, 0, what);
  if (end !== bytes.length) fail('X509_TRAILING_BYTES', `${what}: ${bytes.length - end} unexpected byte(s) after the end`, end);
  return node;
}

function convert(block: asn1js.AsnType, base: number, what: string): DerNode {
  const b = block as asn1js.BaseBlock;
  const raw = b.valueBeforeDecodeView;
  // fromBER copies its input, so byteOffset is the position in the buffer we handed over.
  const offset = base + raw.byteOffset;
  if (b.lenBlock.isIndefiniteForm) fail('X509_MALFORMED', `${what}: indefinite length is not DER`, offset);
  const tagClass = TAG_CLASSES[b.idBlock.tagClass];
  if (!tagClass) fail('X509_MALFORMED', `${what}: bad tag class`, offset);
  const headerLen = b.idBlock.blockLength + b.lenBlock.blockLength;
  const content = raw.subarray(headerLen);
  if (content.length !== b.lenBlock.length) fail('X509_MALFORMED', `${what}: element length does not match its content`, offset);
  const constructed = b.idBlock.isConstructed;
  const children: DerNode[] = [];
  if (constructed) {
    const items = (b.valueBlock as { value?: unknown }).value;
    if (Array.isArray(items)) for (const it of items) children.push(convert(it as asn1js.AsnType, base, what));
  }
  return { tagClass, tag: b.idBlock.isHexOnly ? -1 : b.idBlock.tagNumber, constructed, offset, raw, content, children };
}

// ---- expectations ------------------------------------------------------------------------

export function isUniversal(n: DerNode | undefined, tag: number): n is DerNode {
  return n !== undefined && n.tagClass === 'universal' && n.tag === tag;
}

export function isContext(n: DerNode | undefined, tag: number): n is DerNode {
  return n !== undefined && n.tagClass === 'context' && n.tag === tag;
}

function typeName(tag: number): string {
  return UNIVERSAL_NAMES[tag] ?? `universal tag ${tag}`;
}

/** Requires a universal element of the given tag (constructed for SEQUENCE/SET, primitive otherwise). */
export function expectUniversal(n: DerNode | undefined, tag: number, what: string, parentOffset = 0): DerNode {
  if (!n) fail('X509_MALFORMED', `${what}: missing (expected ${typeName(tag)})`, parentOffset);
  if (n.tagClass !== 'universal' || n.tag !== tag) fail('X509_MALFORMED', `${what}: expected ${typeName(tag)}, found ${describeTag(n)}`, n.offset);
  const mustBeConstructed = tag === UNIVERSAL.SEQUENCE || tag === UNIVERSAL.SET;
  if (n.constructed !== mustBeConstructed) {
    fail('X509_MALFORMED', `${what}: ${typeName(tag)} must be ${mustBeConstructed ? 'constructed' : 'primitive'}`, n.offset);
  }
  return n;
}

export function expectSequence(n: DerNode | undefined, what: string, parentOffset = 0): DerNode {
  return expectUniversal(n, UNIVERSAL.SEQUENCE, what, parentOffset);
}

export function expectPrimitive(n: DerNode, what: string): DerNode {
  if (n.constructed) fail('X509_MALFORMED', `${what}: must be a primitive element`, n.offset);
  return n;
}

export function expectConstructed(n: DerNode, what: string): DerNode {
  if (!n.constructed) fail('X509_MALFORMED', `${what}: must be a constructed element`, n.offset);
  return n;
}

export function malformed(n: DerNode | undefined, message: string): never {
  fail('X509_MALFORMED', message, n?.offset);
}

// ---- primitive decoders ------------------------------------------------------------------

/** OBJECT IDENTIFIER content to dotted text. */
export function decodeOidContent(c: Uint8Array, what: string, offset?: number): string {
  if (c.length === 0) fail('X509_MALFORMED', `${what}: empty OBJECT IDENTIFIER`, offset);
  const arcs: number[] = [];
  let v = 0;
  let started = false;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    if (!started && b === 0x80) fail('X509_MALFORMED', `${what}: OBJECT IDENTIFIER arc with a leading 0x80 byte`, offset);
    started = true;
    if (v > Number.MAX_SAFE_INTEGER / 128) fail('X509_MALFORMED', `${what}: OBJECT IDENTIFIER arc too large`, offset);
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        if (v < 40) arcs.push(0, v);
        else if (v < 80) arcs.push(1, v - 40);
        else arcs.push(2, v - 80);
      } else arcs.push(v);
      v = 0;
      started = false;
    }
  }
  if (started) fail('X509_MALFORMED', `${what}: OBJECT IDENTIFIER ends inside an arc`, offset);
  return arcs.join('.');
}

export function decodeOid(n: DerNode | undefined, what: string): string {
  const e = expectUniversal(n, UNIVERSAL.OID, what);
  return decodeOidContent(e.content, what, e.offset);
}

/** INTEGER content bytes (two's complement, minimal). */
export function integerBytes(n: DerNode | undefined, what: string): Uint8Array {
  const e = expectUniversal(n, UNIVERSAL.INTEGER, what);
  const c = e.content;
  if (c.length === 0) fail('X509_MALFORMED', `${what}: empty INTEGER`, e.offset);
  if (c.length > 1 && ((c[0] === 0x00 && c[1]! < 0x80) || (c[0] === 0xff && c[1]! >= 0x80))) {
    fail('X509_MALFORMED', `${what}: INTEGER is not minimally encoded`, e.offset);
  }
  return c;
}

/** A small non-negative INTEGER (versions, path lengths). */
export function decodeSmallUint(n: DerNode | undefined, what: string, max = 0xffff): number {
  const c = integerBytes(n, what);
  if (c[0]! >= 0x80) fail('X509_MALFORMED', `${what}: negative INTEGER`, n?.offset);
  let v = 0;
  for (const b of c) {
    v = v * 256 + b;
    if (v > max) fail('X509_MALFORMED', `${what}: INTEGER larger than ${max}`, n?.offset);
  }
  return v;
}

export function decodeBoolean(n: DerNode | undefined, what: string): boolean {
  const e = expectUniversal(n, UNIVERSAL.BOOLEAN, what);
  if (e.content.length !== 1) fail('X509_MALFORMED', `${what}: BOOLEAN must be one byte`, e.offset);
  return e.content[0] !== 0;
}

export interface BitString {
  unusedBits: number;
  bytes: Uint8Array;
}

export function decodeBitString(n: DerNode | undefined, what: string): BitString {
  const e = expectUniversal(n, UNIVERSAL.BIT_STRING, what);
  const c = e.content;
  if (c.length === 0) fail('X509_MALFORMED', `${what}: empty BIT STRING`, e.offset);
  const unusedBits = c[0]!;
  if (unusedBits > 7 || (c.length === 1 && unusedBits !== 0)) fail('X509_MALFORMED', `${what}: bad unused-bits count ${unusedBits}`, e.offset);
  return { unusedBits, bytes: c.subarray(1) };
}

export function decodeOctetString(n: DerNode | undefined, what: string): Uint8Array {
  return expectUniversal(n, UNIVERSAL.OCTET_STRING, what).content;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16be = new TextDecoder('utf-16be', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Any of the directory string types, as a JS string. */
export function decodeString(n: DerNode, what: string): string {
  if (n.tagClass !== 'universal' || n.constructed) fail('X509_MALFORMED', `${what}: expected a string, found ${describeTag(n)}`, n.offset);
  const c = n.content;
  try {
    switch (n.tag) {
      case UNIVERSAL.UTF8_STRING:
        return utf8.decode(c);
      case UNIVERSAL.PRINTABLE_STRING:
      case UNIVERSAL.IA5_STRING:
      case UNIVERSAL.NUMERIC_STRING:
      case UNIVERSAL.VISIBLE_STRING:
        for (const b of c) if (b > 0x7f) fail('X509_MALFORMED', `${what}: non-ASCII byte in ${typeName(n.tag)}`, n.offset);
        return latin1.decode(c);
      case UNIVERSAL.TELETEX_STRING:
        return latin1.decode(c);
      case UNIVERSAL.BMP_STRING:
        if (c.length % 2) fail('X509_MALFORMED', `${what}: BMPString of odd length`, n.offset);
        return utf16be.decode(c);
      case UNIVERSAL.UNIVERSAL_STRING: {
        if (c.length % 4) fail('X509_MALFORMED', `${what}: UniversalString length not a multiple of 4`, n.offset);
        let s = '';
        for (let i = 0; i < c.length; i += 4) s += String.fromCodePoint(((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0);
        return s;
      }
      default:
        return fail('X509_MALFORMED', `${what}: expected a string, found ${describeTag(n)}`, n.offset);
    }
  } catch (e) {
    if (e instanceof X509Error) throw e;
    throw new X509Error('X509_MALFORMED', `${what}: undecodable ${typeName(n.tag)} (at offset ${n.offset})`, { cause: e });
  }
}

const UTC_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GEN_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** UTCTime or GeneralizedTime in the RFC 5280 profile (seconds, 'Z', no fractions). */
export function decodeTime(n: DerNode | undefined, what: string): Date {
  if (!n) fail('X509_MALFORMED', `${what}: missing`);
  const isUtc = n.tagClass === 'universal' && n.tag === UNIVERSAL.UTC_TIME;
  const isGen = n.tagClass === 'universal' && n.tag === UNIVERSAL.GENERALIZED_TIME;
  if (!isUtc && !isGen) fail('X509_BAD_TIME', `${what}: expected UTCTime or GeneralizedTime, found ${describeTag(n)}`, n.offset);
  if (n.constructed) fail('X509_BAD_TIME', `${what}: time must be primitive`, n.offset);
  const text = latin1.decode(n.content);
  const m = (isUtc ? UTC_RE : GEN_RE).exec(text);
  if (!m) fail('X509_BAD_TIME', `${what}: "${text.slice(0, 32)}" is not a ${isUtc ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'} time`, n.offset);
  let year = Number(m[1]);
  if (isUtc) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  // setUTCFullYear, not Date.UTC: the latter maps years 0..99 to 19xx.
  const date = new Date(0);
  date.setUTCFullYear(year, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  // Dates roll over silently (month 13, day 32); reject those rather than shift them.
  if (h > 23 || mi > 59 || s > 59 || date.getUTCFullYear() !== year || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    fail('X509_BAD_TIME', `${what}: "${text}" is not a valid date`, n.offset);
  }
  return date;
}
