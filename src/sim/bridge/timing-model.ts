/**
 * Timing model of the card contact (hardware/PROTOCOL.md §7): how long the characters of an
 * exchange occupy the I/O line at a given Fi/Di and clock, so benchmarks have a physical
 * lower bound. Pure functions; all times in seconds.
 *
 * Rules (ISO/IEC 7816-3):
 * - etu = (Fi / Di) / f.
 * - Consecutive characters in one direction start 12 etu apart (start + 8 data + parity + 2
 *   guard); from the reader to the card 12 + N etu, N = extra guard time from TC1.
 * - Consecutive characters in opposite directions start at least 16 etu apart (turnaround).
 * - The last character of an exchange counts 12 etu (until its guard time ends).
 * - The card's own processing time adds on top (beyond the 16-etu minimum turnaround).
 * - ATR and PPS run at the default Fd = 372, Dd = 1; the ATR starts after RST has been low
 *   for RST_LOW_CLOCKS and then atrDelayClocks (the card's; ISO 400..40000) more clocks.
 */
import { DD, FD } from '../../core/bridge-protocol/iso7816.ts';

export const CHAR_ETU = 12;
export const TURNAROUND_ETU = 16;
/** Clock cycles the bridge holds RST low at a reset (ISO minimum 400). */
export const RST_LOW_CLOCKS = 400;
/** A card that has not started its ATR 40000 clocks after RST rose is mute. */
export const ATR_MUTE_CLOCKS = 40000;
/** The card must answer PPS within the initial waiting time, 9600 etu. */
export const PPS_WAIT_ETU = 9600;

export type Direction = 'toCard' | 'fromCard';

/** A run of consecutive characters in one direction. */
export interface Run {
  dir: Direction;
  chars: number;
}

export interface LinkParams {
  fi: number;
  di: number;
  clockHz: number;
  /** Extra guard time N from TC1 (0..254). */
  guardN: number;
}

export function etuSeconds(fi: number, di: number, clockHz: number): number {
  return fi / di / clockHz;
}

/** Duration in etu of a sequence of character runs (empty runs are skipped). */
export function exchangeEtu(runs: readonly Run[], guardN = 0): number {
  const live = runs.filter((r) => r.chars > 0);
  let etu = 0;
  live.forEach((r, i) => {
    const same = r.dir === 'toCard' ? CHAR_ETU + guardN : CHAR_ETU;
    const last = i === live.length - 1 ? CHAR_ETU : live[i + 1]!.dir === r.dir ? same : TURNAROUND_ETU;
    etu += (r.chars - 1) * same + last;
  });
  return etu;
}

/** What crossed the contact in one T=0 TPDU exchange. */
export interface TpduShape {
  /** Command data bytes after the 5-byte header (case 3/4: P3; else 0). */
  commandData: number;
  /** Response data bytes before SW1 SW2 (case 2 only under T=0). */
  responseData: number;
  /** The card answered SW right after the header without taking the command data. */
  earlySw?: boolean;
}

/**
 * The character runs of a T=0 exchange as the bridge runs it (one INS procedure byte, then
 * all data; NULL bytes fall inside the card's processing time and are not counted):
 *   case 1, or refused:  header > SW1 SW2
 *   case 2:              header > INS data SW1 SW2
 *   case 3:              header > INS > data > SW1 SW2
 */
export function t0Runs(s: TpduShape): Run[] {
  const header: Run = { dir: 'toCard', chars: 5 };
  if (s.commandData > 0 && !s.earlySw) {
    return [header, { dir: 'fromCard', chars: 1 }, { dir: 'toCard', chars: s.commandData }, { dir: 'fromCard', chars: 2 }];
  }
  if (s.commandData === 0 && s.responseData > 0) return [header, { dir: 'fromCard', chars: 1 + s.responseData + 2 }];
  return [header, { dir: 'fromCard', chars: 2 }];
}

/** Wire time of one T=0 TPDU exchange at the negotiated link parameters. */
export function tpduWireSeconds(s: TpduShape, link: LinkParams): number {
  return exchangeEtu(t0Runs(s), link.guardN) * etuSeconds(link.fi, link.di, link.clockHz);
}

/** Cold or warm reset: RST low, the card's ATR delay, then the ATR characters at the default etu. */
export function resetSeconds(atrLength: number, clockHz: number, atrDelayClocks = 400, rstLowClocks = RST_LOW_CLOCKS): number {
  return (rstLowClocks + atrDelayClocks) / clockHz + exchangeEtu([{ dir: 'fromCard', chars: atrLength }]) * etuSeconds(FD, DD, clockHz);
}

/** How long the bridge waits before it calls a reset mute. */
export function muteResetSeconds(clockHz: number, rstLowClocks = RST_LOW_CLOCKS): number {
  return (rstLowClocks + ATR_MUTE_CLOCKS) / clockHz;
}

/** PPS request and answer at the default etu (the guard time N of TC1 already applies). */
export function ppsSeconds(requestLength: number, answerLength: number, clockHz: number, guardN = 0): number {
  return exchangeEtu([{ dir: 'toCard', chars: requestLength }, { dir: 'fromCard', chars: answerLength }], guardN) * etuSeconds(FD, DD, clockHz);
}

/** PPS request sent, then the initial waiting time without an answer. */
export function ppsMuteSeconds(requestLength: number, clockHz: number, guardN = 0): number {
  return (exchangeEtu([{ dir: 'toCard', chars: requestLength }], guardN) + PPS_WAIT_ETU) * etuSeconds(FD, DD, clockHz);
}

/** Work waiting time WWT = 960 x WI x Fi / f: the longest silence allowed from the card under T=0. */
export function wwtSeconds(wi: number, fi: number, clockHz: number): number {
  return (960 * wi * fi) / clockHz;
}

/** Header sent, then a whole WWT of silence: when the bridge gives up on a TPDU. */
export function tpduTimeoutSeconds(link: LinkParams, wi: number): number {
  return exchangeEtu([{ dir: 'toCard', chars: 5 }], link.guardN) * etuSeconds(link.fi, link.di, link.clockHz) + wwtSeconds(wi, link.fi, link.clockHz);
}
