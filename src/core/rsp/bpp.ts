/**
 * BoundProfilePackage (BF36, SGP.22 v2.x §2.5) at the TLV level:
 *
 *   BF36 { BF23, A0 {87..}, A1 {88..}, [A2 {87..}], A3 {86..} }
 *
 * The station never decrypts: it checks the structure, cuts the package into the ES10b
 * LoadBoundProfilePackage calls (§2.5, "segmented BPP") along the received TLV headers, and
 * pushes the calls unchanged. Everything here is views into the received bytes, so the calls
 * concatenate back to exactly the package.
 */
import { childrenOf, decodeTlv, tagHex, tlv, TlvError, type Tlv } from '../tlv/ber-tlv.ts';
import { decodeBf23, decodeBf23Tlv, TAG_BF23, type Bf23 } from './bf23.ts';
import { sub } from './der.ts';
import { RspEncodeError } from './errors.ts';

export const TAG_BPP = 0xbf36;

/**
 * Largest protected segment we produce: `86 82 03 F8` + 1008 bytes of ciphertext + 8 of MAC
 * (SGP.22 v2.x §2.5). Reading is tolerant: one widely used encoder emits 1036-byte segments.
 */
export const MAX_SEGMENT_TLV = 1020;

export interface BppSequence {
  /** A0, A1, A2 or A3. */
  readonly tag: number;
  /** Tag and length bytes as received. */
  readonly header: Uint8Array;
  /** The whole sequence TLV as received. */
  readonly raw: Uint8Array;
  readonly offset: number;
  /** The 87/88/86 TLVs, as received. */
  readonly items: readonly Tlv[];
}

export interface Bpp {
  readonly raw: Uint8Array;
  /** Absolute offset of BF36 in the buffer it was parsed from (0 for parseBpp). */
  readonly offset: number;
  /** BF36 tag and length as received. */
  readonly header: Uint8Array;
  readonly bf23: Bf23;
  /** A0: ConfigureISDP (BF24) encrypted in 87 segments. */
  readonly firstSequenceOf87: BppSequence;
  /** A1: StoreMetadata (BF25), MAC-only 88 segments. */
  readonly sequenceOf88: BppSequence;
  /** A2: ReplaceSessionKeys (BF26) in 87 segments, when the SM-DP used PPKs. */
  readonly secondSequenceOf87: BppSequence | undefined;
  /** A3: the protected profile, 86 segments. */
  readonly sequenceOf86: BppSequence;
  readonly counts: { readonly seq87: number; readonly seq88: number; readonly secondSeq87: number; readonly seq86: number };
  readonly sizes: {
    readonly total: number;
    readonly bf23: number;
    readonly seq87: number;
    readonly seq88: number;
    readonly secondSeq87: number;
    readonly seq86: number;
    /** Largest single 87/88/86 TLV. */
    readonly largestSegment: number;
  };
}

const SEQ_NAMES: Record<number, [string, number]> = {
  0xa0: ['firstSequenceOf87', 0x87],
  0xa1: ['sequenceOf88', 0x88],
  0xa2: ['secondSequenceOf87', 0x87],
  0xa3: ['sequenceOf86', 0x86],
};

function parseSequence(t: Tlv, path: string): BppSequence {
  const [what, itemTag] = SEQ_NAMES[t.tag]!;
  const p = sub(path, t);
  if (!t.constructed) throw new TlvError('TLV_BAD_VALUE', `${p} (${what}): must be constructed`, t.offset, t.tag);
  const items = childrenOf(t);
  for (const it of items) {
    if (it.tag !== itemTag) {
      throw new TlvError('TLV_UNEXPECTED_TAG', `${sub(p, it)}: ${what} may hold only ${tagHex(itemTag)} segments`, it.offset, it.tag);
    }
    if (it.constructed) throw new TlvError('TLV_BAD_VALUE', `${sub(p, it)}: segment must be primitive`, it.offset, it.tag);
    if (it.value.length === 0) throw new TlvError('TLV_BAD_VALUE', `${sub(p, it)}: empty segment`, it.offset, it.tag);
  }
  // A0 and A2 are loaded as "header + first 87": they cannot be empty.
  if ((t.tag === 0xa0 || t.tag === 0xa2) && items.length === 0) {
    throw new TlvError('TLV_MISSING_ELEMENT', `${p} (${what}) holds no 87 segment`, t.offset, t.tag);
  }
  return { tag: t.tag, header: t.header, raw: t.raw, offset: t.offset, items };
}

/**
 * Parses and structure-checks a BPP. Order is strict (BF23, A0, A1, [A2], A3, nothing else),
 * because the load calls are cut along it. Segment sizes are not limited here (tolerant).
 */
export function parseBpp(bytes: Uint8Array): Bpp {
  const top = decodeTlv(bytes);
  const path = 'BF36';
  if (top.tag !== TAG_BPP) {
    throw new TlvError('TLV_UNEXPECTED_TAG', `expected BoundProfilePackage (BF36), found ${tagHex(top.tag)}`, top.offset, top.tag);
  }
  const kids = childrenOf(top);
  const want: [number, string, boolean][] = [
    [TAG_BF23, 'initialiseSecureChannelRequest', true],
    [0xa0, 'firstSequenceOf87', true],
    [0xa1, 'sequenceOf88', true],
    [0xa2, 'secondSequenceOf87', false],
    [0xa3, 'sequenceOf86', true],
  ];
  const found = new Map<number, Tlv>();
  let i = 0;
  for (const [tag, what, required] of want) {
    const k = kids[i];
    if (k && k.tag === tag) {
      found.set(tag, k);
      i++;
    } else if (required) {
      if (!k) throw new TlvError('TLV_MISSING_ELEMENT', `${sub(path, tag)} (${what}) missing`, top.offset, top.tag);
      const known = want.some(([t]) => t === k.tag);
      throw new TlvError(
        'TLV_UNEXPECTED_TAG',
        `${sub(path, k)}: expected ${what} (${tagHex(tag)}) here${known ? ' (elements out of order or repeated)' : ''}`,
        k.offset,
        k.tag,
      );
    }
  }
  if (i < kids.length) {
    const x = kids[i]!;
    throw new TlvError('TLV_UNEXPECTED_TAG', `${sub(path, x)}: unexpected element after sequenceOf86`, x.offset, x.tag);
  }

  const bf23 = decodeBf23Tlv(found.get(TAG_BF23)!, sub(path, TAG_BF23));
  const a0 = parseSequence(found.get(0xa0)!, path);
  const a1 = parseSequence(found.get(0xa1)!, path);
  const a2t = found.get(0xa2);
  const a2 = a2t ? parseSequence(a2t, path) : undefined;
  const a3 = parseSequence(found.get(0xa3)!, path);
  const sumItems = (s: BppSequence | undefined) => (s ? s.items.reduce((n, it) => n + it.raw.length, 0) : 0);
  let largest = 0;
  for (const s of [a0, a1, a2, a3]) for (const it of s?.items ?? []) largest = Math.max(largest, it.raw.length);
  return {
    raw: top.raw,
    offset: top.offset,
    header: top.header,
    bf23,
    firstSequenceOf87: a0,
    sequenceOf88: a1,
    secondSequenceOf87: a2,
    sequenceOf86: a3,
    counts: { seq87: a0.items.length, seq88: a1.items.length, secondSeq87: a2?.items.length ?? 0, seq86: a3.items.length },
    sizes: {
      total: top.raw.length,
      bf23: bf23.raw.length,
      seq87: sumItems(a0),
      seq88: sumItems(a1),
      secondSeq87: sumItems(a2),
      seq86: sumItems(a3),
      largestSegment: largest,
    },
  };
}

export interface BppBuildParts {
  /** A complete BF23 TLV (from encodeBf23). */
  readonly bf23Raw: Uint8Array;
  /** Complete 87 TLVs for A0. */
  readonly seq87: readonly Uint8Array[];
  /** Complete 88 TLVs for A1. */
  readonly seq88: readonly Uint8Array[];
  /** Complete 87 TLVs for A2; omit (or give undefined) for no A2. */
  readonly secondSeq87?: readonly Uint8Array[] | undefined;
  /** Complete 86 TLVs for A3. */
  readonly seq86: readonly Uint8Array[];
}

function checkSegments(list: readonly Uint8Array[], tag: number, where: string): void {
  list.forEach((seg, i) => {
    let t: Tlv;
    try {
      t = decodeTlv(seg);
    } catch (e) {
      throw new RspEncodeError(`${where} segment ${i} is not one TLV: ${(e as Error).message}`);
    }
    if (t.tag !== tag) throw new RspEncodeError(`${where} segment ${i} has tag ${tagHex(t.tag)}, expected ${tagHex(tag)}`);
    if (t.value.length === 0) throw new RspEncodeError(`${where} segment ${i} is empty`);
    if (seg.length > MAX_SEGMENT_TLV) {
      throw new RspEncodeError(`${where} segment ${i} is ${seg.length} bytes, more than the ${MAX_SEGMENT_TLV} SGP.22 allows`);
    }
  });
}

/** Assembles a BPP from already protected segments (strict: sizes and tags are checked). */
export function buildBpp(parts: BppBuildParts): Uint8Array {
  try {
    decodeBf23(parts.bf23Raw);
  } catch (e) {
    throw new RspEncodeError(`bf23Raw is not a valid BF23: ${(e as Error).message}`);
  }
  if (parts.seq87.length === 0) throw new RspEncodeError('A0 needs at least one 87 segment (ConfigureISDP)');
  if (parts.secondSeq87 && parts.secondSeq87.length === 0) throw new RspEncodeError('A2, when present, needs at least one 87 segment');
  checkSegments(parts.seq87, 0x87, 'A0');
  checkSegments(parts.seq88, 0x88, 'A1');
  if (parts.secondSeq87) checkSegments(parts.secondSeq87, 0x87, 'A2');
  checkSegments(parts.seq86, 0x86, 'A3');
  return tlv(
    TAG_BPP,
    parts.bf23Raw,
    tlv(0xa0, ...parts.seq87),
    tlv(0xa1, ...parts.seq88),
    ...(parts.secondSeq87 ? [tlv(0xa2, ...parts.secondSeq87)] : []),
    tlv(0xa3, ...parts.seq86),
  );
}

export type BppCallKind = 'bf23' | 'a0' | 'a0-87' | 'a1' | 'a1-88' | 'a2' | 'a2-87' | 'a3' | 'a3-86';

export interface BppCall {
  /** What this call carries (`a0` = A0 header with its first 87; `a0-87` = a further 87). */
  readonly kind: BppCallKind;
  /** Index of the segment within its sequence, for the item kinds. */
  readonly index: number;
  /** The ES10 payload: a view into the BPP bytes. */
  readonly bytes: Uint8Array;
}

/**
 * The ES10b.LoadBoundProfilePackage calls, in order (SGP.22 v2.x §2.5, segmented BPP):
 * (1) BF36 header + whole BF23; (2) A0 header + its first 87 (any further 87 of A0 each on its
 * own); (3) A1 header; (4) each 88; (5) A2 header + its first 87 (further ones alone), if A2 is
 * present; (6) A3 header; (7) each 86. Their concatenation is the BPP.
 */
export function bppLoadPlan(bpp: Bpp | Uint8Array): BppCall[] {
  const b = bpp instanceof Uint8Array ? parseBpp(bpp) : bpp;
  const raw = b.raw;
  const base = b.offset;
  const view = (absStart: number, absEnd: number) => raw.subarray(absStart - base, absEnd - base);
  const end = (t: { offset: number; raw: Uint8Array }) => t.offset + t.raw.length;
  const calls: BppCall[] = [{ kind: 'bf23', index: 0, bytes: view(base, end(b.bf23)) }];

  const headed = (s: BppSequence, kind: 'a0' | 'a2', itemKind: 'a0-87' | 'a2-87') => {
    const [first, ...rest] = s.items;
    calls.push({ kind, index: 0, bytes: view(s.offset, end(first!)) });
    rest.forEach((it, i) => calls.push({ kind: itemKind, index: i + 1, bytes: it.raw }));
  };
  const separate = (s: BppSequence, kind: 'a1' | 'a3', itemKind: 'a1-88' | 'a3-86') => {
    calls.push({ kind, index: 0, bytes: s.header });
    s.items.forEach((it, i) => calls.push({ kind: itemKind, index: i, bytes: it.raw }));
  };
  headed(b.firstSequenceOf87, 'a0', 'a0-87');
  separate(b.sequenceOf88, 'a1', 'a1-88');
  if (b.secondSequenceOf87) headed(b.secondSequenceOf87, 'a2', 'a2-87');
  separate(b.sequenceOf86, 'a3', 'a3-86');
  return calls;
}

/** Just the payloads of bppLoadPlan. */
export function bppLoadCalls(bpp: Bpp | Uint8Array): Uint8Array[] {
  return bppLoadPlan(bpp).map((c) => c.bytes);
}
