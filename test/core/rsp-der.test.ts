import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bitsValue,
  decodeBits,
  decodeInt,
  decodeOid,
  decodeVersion,
  intValue,
  oidValue,
  versionValue,
} from '../../src/core/rsp/der.ts';
import { RspEncodeError } from '../../src/core/rsp/errors.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { decodeTlv, tlv, TlvError } from '../../src/core/tlv/ber-tlv.ts';

const el = (tag: number, v: Uint8Array) => decodeTlv(tlv(tag, v));

describe('RSP primitive values', () => {
  it('INTEGER: minimal two’s complement, tolerant decoding', () => {
    expect([0, 1, 127, 128, 255, 256, -1, -128, -129].map((n) => toHex(intValue(n)))).toEqual([
      '00', '01', '7f', '0080', '00ff', '0100', 'ff', '80', 'ff7f',
    ]);
    expect(decodeInt(el(0x80, fromHex('0005')), 'x', 'n')).toBe(5); // non-minimal accepted
    expect(() => decodeInt(el(0x80, new Uint8Array(0)), 'x', 'n')).toThrow(TlvError);
    expect(() => decodeInt(el(0x80, new Uint8Array(7)), 'x', 'n')).toThrow(/length 7/);
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (n) => {
        expect(decodeInt(el(0x80, intValue(n)), 'x', 'n')).toBe(n);
      }),
    );
  });

  it('BIT STRING of named bits: DER form and round trip', () => {
    expect(toHex(bitsValue([]))).toBe('00');
    expect(toHex(bitsValue([0]))).toBe('0780');
    expect(toHex(bitsValue([7]))).toBe('0001');
    expect(toHex(bitsValue([8]))).toBe('070080');
    expect(decodeBits(el(0x81, fromHex('0780ff')), 'x', 'b')).toEqual([0, 8]); // 9 bits used; the rest is padding
    expect(decodeBits(el(0x81, fromHex('07ff')), 'x', 'b')).toEqual([0]); // padding bits ignored
    expect(() => decodeBits(el(0x81, fromHex('08ff')), 'x', 'b')).toThrow(/unused-bits/);
    expect(() => decodeBits(el(0x81, fromHex('01')), 'x', 'b')).toThrow(/unused-bits/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 40 })), (bits) => {
        expect(decodeBits(el(0x81, bitsValue(bits)), 'x', 'b')).toEqual([...bits].sort((a, b) => a - b));
      }),
    );
  });

  it('OBJECT IDENTIFIER: dotted <-> DER, rejecting nonsense', () => {
    expect(toHex(oidValue('2.23.146.1.2.1.5'))).toBe('6781120102010' + '5');
    expect(toHex(oidValue('1.2.840.10045.3.1.7'))).toBe('2a8648ce3d030107');
    expect(decodeOid(el(0x06, fromHex('2a8648ce3d030107')), 'x', 'oid')).toBe('1.2.840.10045.3.1.7');
    expect(() => oidValue('1.40.1')).toThrow(RspEncodeError);
    expect(() => oidValue('3.1')).toThrow(RspEncodeError);
    expect(() => decodeOid(el(0x06, fromHex('2a86')), 'x', 'oid')).toThrow(/incomplete/);
    expect(() => decodeOid(el(0x06, fromHex('2a8001')), 'x', 'oid')).toThrow(/non-minimal/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat()), (a, b, rest) => {
        const s = [a, b, ...rest].join('.');
        expect(decodeOid(el(0x06, oidValue(s)), 'x', 'oid')).toBe(s);
      }),
    );
  });

  it('VersionType: three octets', () => {
    expect(toHex(versionValue('2.2.12'))).toBe('02020c');
    expect(decodeVersion(el(0x82, fromHex('02020c')), 'x', 'v')).toBe('2.2.12');
    expect(() => versionValue('2.2')).toThrow(RspEncodeError);
    expect(() => versionValue('2.256.0')).toThrow(RspEncodeError);
  });
});
