/**
 * ICCID as coded in EFiccid and the RSP ASN.1 (tag 5A): 10 bytes of nibble-swapped BCD, a
 * 19-digit ICCID padded with one F. The final digit is normally a Luhn check digit; we expose
 * the Luhn helpers but do not enforce it, because profiles with a wrong one exist in the wild
 * and the eUICC does not check it either.
 */
import { RspValueError } from './errors.ts';

export const ICCID_BYTES = 10;

function bad(message: string, iccid: string): RspValueError {
  return new RspValueError('RSP_BAD_ICCID', message, { iccid });
}

/** Normalises (spaces removed, upper-case F dropped at the end) and checks 19 or 20 digits. */
export function parseIccid(text: string): string {
  const s = text.replace(/\s/g, '').replace(/[fF]$/, '');
  if (!/^\d{19,20}$/.test(s)) throw bad(`ICCID must be 19 or 20 decimal digits, got "${text}"`, text);
  return s;
}

export function iccidToBytes(iccid: string): Uint8Array {
  const s = parseIccid(iccid).padEnd(20, 'F');
  const out = new Uint8Array(ICCID_BYTES);
  for (let i = 0; i < ICCID_BYTES; i++) {
    const first = parseInt(s[2 * i]!, 16);
    const second = parseInt(s[2 * i + 1]!, 16);
    out[i] = (second << 4) | first; // the first digit goes into the low nibble
  }
  return out;
}

/** 10 swapped-BCD bytes to the digit string (19 or 20 digits; F allowed only as the last nibble). */
export function iccidFromBytes(b: Uint8Array): string {
  if (b.length !== ICCID_BYTES) throw bad(`ICCID must be ${ICCID_BYTES} bytes, got ${b.length}`, '');
  let s = '';
  for (let i = 0; i < ICCID_BYTES; i++) {
    const x = b[i]!;
    for (const d of [x & 15, x >> 4]) {
      if (d <= 9) {
        if (s.endsWith('F')) throw bad('ICCID has a digit after F padding', s);
        s += String(d);
      } else if (d === 15) {
        s += 'F';
      } else {
        throw bad(`ICCID byte ${x.toString(16).padStart(2, '0')} is not BCD`, s);
      }
    }
  }
  const digits = s.replace(/F+$/, '');
  if (digits.length < 19) throw bad(`ICCID has ${digits.length} digits, expected 19 or 20`, s);
  return digits;
}

/** Luhn check digit for a digit string (the digit to append). */
export function luhnCheckDigit(digits: string): number {
  if (!/^\d+$/.test(digits)) throw bad(`Luhn input must be digits, got "${digits}"`, digits);
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when the last digit is the Luhn check digit of the others. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  return luhnCheckDigit(digits.slice(0, -1)) === digits.charCodeAt(digits.length - 1) - 48;
}
