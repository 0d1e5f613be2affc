import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { childrenOf, decodeTlv, decodeTlvList, encodeHeader, readTlv, tlv, TlvError } from '../../src/core/tlv/ber-tlv.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { IfppError } from '../../src/core/errors.ts';

describe('BER-TLV', () => {
  it('reads multi-byte tags and long lengths, keeping header and raw bytes', () => {
    const inner = tlv(0x5f49, new Uint8Array(65).fill(4));
    const outer = tlv(0xbf23, inner, tlv(0x80, fromHex('0102')));
    const t = decodeTlv(outer);
    expect(t.tag).toBe(0xbf23);
    expect(t.constructed).toBe(true);
    expect(toHex(t.header)).toBe('bf2348');
    const kids = childrenOf(t);
    expect(kids.map((k) => k.tag)).toEqual([0x5f49, 0x80]);
    expect(kids[0]!.offset).toBe(3);
    expect(kids[1]!.offset).toBe(3 + 3 + 65);
    expect(toHex(kids[1]!.raw)).toBe('80020102');
  });

  it('encodes lengths in the shortest form', () => {
    expect(toHex(encodeHeader(0x86, 0x7f))).toBe('867f');
    expect(toHex(encodeHeader(0x86, 0x80))).toBe('868180');
    expect(toHex(encodeHeader(0x86, 1016))).toBe('868203f8');
    expect(toHex(encodeHeader(0xbf36, 70000))).toBe('bf3683011170');
  });

  it('names offset and tag when truncated', () => {
    const good = tlv(0xa3, tlv(0x86, new Uint8Array(300)));
    try {
      decodeTlv(good.subarray(0, 200));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TlvError);
      expect((e as TlvError).code).toBe('TLV_TRUNCATED');
      expect((e as TlvError).tag).toBe(0xa3);
      expect((e as TlvError).message).toMatch(/offset 0, tag A3/);
    }
  });

  it('rejects indefinite and oversized lengths and trailing bytes', () => {
    expect(() => readTlv(fromHex('30800000'))).toThrow(/indefinite/);
    expect(() => readTlv(fromHex('3084ffffffff'))).toThrow(/too large/);
    expect(() => decodeTlv(fromHex('800100ff'))).toThrow(/after the element/);
  });

  it('never throws anything but typed errors on random or truncated input', () => {
    const sample = tlv(0xbf36, tlv(0xbf23, tlv(0x82, Uint8Array.of(1))), tlv(0xa3, tlv(0x86, new Uint8Array(20))));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(sample.length), (rnd, cut) => {
        for (const input of [rnd, sample.subarray(0, cut)]) {
          try {
            const list = decodeTlvList(input);
            for (const t of list) if (t.constructed) childrenOf(t);
          } catch (e) {
            if (!(e instanceof IfppError)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
