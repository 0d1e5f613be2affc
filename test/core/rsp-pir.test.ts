import { onlyIfppErrors } from '../helpers/hostile-input.ts';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { p256 } from '@noble/curves/nist.js';
import {
  BppCommandId,
  decodePir,
  describeFinalResult,
  encodePir,
  encodePirData,
  ErrorReason,
  NotificationEvent,
  type PirData,
} from '../../src/core/rsp/pir.ts';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { tlv, TlvError } from '../../src/core/tlv/ber-tlv.ts';
import { IfppError } from '../../src/core/errors.ts';

const { secretKey, publicKey } = p256.keygen();
const sign = (bf27: Uint8Array) => p256.sign(bf27, secretKey);

const tid = fromHex('00112233445566778899aabbccddeeff');
const meta = {
  seqNumber: 5,
  profileManagementOperation: [NotificationEvent.notificationInstall],
  notificationAddress: 'smdpf.example.com',
  iccid: '8944476500001224158',
};
const success: PirData = {
  transactionId: tid,
  notificationMetadata: meta,
  smdpOid: '2.999.10',
  finalResult: { kind: 'success', aid: fromHex('a0000005591010ffffffff8900001100'), simaResponse: fromHex('3007a00580030000') },
};
const failure: PirData = {
  transactionId: tid,
  notificationMetadata: { ...meta, iccid: undefined },
  finalResult: {
    kind: 'error',
    bppCommandId: BppCommandId.values.configureISDP,
    errorReason: ErrorReason.values.scp03tSecurityError,
  },
};


describe('ProfileInstallationResult (BF37)', () => {
  it('round-trips a success, signed over the BF27 bytes', () => {
    const bytes = encodePir(success, sign);
    const pir = decodePir(bytes);
    expect(pir.raw).toEqual(bytes);
    expect(toHex(pir.transactionId)).toBe(toHex(tid));
    expect(pir.notificationMetadata).toEqual(meta);
    expect(pir.smdpOid).toBe('2.999.10');
    expect(pir.finalResult).toEqual(success.finalResult);
    expect(toHex(pir.bf27Raw)).toBe(toHex(encodePirData(success)));
    expect(p256.verify(pir.signature, pir.bf27Raw, publicKey)).toBe(true);
    expect(describeFinalResult(pir.finalResult)).toBe('success (ISD-P a0000005591010ffffffff8900001100)');
  });

  it('uses the module tags: A2 { A0 { 4F, 04 } } and A2 { A1 { 80, 81, 82 } }', () => {
    const ok = toHex(encodePirData(success));
    expect(ok).toContain('a2' + '1e' + 'a0' + '1c' + '4f10a0000005591010ffffffff8900001100' + '04083007a00580030000');
    const bad = toHex(
      encodePirData({ ...failure, finalResult: { kind: 'error', bppCommandId: 1, errorReason: 8, simaResponse: fromHex('abcd') } }),
    );
    expect(bad).toContain('a20ca10a' + '800101' + '810108' + '8202abcd');
    expect(toHex(encodePirData(failure))).toMatch(/^bf27/);
    expect(ok).toContain('0603883' + '70a'); // smdpOid 2.999.10 as universal 06
    // notificationMetadata: 80 seq, 81 bit string (install = bit 0), 0C address, 5A iccid
    expect(ok).toContain('bf2f' + '26' + '800105' + '81020780' + '0c11' + toHex(new TextEncoder().encode('smdpf.example.com')) + '5a0a984474560000214251f8');
  });

  it('round-trips an error result and names it', () => {
    const pir = decodePir(encodePir(failure, sign));
    expect(pir.finalResult).toEqual({ kind: 'error', bppCommandId: 1, errorReason: 8, simaResponse: undefined });
    expect(pir.notificationMetadata.iccid).toBeUndefined();
    expect(pir.smdpOid).toBeUndefined();
    expect(describeFinalResult(pir.finalResult)).toBe('error in configureISDP(1): scp03tSecurityError(8)');
    expect(ErrorReason.name(127)).toBe('installFailedDueToUnknownError');
    expect(ErrorReason.describe(99)).toBe('unknown(99)');
    expect(BppCommandId.name(5)).toBe('loadProfileElements');
  });

  it('keeps the signed bytes exactly as received with non-minimal lengths', () => {
    // BF27 with a long-form length (81 xx) and a transactionId with 81 10: BER, not DER.
    const inner = concatBytes(
      fromHex('808110'),
      tid,
      tlv(0xbf2f, fromHex('800100'), fromHex('81020780'), fromHex('0c0161')),
      tlv(0xa2, tlv(0xa1, fromHex('800102'), fromHex('81820001') /* errorReason 1, length 82 00 01 */, fromHex('01'))),
    );
    const bf27 = concatBytes(fromHex('bf2781'), Uint8Array.of(inner.length), inner);
    const bytes = tlv(0xbf37, bf27, tlv(0x5f37, sign(bf27)));
    const pir = decodePir(bytes);
    expect(toHex(pir.bf27Raw)).toBe(toHex(bf27));
    expect(pir.finalResult).toEqual({ kind: 'error', bppCommandId: 2, errorReason: 1, simaResponse: undefined });
    expect(p256.verify(pir.signature, pir.bf27Raw, publicKey)).toBe(true);
    // A re-encoding would differ and not verify: the point of keeping bf27Raw.
    const re = encodePirData(pir);
    expect(toHex(re)).not.toBe(toHex(bf27));
    expect(p256.verify(pir.signature, re, publicKey)).toBe(false);
  });

  it('rejects malformed results with located TlvErrors', () => {
    const bf27 = encodePirData(success);
    const msg = (b: Uint8Array) => {
      try {
        decodePir(b);
      } catch (e) {
        expect(e).toBeInstanceOf(TlvError);
        return (e as Error).message;
      }
      throw new Error('decoded');
    };
    expect(msg(tlv(0xbf37, bf27))).toMatch(/BF37 > 5F37 \(euiccSignPIR\) missing/);
    const noFinal = tlv(0xbf27, tlv(0x80, tid), tlv(0xbf2f, fromHex('800100'), fromHex('810100'), fromHex('0c00')));
    expect(msg(tlv(0xbf37, noFinal, tlv(0x5f37, new Uint8Array(64))))).toMatch(/BF37 > BF27 > A2 \(finalResult\) missing/);
    const twoResults = tlv(
      0xbf27,
      tlv(0x80, tid),
      tlv(0xbf2f, fromHex('800100'), fromHex('810100'), fromHex('0c00')),
      tlv(0xa2, tlv(0xa1, fromHex('800100810101')), tlv(0xa1, fromHex('800100810101'))),
    );
    expect(msg(tlv(0xbf37, twoResults, tlv(0x5f37, new Uint8Array(64))))).toMatch(/exactly one/);
    const shortAid = tlv(
      0xbf27,
      tlv(0x80, tid),
      tlv(0xbf2f, fromHex('800100'), fromHex('810100'), fromHex('0c00')),
      tlv(0xa2, tlv(0xa0, fromHex('4f03a00000'), fromHex('0400'))),
    );
    expect(msg(tlv(0xbf37, shortAid, tlv(0x5f37, new Uint8Array(64))))).toMatch(/A2 > A0 > 4F \(aid\): length 3/);
    const dupTid = tlv(0xbf27, tlv(0x80, tid), tlv(0x80, tid));
    expect(msg(tlv(0xbf37, dupTid, tlv(0x5f37, new Uint8Array(64))))).toMatch(/more than once/);
    expect(msg(fromHex('bf3600'))).toMatch(/expected ProfileInstallationResult/);
  });

  it('throws only IfppError on random bytes, truncations and mutations', () => {
    const samples = [encodePir(success, sign), encodePir(failure, sign)];
    for (const s of samples) for (let n = 0; n < s.length; n++) expect(() => decodePir(s.subarray(0, n))).toThrow(IfppError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (rnd, pos, val) => {
        onlyIfppErrors(() => decodePir(rnd));
        onlyIfppErrors(() => decodePir(concatBytes(fromHex('bf37'), rnd)));
        for (const s of samples) {
          const m = s.slice();
          m[pos % m.length] = val;
          onlyIfppErrors(() => decodePir(m));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
