import { onlyIfppErrors } from '../helpers/hostile-input.ts';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bf23DataToSign, decodeBf23, encodeBf23, signedDataOf, type Bf23Parts } from '../../src/core/rsp/bf23.ts';
import { bppLoadCalls, bppLoadPlan, buildBpp, MAX_SEGMENT_TLV, parseBpp } from '../../src/core/rsp/bpp.ts';
import { RspEncodeError } from '../../src/core/rsp/errors.ts';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeHeader, tlv, TlvError } from '../../src/core/tlv/ber-tlv.ts';
import { IfppError } from '../../src/core/errors.ts';

const parts: Bf23Parts = {
  transactionId: fromHex('0102030405060708090a0b0c0d0e0f10'),
  hostId: fromHex('4d61686c7a656974'),
  smdpOtpk: concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(0x11)),
};
const sig = new Uint8Array(64).fill(0x5a);
const euiccOtpk = concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(0x22));
const bf23 = encodeBf23({ ...parts, smdpSign: sig });

/** A protected segment of the given total TLV size (content is filler: structure only here). */
function seg(tag: number, total: number, fill = 0xee): Uint8Array {
  const header = total - 2 <= 0x7f ? 2 : total - 3 <= 0xff ? 3 : 4;
  return tlv(tag, new Uint8Array(total - header).fill(fill));
}

function sampleBpp(opts: { a2?: boolean; n86?: number; n88?: number; n87?: number } = {}): Uint8Array {
  return buildBpp({
    bf23Raw: bf23,
    seq87: Array.from({ length: opts.n87 ?? 1 }, (_, i) => seg(0x87, 40 + i, 0x70 + i)),
    seq88: Array.from({ length: opts.n88 ?? 2 }, (_, i) => seg(0x88, 100 + i, 0x80 + i)),
    secondSeq87: opts.a2 ? [seg(0x87, 56, 0x33)] : undefined,
    seq86: Array.from({ length: opts.n86 ?? 3 }, (_, i) => seg(0x86, i === 0 ? MAX_SEGMENT_TLV : 300 + i, 0x90 + i)),
  });
}


describe('BF23 InitialiseSecureChannelRequest', () => {
  it('round-trips with defaults (remoteOpId 1, AES, 16-byte keys)', () => {
    const d = decodeBf23(bf23);
    expect(d.remoteOpId).toBe(1);
    expect(toHex(d.transactionId)).toBe(toHex(parts.transactionId));
    expect(d.controlRefTemplate.keyType).toBe(0x88);
    expect(d.controlRefTemplate.keyLen).toBe(0x10);
    expect(toHex(d.controlRefTemplate.hostId)).toBe('4d61686c7a656974');
    expect(toHex(d.smdpOtpk)).toBe(toHex(parts.smdpOtpk));
    expect(toHex(d.smdpSign)).toBe(toHex(sig));
    expect(d.raw).toEqual(bf23);
  });

  it('signed data is 82|80|A6|5F49 then 5F49 euiccOtpk, identical on both sides', () => {
    const expected =
      '820101' +
      '8010' + toHex(parts.transactionId) +
      'a610' + '800188' + '810110' + '8408' + '4d61686c7a656974' +
      '5f4941' + toHex(parts.smdpOtpk) +
      '5f4941' + toHex(euiccOtpk);
    expect(toHex(bf23DataToSign(parts, euiccOtpk))).toBe(expected);
    expect(toHex(signedDataOf(decodeBf23(bf23), euiccOtpk))).toBe(expected);
    expect(toHex(signedDataOf(bf23, euiccOtpk))).toBe(expected);
  });

  it('keeps signed bytes as received even with non-minimal lengths', () => {
    // transactionId with a long-form length (81 10) and hostId with 81 08: valid BER, not DER.
    const odd = tlv(
      0xbf23,
      fromHex('820101'),
      fromHex('808110'), parts.transactionId,
      tlv(0xa6, fromHex('800188810110'), fromHex('848108'), parts.hostId),
      tlv(0x5f49, parts.smdpOtpk),
      tlv(0x5f37, sig),
    );
    const d = decodeBf23(odd);
    expect(toHex(d.transactionId)).toBe(toHex(parts.transactionId));
    const signed = signedDataOf(d, euiccOtpk);
    expect(toHex(signed)).toContain('808110' + toHex(parts.transactionId));
    expect(toHex(signed)).toContain('848108' + toHex(parts.hostId));
    expect(toHex(signed)).not.toBe(toHex(bf23DataToSign(parts, euiccOtpk)));
  });

  it('is strict about order, presence, extras and sizes', () => {
    const els = {
      op: fromHex('820101'),
      tid: tlv(0x80, parts.transactionId),
      crt: tlv(0xa6, fromHex('800188810110'), tlv(0x84, parts.hostId)),
      pk: tlv(0x5f49, parts.smdpOtpk),
      sg: tlv(0x5f37, sig),
    };
    const err = (b: Uint8Array) => {
      try {
        decodeBf23(b);
      } catch (e) {
        expect(e).toBeInstanceOf(TlvError);
        return (e as TlvError).message;
      }
      throw new Error('decoded without error');
    };
    expect(err(tlv(0xbf23, els.tid, els.op, els.crt, els.pk, els.sg))).toMatch(/BF23 > 80: expected remoteOpId \(82\)/);
    expect(err(tlv(0xbf23, els.op, els.tid, els.crt, els.pk))).toMatch(/BF23 > 5F37 \(smdpSign\) missing/);
    expect(err(tlv(0xbf23, els.op, els.tid, els.crt, els.pk, els.sg, fromHex('9000')))).toMatch(/unexpected element after smdpSign/);
    expect(err(tlv(0xbf23, els.op, tlv(0x80, new Uint8Array(17)), els.crt, els.pk, els.sg))).toMatch(/transactionId.*length 17/);
    expect(err(tlv(0xbf23, els.op, els.tid, tlv(0xa6, fromHex('80028800810110'), tlv(0x84, parts.hostId)), els.pk, els.sg))).toMatch(
      /BF23 > A6 > 80 \(keyType\)/,
    );
    expect(err(tlv(0xbf23, els.op, els.tid, tlv(0xa6, fromHex('800188810110')), els.pk, els.sg))).toMatch(/A6 > 84 \(hostId\) missing/);
    expect(err(tlv(0xbf36, els.op))).toMatch(/expected InitialiseSecureChannelRequest/);
  });

  it('encoder refuses out-of-range values', () => {
    expect(() => encodeBf23({ ...parts, transactionId: new Uint8Array(0), smdpSign: sig })).toThrow(RspEncodeError);
    expect(() => encodeBf23({ ...parts, hostId: new Uint8Array(17), smdpSign: sig })).toThrow(/hostId/);
    expect(() => encodeBf23({ ...parts, keyLen: 300, smdpSign: sig })).toThrow(/keyLen/);
    expect(() => encodeBf23({ ...parts, smdpSign: new Uint8Array(0) })).toThrow(/smdpSign/);
  });
});

describe('BPP (BF36)', () => {
  it('parses what buildBpp produced, with counts and sizes', () => {
    const bytes = sampleBpp({ a2: true });
    const b = parseBpp(bytes);
    expect(b.raw).toEqual(bytes);
    expect(b.bf23.raw).toEqual(bf23);
    expect(b.counts).toEqual({ seq87: 1, seq88: 2, secondSeq87: 1, seq86: 3 });
    expect(b.sizes.total).toBe(bytes.length);
    expect(b.sizes.bf23).toBe(bf23.length);
    expect(b.sizes.seq88).toBe(100 + 101);
    expect(b.sizes.largestSegment).toBe(MAX_SEGMENT_TLV);
    expect(b.secondSequenceOf87?.items.length).toBe(1);
    expect(parseBpp(sampleBpp()).secondSequenceOf87).toBeUndefined();
  });

  it('load calls concatenate to exactly the BPP (with and without A2, several 87s)', () => {
    for (const o of [{}, { a2: true }, { n87: 3, n88: 1, n86: 14 }, { n88: 0, n86: 0 }]) {
      const bytes = sampleBpp(o);
      const calls = bppLoadCalls(bytes);
      expect(toHex(concatBytes(...calls))).toBe(toHex(bytes));
    }
  });

  it('cuts the segments in the SGP.22 order', () => {
    const bytes = sampleBpp({ a2: true });
    const b = parseBpp(bytes);
    const plan = bppLoadPlan(b);
    expect(plan.map((c) => c.kind)).toEqual(['bf23', 'a0', 'a1', 'a1-88', 'a1-88', 'a2', 'a3', 'a3-86', 'a3-86', 'a3-86']);
    // (1) BF36 header + the whole BF23
    expect(toHex(plan[0]!.bytes)).toBe(toHex(concatBytes(b.header, bf23)));
    // (2) A0 header with its 87
    expect(toHex(plan[1]!.bytes)).toBe(toHex(b.firstSequenceOf87.raw));
    // (3) A1 header alone, then each 88
    expect(toHex(plan[2]!.bytes)).toBe(toHex(encodeHeader(0xa1, 201)));
    expect(plan[3]!.bytes[0]).toBe(0x88);
    expect(plan[3]!.bytes.length).toBe(100);
    // (5) A2 header with its first 87
    expect(toHex(plan[5]!.bytes)).toBe(toHex(b.secondSequenceOf87!.raw));
    // (6) A3 header alone, (7) each 86
    expect(plan[6]!.bytes).toEqual(b.sequenceOf86.header);
    expect(plan[7]!.bytes.length).toBe(MAX_SEGMENT_TLV);
    expect(toHex(plan[7]!.bytes.subarray(0, 4))).toBe('868203f8');
  });

  it('sends a further 87 of A0 as its own call', () => {
    const plan = bppLoadPlan(sampleBpp({ n87: 2 }));
    expect(plan.slice(0, 3).map((c) => c.kind)).toEqual(['bf23', 'a0', 'a0-87']);
    expect(plan[2]!.bytes[0]).toBe(0x87);
  });

  it('keeps received headers, even non-minimal ones, in the calls', () => {
    const s88 = seg(0x88, 20);
    const s86 = seg(0x86, 30);
    const a1Long = concatBytes(fromHex('a18200'), Uint8Array.of(s88.length), s88); // A1 82 00 14: long form
    const a3 = tlv(0xa3, s86);
    const a0 = tlv(0xa0, seg(0x87, 20));
    const body = concatBytes(bf23, a0, a1Long, a3);
    const bytes = concatBytes(fromHex('bf3682'), Uint8Array.of(body.length >> 8, body.length & 255), body);
    const calls = bppLoadCalls(bytes);
    expect(toHex(calls[0]!.subarray(0, 5))).toBe(toHex(bytes.subarray(0, 5)));
    expect(toHex(calls[2]!)).toBe('a1820014');
    expect(toHex(concatBytes(...calls))).toBe(toHex(bytes));
  });

  it('reads 1036-byte segments (tolerant) but never builds more than 1020', () => {
    const big = seg(0x86, 1036);
    const bytes = tlv(0xbf36, bf23, tlv(0xa0, seg(0x87, 30)), tlv(0xa1, seg(0x88, 30)), tlv(0xa3, big));
    expect(parseBpp(bytes).sizes.largestSegment).toBe(1036);
    expect(() => buildBpp({ bf23Raw: bf23, seq87: [seg(0x87, 30)], seq88: [], seq86: [seg(0x86, 1021)] })).toThrow(/1021 bytes/);
  });

  it('buildBpp checks its inputs', () => {
    const ok = { bf23Raw: bf23, seq87: [seg(0x87, 30)], seq88: [seg(0x88, 30)], seq86: [seg(0x86, 30)] };
    expect(() => buildBpp({ ...ok, seq87: [] })).toThrow(/A0 needs/);
    expect(() => buildBpp({ ...ok, secondSeq87: [] })).toThrow(/A2/);
    expect(() => buildBpp({ ...ok, seq86: [seg(0x87, 30)] })).toThrow(/tag 87, expected 86/);
    expect(() => buildBpp({ ...ok, seq88: [fromHex('880500')] })).toThrow(/not one TLV/);
    expect(() => buildBpp({ ...ok, bf23Raw: fromHex('bf2300') })).toThrow(/bf23Raw/);
  });

  it('names where the structure is wrong', () => {
    const a0 = tlv(0xa0, seg(0x87, 30));
    const a1 = tlv(0xa1, seg(0x88, 30));
    const a3 = tlv(0xa3, seg(0x86, 30));
    const msg = (b: Uint8Array) => {
      try {
        parseBpp(b);
      } catch (e) {
        expect(e).toBeInstanceOf(TlvError);
        return (e as Error).message;
      }
      throw new Error('parsed');
    };
    expect(msg(tlv(0xbf36, bf23, a0, a1))).toMatch(/BF36 > A3 \(sequenceOf86\) missing/);
    expect(msg(tlv(0xbf36, bf23, a1, a0, a3))).toMatch(/BF36 > A1: expected firstSequenceOf87 \(A0\)/);
    expect(msg(tlv(0xbf36, a0, a1, a3))).toMatch(/BF36 > A0: expected initialiseSecureChannelRequest \(BF23\)/);
    expect(msg(tlv(0xbf36, bf23, a0, a1, a3, a3))).toMatch(/unexpected element after sequenceOf86/);
    expect(msg(tlv(0xbf36, bf23, a0, a1, tlv(0xa3, seg(0x87, 30))))).toMatch(/BF36 > A3 > 87: sequenceOf86 may hold only 86/);
    expect(msg(tlv(0xbf36, bf23, tlv(0xa0), a1, a3))).toMatch(/A0 \(firstSequenceOf87\) holds no 87/);
    expect(msg(tlv(0xbf37, bf23))).toMatch(/expected BoundProfilePackage/);
    expect(msg(tlv(0xbf36, fromHex('bf2300'), a0, a1, a3))).toMatch(/BF36 > BF23 > 82 \(remoteOpId\) missing/);
  });

  it('throws only IfppError on random bytes and every truncation of a valid BPP', () => {
    const bytes = sampleBpp({ a2: true, n86: 2 });
    for (let n = 0; n < bytes.length; n++) {
      expect(() => parseBpp(bytes.subarray(0, n))).toThrow(IfppError);
    }
    for (let n = 0; n < bf23.length; n++) expect(() => decodeBf23(bf23.subarray(0, n))).toThrow(IfppError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (rnd, pos, val) => {
        onlyIfppErrors(() => parseBpp(rnd));
        onlyIfppErrors(() => decodeBf23(rnd));
        onlyIfppErrors(() => bppLoadCalls(concatBytes(fromHex('bf36'), rnd)));
        const mutated = bytes.slice();
        mutated[pos] = val;
        onlyIfppErrors(() => {
          const calls = bppLoadCalls(mutated);
          // Whatever parses must still cut into calls that rebuild the input.
          expect(toHex(concatBytes(...calls))).toBe(toHex(mutated));
        });
      }),
      { numRuns: 1500 },
    );
  });
});
