/**
 * ATR and PPS of the simulated eUICC (ISO/IEC 7816-3 §8, §9). The bridge parses the ATR with
 * core/bridge-protocol/iso7816.ts, so this only has to build a well-formed one:
 *
 *   TS=3B  T0=(Y1,K)  TA1=Fi/Di  [TC1=N]  TD1=(Y2,T=0)  [TC2=WI]  [TD2=(Y3,T=1)  TA3=IFSC  TB3=BWI/CWI]
 *   historical bytes  [TCK when T=1 is offered]
 *
 * and to answer PPS the way a card does: echo what it accepts, answer without PPS1 (stay at
 * Fd/Dd) for a rate it cannot run, and stay silent for a malformed request or a protocol it
 * did not offer.
 */
import { fromHex } from '../../core/bytes.ts';
import { fiDiFromTa1, isValidTa1, parseAtr, parsePps } from '../../core/bridge-protocol/iso7816.ts';
import { EuiccConfigError } from './errors.ts';

export interface EuiccAtrOptions {
  /** Fi/Di the card proposes (default 0x96: Fi 512, Di 32). */
  readonly ta1?: number;
  /** Protocols offered, T=0 first (default [0]; [0, 1] adds T=1 and a TCK). */
  readonly protocols?: readonly (0 | 1)[];
  /** TC1 extra guard time N (absent by default). */
  readonly tc1?: number;
  /** TC2 waiting time integer WI for T=0 (absent by default = 10). */
  readonly wi?: number;
  /** T=1 information field size of the card (TA3), default 0xFE. */
  readonly ifsc?: number;
  /** T=1 BWI (high nibble) and CWI (low nibble) (TB3), default 0x45. */
  readonly bwiCwi?: number;
  /** Historical bytes (at most 15). */
  readonly historical?: Uint8Array;
}

/**
 * Default historical bytes: category 80 (compact-TLV follows), card service data 31 E0,
 * card capabilities 73 FE 21 1B (logical channels supported), pre-issuing data "IFPP".
 */
export const DEFAULT_HISTORICAL = fromHex('8031e073fe211b6449465050');
export const DEFAULT_TA1 = 0x96;

export function buildEuiccAtr(o: EuiccAtrOptions = {}): Uint8Array {
  const ta1 = o.ta1 ?? DEFAULT_TA1;
  if (!isValidTa1(ta1)) throw new EuiccConfigError('EUICC_BAD_TA1', `TA1 0x${ta1.toString(16)} names a reserved Fi or Di`);
  const protocols = o.protocols ?? [0];
  if (protocols[0] !== 0 || protocols.some((p) => p !== 0 && p !== 1) || new Set(protocols).size !== protocols.length) {
    throw new EuiccConfigError('EUICC_BAD_PROTOCOLS', `protocols must be [0] or [0, 1], got [${protocols.join(', ')}]`);
  }
  const t1 = protocols.includes(1);
  const hist = o.historical ?? DEFAULT_HISTORICAL;
  if (hist.length > 15) throw new EuiccConfigError('EUICC_BAD_ATR', 'at most 15 historical bytes');
  for (const [name, v] of [['tc1', o.tc1], ['wi', o.wi], ['ifsc', o.ifsc], ['bwiCwi', o.bwiCwi]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xff)) throw new EuiccConfigError('EUICC_BAD_ATR', `${name} must be a byte, got ${v}`);
  }
  if (o.wi === 0) throw new EuiccConfigError('EUICC_BAD_ATR', 'WI 0 is reserved');

  const out: number[] = [0x3b];
  // Y1: TA1 always, TC1 if given, TD1 always (it announces T=0 and carries the chain on).
  out.push(0x10 | (o.tc1 !== undefined ? 0x40 : 0) | 0x80 | hist.length);
  out.push(ta1);
  if (o.tc1 !== undefined) out.push(o.tc1);
  // TD1: T=0; Y2 = TC2 (WI) if given, TD2 if T=1 follows.
  out.push((o.wi !== undefined ? 0x40 : 0) | (t1 ? 0x80 : 0) | 0x0);
  if (o.wi !== undefined) out.push(o.wi);
  if (t1) {
    out.push(0x30 | 0x1); // TD2: TA3 + TB3 follow, T=1
    out.push(o.ifsc ?? 0xfe);
    out.push(o.bwiCwi ?? 0x45);
  }
  out.push(...hist);
  if (t1) {
    let x = 0;
    for (let i = 1; i < out.length; i++) x ^= out[i]!;
    out.push(x);
  }
  const atr = Uint8Array.from(out);
  parseAtr(atr); // self-check: what we build must be what the bridge accepts
  return atr;
}

/** What the card needs to know about its own ATR to answer PPS. */
export interface AtrCapabilities {
  readonly ta1: number;
  readonly protocols: readonly number[];
}

export function atrCapabilities(atr: Uint8Array): AtrCapabilities {
  const a = parseAtr(atr);
  return { ta1: a.ta1, protocols: a.protocols };
}

/**
 * True when the card can run the Fi/Di of `pps1`: the default rate, or the Fi it proposed
 * with a Di up to the one it proposed (a reader may ask for less than the maximum).
 */
export function ppsRateSupported(cap: AtrCapabilities, pps1: number): boolean {
  if (!isValidTa1(pps1)) return false;
  const want = fiDiFromTa1(pps1);
  if (want.fi === 372 && want.di === 1) return true;
  const can = fiDiFromTa1(cap.ta1);
  return want.fi === can.fi && want.di <= can.di;
}

export type PpsMode = 'normal' | 'decline' | 'mute';

/**
 * The card's answer to a PPS request, or null for no answer. 'normal': echo when the rate is
 * supported, else answer without PPS1; 'decline': always answer without PPS1; 'mute': never
 * answer. PPS2/PPS3 are never echoed (the card does not support them).
 */
export function ppsAnswer(cap: AtrCapabilities, request: Uint8Array, mode: PpsMode = 'normal'): Uint8Array | null {
  if (mode === 'mute') return null;
  let req;
  try {
    req = parsePps(request);
  } catch {
    return null; // ISO 7816-3 §9.3: an erroneous request gets no answer
  }
  if (!cap.protocols.includes(req.protocol)) return null;
  const accept = mode === 'normal' && req.pps1 !== undefined && ppsRateSupported(cap, req.pps1);
  const bytes = accept ? [0xff, 0x10 | req.protocol, req.pps1!] : [0xff, req.protocol];
  return Uint8Array.from([...bytes, bytes.reduce((x, y) => x ^ y, 0)]);
}
