/**
 * Consecutive test ICCIDs: an 18-digit body counted up by one per BPP, each completed with its
 * Luhn check digit (19-digit ICCIDs, the usual length, ITU-T E.118).
 */
import { isLuhnValid, luhnCheckDigit } from '../../core/rsp/iccid.ts';
import { SmdpfError } from './errors.ts';

export const ICCID_BODY_DIGITS = 18;

export class IccidSequence {
  private next: bigint;
  private readonly last: bigint;

  /** `start`: the first ICCID's 18-digit body, or a complete 19-digit ICCID with a valid check digit. */
  constructor(start: string) {
    const s = start.replace(/\s/g, '');
    let body: string;
    if (/^\d{18}$/.test(s)) body = s;
    else if (/^\d{19}$/.test(s)) {
      if (!isLuhnValid(s)) {
        throw new SmdpfError('SMDPF_BAD_ICCID_START', `ICCID ${s} has a wrong Luhn check digit (expected ${luhnCheckDigit(s.slice(0, 18))})`, {
          hint: 'give the 18 digits before the check digit, or a complete ICCID whose last digit is its Luhn check digit',
        });
      }
      body = s.slice(0, 18);
    } else {
      throw new SmdpfError('SMDPF_BAD_ICCID_START', `--iccid-start "${start}" must be 18 digits (19 with the check digit)`, { hint: 'e.g. 894944999999000001 (89 = telecom, 49 = country code, issuer, serial)' });
    }
    if (!body.startsWith('89')) {
      throw new SmdpfError('SMDPF_BAD_ICCID_START', `ICCID ${s} does not start with 89 (the telecom industry identifier)`, { hint: 'test ICCIDs look like 8949449999…' });
    }
    this.next = BigInt(body);
    this.last = 10n ** BigInt(ICCID_BODY_DIGITS) - 1n;
  }

  /** The next ICCID (19 digits); throws when the 18-digit body would overflow. */
  take(): string {
    if (this.next > this.last) throw new SmdpfError('SMDPF_ICCID_OVERFLOW', 'the ICCID range ran past 18 digits', { hint: 'start lower' });
    const body = String(this.next).padStart(ICCID_BODY_DIGITS, '0');
    this.next++;
    return body + String(luhnCheckDigit(body));
  }
}
