/**
 * ISO/IEC 7816-3 facts the bridge and its driver both need: Fi/Di tables, ATR structure (the
 * bridge must parse the ATR to know where it ends and which guard/waiting times apply) and PPS
 * request/answer rules. Pure functions.
 */
import { IfppError } from '../errors.ts';

export class Iso7816Error extends IfppError {}

/** Fi and the maximum clock it allows, by TA1 high nibble (RFU entries absent). */
const FI: Record<number, { fi: number; fmaxHz: number }> = {
  0x0: { fi: 372, fmaxHz: 4e6 },
  0x1: { fi: 372, fmaxHz: 5e6 },
  0x2: { fi: 558, fmaxHz: 6e6 },
  0x3: { fi: 744, fmaxHz: 8e6 },
  0x4: { fi: 1116, fmaxHz: 12e6 },
  0x5: { fi: 1488, fmaxHz: 16e6 },
  0x6: { fi: 1860, fmaxHz: 20e6 },
  0x9: { fi: 512, fmaxHz: 5e6 },
  0xa: { fi: 768, fmaxHz: 7.5e6 },
  0xb: { fi: 1024, fmaxHz: 10e6 },
  0xc: { fi: 1536, fmaxHz: 15e6 },
  0xd: { fi: 2048, fmaxHz: 20e6 },
};
/** Di by TA1 low nibble. */
const DI: Record<number, number> = { 0x1: 1, 0x2: 2, 0x3: 4, 0x4: 8, 0x5: 16, 0x6: 32, 0x7: 64, 0x8: 12, 0x9: 20 };

/** Default transmission parameters until PPS (or specific mode) changes them. */
export const FD = 372;
export const DD = 1;
export const TA1_DEFAULT = 0x11;
/** Default waiting time integer (TC2 absent). */
export const WI_DEFAULT = 10;

export interface FiDi {
  fi: number;
  di: number;
  /** Highest clock frequency the card allows with this Fi. */
  fmaxHz: number;
}

export function isValidTa1(ta1: number): boolean {
  return FI[(ta1 >> 4) & 0xf] !== undefined && DI[ta1 & 0xf] !== undefined;
}

export function fiDiFromTa1(ta1: number): FiDi {
  const f = FI[(ta1 >> 4) & 0xf];
  const di = DI[ta1 & 0xf];
  if (!f || di === undefined || ta1 < 0 || ta1 > 0xff) {
    throw new Iso7816Error('ISO_BAD_TA1', `TA1 0x${ta1.toString(16)} names a reserved Fi or Di`);
  }
  return { fi: f.fi, di, fmaxHz: f.fmaxHz };
}

export interface Atr {
  bytes: Uint8Array;
  convention: 'direct' | 'inverse';
  /** Interface bytes by index i (1-based, as in TAi); undefined when absent. */
  ta: (number | undefined)[];
  tb: (number | undefined)[];
  tc: (number | undefined)[];
  /** Protocols offered by the TD bytes, in order (T=0 when there is no TD1). */
  protocols: number[];
  historical: Uint8Array;
  tck: number | undefined;
  /** Fi/Di the card proposes (TA1, else the defaults). */
  ta1: number;
  /** Extra guard time N from TC1 (0 when absent; 255 means the 12-etu minimum, i.e. 0 here). */
  guardN: number;
  /** Waiting time integer WI from TC2 (T=0), default 10. */
  wi: number;
  /** TA2 present: the card is in specific mode and uses TA1's Fi/Di without PPS. */
  specificMode: boolean;
}

interface Layout {
  /** Total ATR length in bytes, or undefined while more bytes are needed to know it. */
  length: number | undefined;
  ta: (number | undefined)[];
  tb: (number | undefined)[];
  tc: (number | undefined)[];
  protocols: number[];
  hasTck: boolean;
  historicalAt: number;
  k: number;
}

function layout(b: Uint8Array): Layout {
  const ta: (number | undefined)[] = [];
  const tb: (number | undefined)[] = [];
  const tc: (number | undefined)[] = [];
  const protocols: number[] = [];
  const out = (length: number | undefined, historicalAt = 0, k = 0, hasTck = false): Layout => ({ length, ta, tb, tc, protocols, hasTck, historicalAt, k });
  if (b.length < 2) return out(undefined);
  const t0 = b[1]!;
  const k = t0 & 0x0f;
  let y = t0 >> 4;
  let p = 2;
  let i = 1;
  let hasTck = false;
  for (;;) {
    const need = (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1) + ((y >> 3) & 1);
    if (b.length < p + need) return out(undefined);
    ta[i] = y & 1 ? b[p++] : undefined;
    tb[i] = y & 2 ? b[p++] : undefined;
    tc[i] = y & 4 ? b[p++] : undefined;
    if (!(y & 8)) break;
    const td = b[p++]!;
    const t = td & 0x0f;
    protocols.push(t);
    if (t !== 0) hasTck = true;
    y = td >> 4;
    i++;
  }
  if (protocols.length === 0) protocols.push(0);
  return out(p + k + (hasTck ? 1 : 0), p, k, hasTck);
}

/**
 * How many bytes the ATR whose first bytes are `prefix` has in total, or undefined while that
 * cannot be known yet. This is how the bridge knows it has read the whole ATR.
 */
export function atrLength(prefix: Uint8Array): number | undefined {
  return layout(prefix).length;
}

/** Parses a complete ATR; throws Iso7816Error when it is malformed, short, long or its TCK is wrong. */
export function parseAtr(bytes: Uint8Array): Atr {
  const ts = bytes[0];
  if (ts !== 0x3b && ts !== 0x3f) throw new Iso7816Error('ISO_BAD_ATR', `ATR TS byte ${ts === undefined ? 'missing' : '0x' + ts.toString(16)} is neither 3B nor 3F`);
  const l = layout(bytes);
  if (l.length === undefined || bytes.length < l.length) throw new Iso7816Error('ISO_BAD_ATR', `ATR is truncated (${bytes.length} bytes)`);
  if (bytes.length > l.length) throw new Iso7816Error('ISO_BAD_ATR', `ATR has ${bytes.length - l.length} byte(s) after its end`);
  let tck: number | undefined;
  if (l.hasTck) {
    let x = 0;
    for (let i = 1; i < bytes.length; i++) x ^= bytes[i]!;
    if (x !== 0) throw new Iso7816Error('ISO_BAD_ATR', 'ATR check byte TCK is wrong');
    tck = bytes[bytes.length - 1];
  }
  const ta1 = l.ta[1] ?? TA1_DEFAULT;
  if (!isValidTa1(ta1)) throw new Iso7816Error('ISO_BAD_ATR', `ATR TA1 0x${ta1.toString(16)} names a reserved Fi or Di`);
  const tc1 = l.tc[1];
  // TC2 is T=0 specific; it only means WI when TD1 announced T=0.
  const tc2 = l.protocols[0] === 0 ? l.tc[2] : undefined;
  return {
    bytes,
    convention: ts === 0x3b ? 'direct' : 'inverse',
    ta: l.ta,
    tb: l.tb,
    tc: l.tc,
    protocols: l.protocols,
    historical: bytes.slice(l.historicalAt, l.historicalAt + l.k),
    tck,
    ta1,
    guardN: tc1 === undefined || tc1 === 0xff ? 0 : tc1,
    wi: tc2 === undefined || tc2 === 0 ? WI_DEFAULT : tc2,
    // TA2 b5 = 1 means implicit parameters, not TA1's Fi/Di (ISO 7816-3 §8.3).
    specificMode: l.ta[2] !== undefined && (l.ta[2] & 0x10) === 0,
  };
}

/** Builds an ATR (T=0 only, direct convention) for simulated cards. */
export function buildAtr(opts: { ta1?: number; tc1?: number; wi?: number; specificMode?: boolean; historical?: Uint8Array } = {}): Uint8Array {
  const hist = opts.historical ?? new Uint8Array();
  if (hist.length > 15) throw new Iso7816Error('ISO_BAD_ATR', 'at most 15 historical bytes');
  const needTd1 = opts.wi !== undefined || opts.specificMode === true;
  const y1 = (opts.ta1 !== undefined ? 1 : 0) | (opts.tc1 !== undefined ? 4 : 0) | (needTd1 ? 8 : 0);
  const out = [0x3b, (y1 << 4) | hist.length];
  if (opts.ta1 !== undefined) out.push(opts.ta1);
  if (opts.tc1 !== undefined) out.push(opts.tc1);
  if (needTd1) {
    const y2 = (opts.specificMode ? 1 : 0) | (opts.wi !== undefined ? 4 : 0);
    out.push((y2 << 4) | 0 /* T=0 */);
    if (opts.specificMode) out.push(0x00); // TA2: T=0, parameters changeable, use TA1
    if (opts.wi !== undefined) out.push(opts.wi);
  }
  out.push(...hist);
  return Uint8Array.from(out);
}

export interface Pps {
  protocol: number;
  pps1: number | undefined;
  pps2: number | undefined;
  pps3: number | undefined;
}

/** PPS request: FF, PPS0 (0x10 | T when PPS1 follows), PPS1, PCK. */
export function buildPps(ta1: number, protocol = 0): Uint8Array {
  const b = [0xff, 0x10 | (protocol & 0x0f), ta1 & 0xff];
  return Uint8Array.from([...b, b.reduce((x, y) => x ^ y, 0)]);
}

/** Parses and checks a PPS request or answer (PPSS, length from PPS0, PCK). */
export function parsePps(b: Uint8Array): Pps {
  const bad = (why: string) => new Iso7816Error('ISO_BAD_PPS', `PPS ${why}`);
  if (b[0] !== 0xff) throw bad('does not start with PPSS FF');
  const pps0 = b[1];
  if (pps0 === undefined) throw bad('has no PPS0');
  const n = 3 + ((pps0 >> 4) & 1) + ((pps0 >> 5) & 1) + ((pps0 >> 6) & 1);
  if (b.length !== n) throw bad(`is ${b.length} bytes, PPS0 says ${n}`);
  let x = 0;
  for (const v of b) x ^= v;
  if (x !== 0) throw bad('check byte PCK is wrong');
  let p = 2;
  const pps1 = pps0 & 0x10 ? b[p++] : undefined;
  const pps2 = pps0 & 0x20 ? b[p++] : undefined;
  const pps3 = pps0 & 0x40 ? b[p++] : undefined;
  return { protocol: pps0 & 0x0f, pps1, pps2, pps3 };
}

/**
 * Outcome of a PPS exchange (ISO 7816-3 §9.3): the TA1-style Fi/Di byte that applies from now
 * on. The answer must be a valid PPS for the same protocol; an echoed PPS1 means the proposed
 * Fi/Di applies, an absent PPS1 means the defaults. Anything else is a protocol error.
 */
export function ppsOutcome(request: Uint8Array, answer: Uint8Array): { ta1: number } {
  const req = parsePps(request);
  const ans = parsePps(answer);
  if (ans.protocol !== req.protocol) throw new Iso7816Error('ISO_BAD_PPS', `PPS answer names T=${ans.protocol}, request T=${req.protocol}`);
  if (answer[1]! & 0x80) throw new Iso7816Error('ISO_BAD_PPS', 'PPS answer has PPS0 b8 (reserved) set');
  if ((ans.pps2 !== undefined && ans.pps2 !== req.pps2) || (ans.pps3 !== undefined && ans.pps3 !== req.pps3)) {
    throw new Iso7816Error('ISO_BAD_PPS', 'PPS answer has a PPS2/PPS3 the request did not have');
  }
  if (ans.pps1 === undefined) return { ta1: TA1_DEFAULT };
  if (ans.pps1 !== req.pps1) throw new Iso7816Error('ISO_BAD_PPS', 'PPS answer has a PPS1 other than the requested one');
  return { ta1: ans.pps1 };
}

/**
 * The TPDU that carries a short command APDU under T=0 (ISO 7816-3 §12.2): case 1 gets P3 = 00,
 * case 4 loses its Le; cases 2 and 3 go as they are. The APDU's shape is the caller's to check.
 */
export function t0CommandTpdu(apdu: Uint8Array): Uint8Array {
  if (apdu.length === 4) return Uint8Array.of(...apdu, 0);
  const lc = apdu[4] ?? 0;
  return apdu.length === 6 + lc ? apdu.subarray(0, 5 + lc) : apdu;
}

/** CLA of GET RESPONSE on the logical channel of `cla` (ISO 7816-4 first and further interindustry forms). */
export function getResponseCla(cla: number): number {
  return (cla & 0x40) !== 0 ? 0x40 | (cla & 0x0f) : cla & 0x03;
}
