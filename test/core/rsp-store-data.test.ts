import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  channelOfCla,
  parseStoreDataApdu,
  StoreDataAssembler,
  storeDataApdus,
  storeDataCla,
} from '../../src/core/rsp/store-data.ts';
import { RspEncodeError, StoreDataError } from '../../src/core/rsp/errors.ts';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { IfppError } from '../../src/core/errors.ts';

const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

describe('STORE DATA framing (station side)', () => {
  it('frames a short request in one last block', () => {
    const apdus = storeDataApdus(fromHex('bf3e035c015a'));
    expect(apdus.map(toHex)).toEqual(['80e2910006bf3e035c015a']);
  });

  it('cuts 600 bytes into 255+255+90 with P1 11/11/91 and P2 00/01/02', () => {
    const p = payload(600);
    const apdus = storeDataApdus(p);
    expect(apdus.map((a) => toHex(a.subarray(0, 5)))).toEqual(['80e21100ff', '80e21101ff', '80e291025a']);
    expect(toHex(concatBytes(...apdus.map((a) => a.subarray(5))))).toBe(toHex(p));
  });

  it('honours a small block size, exact multiples included', () => {
    const apdus = storeDataApdus(payload(128), { blockSize: 64 });
    expect(apdus.length).toBe(2);
    expect(apdus.map((a) => toHex(a.subarray(0, 5)))).toEqual(['80e2110040', '80e2910140']);
    expect(storeDataApdus(payload(129), { blockSize: 64 }).map((a) => a[3])).toEqual([0, 1, 2]);
    expect(storeDataApdus(payload(1), { blockSize: 1 }).length).toBe(1);
  });

  it('restarts block numbers at 00 for every payload', () => {
    const a = storeDataApdus(payload(300));
    const b = storeDataApdus(payload(300));
    expect(a[0]![3]).toBe(0);
    expect(b[0]![3]).toBe(0);
  });

  it('encodes logical channels in CLA (80..83, C0..CF)', () => {
    expect([0, 1, 2, 3, 4, 5, 19].map(storeDataCla)).toEqual([0x80, 0x81, 0x82, 0x83, 0xc0, 0xc1, 0xcf]);
    expect(storeDataApdus(payload(10), { channel: 2 })[0]![0]).toBe(0x82);
    expect(storeDataApdus(payload(10), { channel: 7 })[0]![0]).toBe(0xc3);
    for (let ch = 0; ch <= 19; ch++) expect(channelOfCla(storeDataCla(ch))).toBe(ch);
    expect(channelOfCla(0x00)).toBeUndefined();
    expect(channelOfCla(0x84)).toBeUndefined(); // secure messaging
    expect(() => storeDataCla(20)).toThrow(RspEncodeError);
  });

  it('appends Le = 00 on the last block only when asked', () => {
    const apdus = storeDataApdus(payload(300), { le: true });
    expect(apdus[0]!.length).toBe(5 + 255);
    expect(apdus[1]!.length).toBe(5 + 45 + 1);
    expect(apdus[1]![apdus[1]!.length - 1]).toBe(0);
  });

  it('refuses empty payloads, bad block sizes and more than 256 blocks', () => {
    expect(() => storeDataApdus(new Uint8Array(0))).toThrow(/empty/);
    expect(() => storeDataApdus(payload(10), { blockSize: 0 })).toThrow(/block size/);
    expect(() => storeDataApdus(payload(10), { blockSize: 256 })).toThrow(/block size/);
    expect(storeDataApdus(payload(256 * 16), { blockSize: 16 }).length).toBe(256);
    expect(() => storeDataApdus(payload(256 * 16 + 1), { blockSize: 16 })).toThrow(/at most 256/);
  });
});

describe('StoreDataAssembler (card side)', () => {
  it('reassembles any payload at any block size on any channel (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 19 }),
        (p, blockSize, channel) => {
          const asm = new StoreDataAssembler();
          const apdus = storeDataApdus(p, { blockSize, channel });
          let out: Uint8Array | undefined;
          apdus.forEach((a, i) => {
            out = asm.push(a);
            if (i < apdus.length - 1) {
              expect(out).toBeUndefined();
              expect(asm.inProgress).toBe(true);
              expect(asm.channel).toBe(channel);
            }
          });
          expect(out).toEqual(p);
          expect(asm.inProgress).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles consecutive payloads, each starting at block 00', () => {
    const asm = new StoreDataAssembler();
    for (const n of [300, 10, 600]) {
      const p = payload(n);
      let out: Uint8Array | undefined;
      for (const a of storeDataApdus(p)) out = asm.push(a);
      expect(out).toEqual(p);
    }
  });

  it('rejects out-of-order blocks with 6A86 and forgets the partial payload', () => {
    const asm = new StoreDataAssembler();
    const apdus = storeDataApdus(payload(600));
    asm.push(apdus[0]!);
    try {
      asm.push(apdus[2]!);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(StoreDataError);
      expect((e as StoreDataError).code).toBe('STORE_DATA_BLOCK_ORDER');
      expect((e as StoreDataError).sw).toBe(0x6a86);
      expect((e as StoreDataError).message).toMatch(/block number 2 where 1 was expected/);
    }
    expect(asm.inProgress).toBe(false);
    // A first block that is not 00 is out of order too.
    expect(() => asm.push(apdus[1]!)).toThrow(/block number 1 where 0/);
    // And a fresh call still works.
    let out: Uint8Array | undefined;
    for (const a of apdus) out = asm.push(a);
    expect(out).toEqual(payload(600));
  });

  it('rejects a channel change mid-payload', () => {
    const asm = new StoreDataAssembler();
    asm.push(storeDataApdus(payload(300), { channel: 1 })[0]!);
    expect(() => asm.push(storeDataApdus(payload(300), { channel: 2 })[1]!)).toThrow(/channel 2, payload started on 1/);
  });

  it('maps malformed APDUs to the right status words', () => {
    const sw = (hex: string) => {
      try {
        parseStoreDataApdu(fromHex(hex));
      } catch (e) {
        return (e as StoreDataError).sw.toString(16);
      }
      return 'ok';
    };
    expect(sw('80e29100')).toBe('6700'); // no Lc
    expect(sw('80e2910002aa')).toBe('6700'); // Lc too large
    expect(sw('80e2910001aabbcc')).toBe('6700'); // trailing bytes
    expect(sw('80e2910000')).toBe('6700'); // extended length
    expect(sw('80ca910001aa')).toBe('6d00');
    expect(sw('00e2910001aa')).toBe('6e00');
    expect(sw('80e2010001aa')).toBe('6a86');
    expect(sw('80e2910001aa')).toBe('ok');
    expect(sw('80e2910001aa00')).toBe('ok');
    expect(parseStoreDataApdu(fromHex('c5e2110101aa00')).channel).toBe(9);
  });

  it('limits the payload size', () => {
    const asm = new StoreDataAssembler({ maxPayload: 300 });
    const apdus = storeDataApdus(payload(301), { blockSize: 100 });
    asm.push(apdus[0]!);
    asm.push(apdus[1]!);
    asm.push(apdus[2]!);
    try {
      asm.push(apdus[3]!);
      expect.unreachable();
    } catch (e) {
      expect((e as StoreDataError).code).toBe('STORE_DATA_TOO_LARGE');
      expect((e as StoreDataError).sw).toBe(0x6a84);
    }
  });

  it('throws only IfppError on random APDU streams', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 270 }), { maxLength: 20 }), (stream) => {
        const asm = new StoreDataAssembler();
        for (const a of stream) {
          try {
            asm.push(a);
          } catch (e) {
            if (!(e instanceof IfppError)) throw e;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
