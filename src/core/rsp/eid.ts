/**
 * EID (SGP.29): 32 decimal digits, carried as 16 bytes of plain (not nibble-swapped) BCD.
 * The last two digits are ISO 7064 MOD 97-10 check digits: the whole 32-digit number
 * mod 97 == 1.
 */
import { RspValueError } from './errors.ts';

export const EID_BYTES = 16;

function bad(message: string, eid: string): RspValueError {
  return new RspValueError('RSP_BAD_EID', message, { eid });
}

/** 32 digits whose value mod 97 is 1. */
export function isValidEid(eid: string): boolean {
  return /^\d{32}$/.test(eid) && BigInt(eid) % 97n === 1n;
}

/** The two check digits for a 30-digit prefix. */
export function eidCheckDigits(prefix: string): string {
  if (!/^\d{30}$/.test(prefix)) throw bad(`EID prefix must be 30 decimal digits, got "${prefix}"`, prefix);
  const r = (BigInt(prefix) * 100n) % 97n;
  return String(98n - r).padStart(2, '0');
}

/** A valid EID from its first 30 digits (country, issuer, version, individual number). */
export function makeEid(prefix: string): string {
  return prefix + eidCheckDigits(prefix);
}

/** Normalises (spaces removed) and validates an EID given as text; throws RSP_BAD_EID. */
export function parseEid(text: string): string {
  const eid = text.replace(/\s/g, '');
  if (!/^\d{32}$/.test(eid)) throw bad(`EID must be 32 decimal digits, got "${text}"`, text);
  if (!isValidEid(eid)) throw bad(`EID ${eid} fails its check digits (mod 97 != 1)`, eid);
  return eid;
}

export function eidToBytes(eid: string): Uint8Array {
  const e = parseEid(eid);
  const out = new Uint8Array(EID_BYTES);
  for (let i = 0; i < EID_BYTES; i++) out[i] = (e.charCodeAt(2 * i) - 48) * 16 + (e.charCodeAt(2 * i + 1) - 48);
  return out;
}

/**
 * 16 BCD bytes to the 32-digit string. With `verify` (default) the check digits must hold;
 * turn it off only to display what a faulty chip returned.
 */
export function eidFromBytes(b: Uint8Array, opts: { verify?: boolean } = {}): string {
  if (b.length !== EID_BYTES) throw bad(`EID must be ${EID_BYTES} bytes, got ${b.length}`, '');
  let s = '';
  for (const x of b) {
    const hi = x >> 4;
    const lo = x & 15;
    if (hi > 9 || lo > 9) throw bad(`EID byte ${x.toString(16).padStart(2, '0')} is not BCD`, s);
    s += String(hi) + String(lo);
  }
  if ((opts.verify ?? true) && !isValidEid(s)) throw bad(`EID ${s} fails its check digits (mod 97 != 1)`, s);
  return s;
}
