import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { eidCheckDigits, eidFromBytes, eidToBytes, isValidEid, makeEid, parseEid } from '../../src/core/rsp/eid.ts';
import { iccidFromBytes, iccidToBytes, isLuhnValid, luhnCheckDigit, parseIccid } from '../../src/core/rsp/iccid.ts';
import { RspValueError } from '../../src/core/rsp/errors.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';

// The example EID used across GSMA documents (SGP.29 structure, valid check digits).
const GSMA_EID = '89049032123451234512345678901235';

describe('EID', () => {
  it('accepts the GSMA example and recomputes its check digits', () => {
    expect(isValidEid(GSMA_EID)).toBe(true);
    expect(eidCheckDigits(GSMA_EID.slice(0, 30))).toBe('35');
    expect(makeEid(GSMA_EID.slice(0, 30))).toBe(GSMA_EID);
  });

  it('rejects a wrong check digit, wrong length and non-digits', () => {
    expect(isValidEid('89049032123451234512345678901234')).toBe(false);
    expect(isValidEid(GSMA_EID.slice(1))).toBe(false);
    expect(isValidEid(GSMA_EID.replace('9', 'a'))).toBe(false);
    expect(() => parseEid('89049032123451234512345678901234')).toThrow(RspValueError);
    expect(() => parseEid('123')).toThrow(/32 decimal digits/);
    expect(() => makeEid('123')).toThrow(/30 decimal digits/);
  });

  it('check digits below 10 are zero-padded', () => {
    // Search a prefix whose check value is a single digit, then verify the result is valid.
    let found = false;
    for (let i = 0; i < 200 && !found; i++) {
      const prefix = '890490320000000000000000' + String(i).padStart(6, '0');
      const cd = eidCheckDigits(prefix);
      expect(cd).toMatch(/^\d\d$/);
      expect(isValidEid(prefix + cd)).toBe(true);
      if (cd.startsWith('0')) found = true;
    }
    expect(found).toBe(true);
  });

  it('makeEid always yields a valid EID (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{30}$/), (p) => {
        const e = makeEid(p);
        expect(isValidEid(e)).toBe(true);
        expect(eidFromBytes(eidToBytes(e))).toBe(e);
        // Any single-digit change breaks mod 97 (97 does not divide a difference d * 10^k, |d| < 10).
        const i = Number(BigInt(p) % 32n);
        const d = e[i] === '9' ? '8' : String(Number(e[i]) + 1);
        expect(isValidEid(e.slice(0, i) + d + e.slice(i + 1))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('converts to plain BCD bytes and back, checking digits and BCD', () => {
    const b = eidToBytes(GSMA_EID);
    expect(toHex(b)).toBe(GSMA_EID);
    expect(eidFromBytes(b)).toBe(GSMA_EID);
    expect(() => eidFromBytes(fromHex('89049032123451234512345678901234'))).toThrow(/check digits/);
    expect(eidFromBytes(fromHex('89049032123451234512345678901234'), { verify: false })).toBe('89049032123451234512345678901234');
    expect(() => eidFromBytes(fromHex('8904903212345123451234567890123a'), { verify: false })).toThrow(/not BCD/);
    expect(() => eidFromBytes(new Uint8Array(15))).toThrow(/16 bytes/);
  });
});

describe('ICCID', () => {
  it('swaps nibbles and pads a 19-digit ICCID with F', () => {
    const iccid = '8944476500001224158'; // 19 digits
    const b = iccidToBytes(iccid);
    expect(toHex(b)).toBe('984474560000214251f8');
    expect(iccidFromBytes(b)).toBe(iccid);
  });

  it('handles 20 digits without padding', () => {
    const iccid = '89000123456789012341';
    const b = iccidToBytes(iccid);
    expect(toHex(b)).toBe('98001032547698103214');
    expect(iccidFromBytes(b)).toBe(iccid);
  });

  it('rejects non-BCD nibbles, digits after F and too few digits', () => {
    expect(() => iccidFromBytes(fromHex('984474560000214251a8'))).toThrow(/not BCD/);
    expect(() => iccidFromBytes(fromHex('9844745600002142f158'))).toThrow(/after F/);
    expect(() => iccidFromBytes(fromHex('984474560000214251ff'))).toThrow(/expected 19 or 20/);
    expect(() => iccidFromBytes(new Uint8Array(9))).toThrow(/10 bytes/);
    expect(() => iccidToBytes('12345')).toThrow(RspValueError);
  });

  it('parseIccid drops spaces and a trailing F', () => {
    expect(parseIccid('8944 4765 0000 1224 158F')).toBe('8944476500001224158');
  });

  it('round-trips any 19/20-digit string (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{19,20}$/), (s) => {
        expect(iccidFromBytes(iccidToBytes(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('Luhn helpers', () => {
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(isLuhnValid('79927398713')).toBe(true);
    expect(isLuhnValid('79927398710')).toBe(false);
    const body = '894447650000122415';
    expect(isLuhnValid(body + String(luhnCheckDigit(body)))).toBe(true);
  });
});
