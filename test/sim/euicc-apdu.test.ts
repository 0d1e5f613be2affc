/**
 * The simulated eUICC at the TPDU level, straight through the SimCard interface (no bridge):
 * classes and logical channels, SELECT, MANAGE CHANNEL, STORE DATA framing, T=0 response
 * mechanics, ES10 status words, mute.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { encodeGetEidRequest, decodeGetEidResponse, decodeEuiccInfo2, encodeGetEuiccInfo2Request } from '../../src/core/rsp/es10.ts';
import { projectDialect as dialect } from '../../src/core/rsp/factory.ts';
import { storeDataApdus } from '../../src/core/rsp/store-data.ts';
import { decodeTlv, tlv } from '../../src/core/tlv/ber-tlv.ts';
import { CardMuteError } from '../../src/sim/card/card-model.ts';
import { T0CardClient } from '../../src/sim/euicc/card-client.ts';
import { SimulatedEuicc, type SimulatedEuiccOptions } from '../../src/sim/euicc/euicc-card.ts';
import { ISDR_AID } from '../../src/sim/euicc/profiles.ts';
import { makeTestChips, type TestChips } from '../../src/sim/euicc/test-chips.ts';

let chips: TestChips;
beforeAll(() => {
  chips = makeTestChips({ curve: 'nist', count: 1, keysPerChip: 10 });
});

function card(opts: Partial<SimulatedEuiccOptions> = {}) {
  const c = new SimulatedEuicc({ chip: chips.chips[0]!, header: chips.header, ...opts });
  c.atr('cold');
  return { card: c, host: new T0CardClient(c) };
}

const hex = (b: Uint8Array) => toHex(b).toUpperCase();
const sw = (r: Uint8Array) => hex(r.subarray(r.length - 2));
const selectIsdr = (cla: number) => concatBytes(Uint8Array.of(cla, 0xa4, 0x04, 0x00, 16), ISDR_AID);

describe('SELECT and classes', () => {
  it('selects the ISD-R by AID: FCI through 61xx / GET RESPONSE, or none with P2=0C', async () => {
    const { host } = card();
    expect(sw(await host.tpdu(selectIsdr(0x00)))).toMatch(/^61/);
    const fci = decodeTlv((await host.apdu(concatBytes(selectIsdr(0x00), Uint8Array.of(0)))).data);
    expect(fci.tag).toBe(0x6f);
    expect(hex(fci.value)).toContain(hex(ISDR_AID));
    const noFci = selectIsdr(0x00);
    noFci[3] = 0x0c;
    expect(sw(await host.tpdu(noFci))).toBe('9000');
  });

  it('answers 6A82 for an unknown AID and keeps the selection; a partial AID (the RID) selects the ISD-R', async () => {
    const { host } = card();
    const unknown = fromHex('A0000000871002FF49FF0589');
    expect(sw(await host.tpdu(concatBytes(Uint8Array.of(0, 0xa4, 4, 0, unknown.length), unknown)))).toBe('6A82');
    expect(sw(await host.tpdu(concatBytes(Uint8Array.of(0, 0xa4, 4, 0x0c, 5), ISDR_AID.subarray(0, 5))))).toBe('9000');
    expect((await host.es10(encodeGetEidRequest())).sw).toBe(0x9000);
    expect(sw(await host.tpdu(concatBytes(Uint8Array.of(0, 0xa4, 4, 0, unknown.length), unknown)))).toBe('6A82');
    expect((await host.es10(encodeGetEidRequest())).sw).toBe(0x9000);
    expect(sw(await host.tpdu(fromHex('00A4000C023F00')))).toBe('6A82'); // no file system
  });

  it('refuses STORE DATA before the ISD-R is selected, right after the header (6D00, data not taken)', async () => {
    const { card: c } = card();
    const [apdu] = storeDataApdus(encodeGetEidRequest());
    const r = await c.transmitTpdu(apdu!);
    expect(hex(r.response)).toBe('6D00');
    expect(r.earlySw).toBe(true);
  });

  it('answers class errors: secure messaging 6882, chaining 6884, unknown class 6E00, INS 6X 6D00', async () => {
    const { host } = card();
    expect(sw(await host.tpdu(fromHex('0CA4040000')))).toBe('6882');
    expect(sw(await host.tpdu(fromHex('10A4040000')))).toBe('6884');
    expect(sw(await host.tpdu(fromHex('60A4040000')))).toBe('6882');
    expect(sw(await host.tpdu(fromHex('A0A4040000')))).toBe('6E00');
    expect(sw(await host.tpdu(fromHex('8060000000')))).toBe('6D00');
    expect(sw(await host.tpdu(fromHex('80CA9F7F00')))).toBe('6D00');
  });
});

describe('logical channels', () => {
  it('opens channels 1..3, refuses a fifth with 6A81, reuses a closed number, never closes the basic channel', async () => {
    const { host } = card();
    expect([await host.openChannel(), await host.openChannel(), await host.openChannel()]).toEqual([1, 2, 3]);
    expect((await host.apdu(fromHex('0070000001'))).sw).toBe(0x6a81);
    expect(await host.closeChannel(2)).toBe(0x9000);
    expect(await host.openChannel()).toBe(2);
    expect(await host.closeChannel(0)).toBe(0x6a86);
    expect(await host.closeChannel(2)).toBe(0x9000);
    expect(await host.closeChannel(2)).toBe(0x6a86);
  });

  it('a wrong Le on MANAGE CHANNEL earns 6C01 and opens nothing', async () => {
    const { host } = card();
    expect(sw(await host.tpdu(fromHex('0070000000')))).toBe('6C01');
    expect(sw(await host.tpdu(fromHex('0070000002')))).toBe('6C01');
    expect(hex(await host.tpdu(fromHex('0070000001')))).toBe('019000');
  });

  it('commands on a channel that is not open answer 6881 right after the header', async () => {
    const { card: c, host } = card();
    expect(sw(await host.tpdu(selectIsdr(0x01)))).toBe('6881');
    const [apdu] = storeDataApdus(encodeGetEidRequest(), { channel: 2 });
    const r = await c.transmitTpdu(apdu!);
    expect(hex(r.response)).toBe('6881');
    expect(r.earlySw).toBe(true);
  });

  it('serves further channels 4..19 with interindustry CLA 40..4F and proprietary CLA C0..CF', async () => {
    const { host } = card({ logicalChannels: 20 });
    const opened: number[] = [];
    for (let i = 1; i < 20; i++) opened.push(await host.openChannel());
    expect(opened).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    for (const ch of [4, 11, 19]) {
      expect(await host.selectIsdr(ch)).toBe(0x9000);
      const r = await host.es10(encodeGetEidRequest(), { channel: ch });
      expect(decodeGetEidResponse(r.data)).toBe(chips.chips[0]!.eid);
    }
    // channel 19: interindustry 4F, proprietary CF
    expect(sw(await host.tpdu(selectIsdr(0x4f)))).toMatch(/^61/);
    expect(hex(storeDataApdus(encodeGetEidRequest(), { channel: 19 })[0]!.subarray(0, 1))).toBe('CF');
  });

  it('a reset closes every channel and forgets the selection', async () => {
    const { card: c, host } = card();
    const ch = await host.openChannel();
    expect(await host.selectIsdr(ch)).toBe(0x9000);
    c.atr('warm');
    expect((await host.es10(encodeGetEidRequest(), { channel: ch })).sw).toBe(0x6881);
    expect((await host.es10(encodeGetEidRequest(), { channel: 0 })).sw).toBe(0x6d00);
  });
});

describe('STORE DATA framing and T=0 responses', () => {
  it('intermediate blocks answer 9000; the last one 61xx; GET RESPONSE hands out 256-byte chunks', async () => {
    const { host } = card();
    await host.selectIsdr(0);
    const apdus = storeDataApdus(dialect.encodeGetFactoryInfoRequest());
    expect(apdus).toHaveLength(1);
    expect(sw(await host.tpdu(apdus[0]!))).toBe('6100'); // 10 keys: more than 256 bytes pending
    const chunks: Uint8Array[] = [];
    let le = '00';
    for (;;) {
      const r = await host.tpdu(fromHex(`00C00000${le}`));
      chunks.push(r.subarray(0, r.length - 2));
      if (sw(r) === '9000') break;
      expect(sw(r)).toMatch(/^61/);
      le = sw(r).slice(2);
    }
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.slice(0, -1).every((c) => c.length === 256)).toBe(true);
    const all = concatBytes(...chunks);
    const info = dialect.decodeGetFactoryInfoResponse(all);
    expect(info.oneTimeKeys).toHaveLength(10);
    expect(info.oneTimeKeys.every((k) => k.state === 'unused')).toBe(true);
  });

  it('GET RESPONSE with a wrong Le earns 6Cxx and the data stays pending; with nothing pending, 6985', async () => {
    const { host } = card();
    await host.selectIsdr(0);
    expect(sw(await host.tpdu(storeDataApdus(encodeGetEidRequest())[0]!))).toBe('6115');
    expect(hex(await host.tpdu(fromHex('00C0000010')))).toBe('6C15');
    const r = await host.tpdu(fromHex('00C0000015'));
    expect(sw(r)).toBe('9000');
    expect(decodeGetEidResponse(r.subarray(0, 21))).toBe(chips.chips[0]!.eid);
    expect(hex(await host.tpdu(fromHex('00C0000015')))).toBe('6985');
  });

  it('a block-number gap answers 6A86 and drops the partial payload; the next call starts again at 00', async () => {
    const { host } = card();
    await host.selectIsdr(0);
    const apdus = storeDataApdus(encodeGetEidRequest(), { blockSize: 2 });
    expect(apdus.length).toBeGreaterThan(2);
    expect(sw(await host.tpdu(apdus[0]!))).toBe('9000');
    expect(sw(await host.tpdu(apdus[2]!))).toBe('6A86'); // block 02 where 01 was expected
    expect(sw(await host.tpdu(apdus[1]!))).toBe('6A86'); // block 01 with no payload started
    const ok = await host.es10(encodeGetEidRequest(), { blockSize: 3 });
    expect(ok.sw).toBe(0x9000);
  });

  it('reassembles per channel: blocks of two payloads on channels 0 and 1 may interleave', async () => {
    const { host } = card();
    const ch = await host.openChannel();
    await host.selectIsdr(0);
    await host.selectIsdr(ch);
    const a = storeDataApdus(encodeGetEidRequest(), { blockSize: 2, channel: 0 });
    const b = storeDataApdus(dialect.encodeGetFactoryInfoRequest(), { blockSize: 1, channel: ch });
    expect(sw(await host.tpdu(a[0]!))).toBe('9000');
    expect(sw(await host.tpdu(b[0]!))).toBe('9000');
    expect(sw(await host.tpdu(a[1]!))).toBe('9000');
    expect(sw(await host.tpdu(b[1]!))).toBe('9000');
    expect(sw(await host.tpdu(b[2]!))).toMatch(/^61/);
    for (const x of a.slice(2, -1)) expect(sw(await host.tpdu(x))).toBe('9000');
    const last = await host.apdu(a[a.length - 1]!);
    expect(decodeGetEidResponse(last.data)).toBe(chips.chips[0]!.eid);
  });

  it('ES10 status words: undecodable request 6A80, unknown tag 6A88, GetEID for other tags 6A80, load call outside a load 6A88', async () => {
    const { host } = card();
    await host.selectIsdr(0);
    expect((await host.es10(fromHex('BF'))).sw).toBe(0x6a80);
    expect((await host.es10(fromHex('BF3E0300'))).sw).toBe(0x6a80);
    expect((await host.es10(tlv(0xbf55, new Uint8Array(0)))).sw).toBe(0x6a88);
    expect((await host.es10(tlv(0xbf3e, tlv(0x5c, fromHex('5A4F'))))).sw).toBe(0x6a80);
    expect((await host.es10(fromHex('A30400000000'))).sw).toBe(0x6a88);
    expect((await host.es10(tlv(0x86, new Uint8Array(24)))).sw).toBe(0x6a88);
  });

  it('EUICCInfo2 is the personalised one, with the free NVM it has', async () => {
    const { host } = card({ nvmCapacity: 123_456 });
    await host.selectIsdr(0);
    const info = decodeEuiccInfo2((await host.es10(encodeGetEuiccInfo2Request())).data);
    expect(info.extCardResource.freeNvm).toBe(123_456);
    expect(info.sasAcreditationNumber).toBe('IFPP-SIM-0001');
  });
});

describe('mute', () => {
  it('"untilPowerOff": no ATR, no PPS answer, no TPDU answer until the card is powered off', async () => {
    const { card: c } = card();
    c.faults.mute = 'untilPowerOff';
    await expect(c.transmitTpdu(fromHex('00A4040000'))).rejects.toBeInstanceOf(CardMuteError);
    expect(() => c.atr('cold')).toThrow(CardMuteError);
    expect(c.pps(fromHex('FF109679'))).toBeNull();
    c.powerOff();
    expect(c.atr('cold')[0]).toBe(0x3b);
    expect(hex((await c.transmitTpdu(selectIsdr(0))).response)).toMatch(/^61/);
  });

  it('"always": stays mute across power cycles until the switch is cleared', () => {
    const { card: c } = card();
    c.faults.mute = 'always';
    c.powerOff();
    expect(() => c.atr('cold')).toThrow(CardMuteError);
    c.faults.mute = false;
    expect(c.atr('cold')[0]).toBe(0x3b);
  });
});

describe('properties', () => {
  it('an ES10 call gives the same answer for any block size and channel', async () => {
    const { host } = card({ logicalChannels: 20 });
    for (let ch = 1; ch < 20; ch++) expect(await host.openChannel()).toBe(ch);
    for (let ch = 0; ch < 20; ch++) expect(await host.selectIsdr(ch)).toBe(0x9000);
    const expected = hex((await host.es10(dialect.encodeGetFactoryInfoRequest())).data);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 19 }), async (blockSize, channel) => {
        const r = await host.es10(dialect.encodeGetFactoryInfoRequest(), { blockSize, channel });
        expect(r.sw).toBe(0x9000);
        expect(hex(r.data)).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('any TPDU gets an answer that keeps the T=0 rules the bridge enforces', async () => {
    const { card: c } = card({ logicalChannels: 8 });
    const tpdus = fc.oneof(
      // Mostly plausible headers: known classes and instructions, with or without data.
      fc
        .record({
          cla: fc.constantFrom(0x00, 0x01, 0x04, 0x10, 0x40, 0x80, 0x81, 0xc0, 0xa0, 0xff),
          ins: fc.constantFrom(0xa4, 0x70, 0xe2, 0xc0, 0xca, 0x61),
          p1: fc.constantFrom(0x00, 0x04, 0x11, 0x80, 0x91),
          p2: fc.integer({ min: 0, max: 4 }),
          data: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
          p3: fc.integer({ min: 0, max: 255 }),
        })
        .map(({ cla, ins, p1, p2, data, p3 }) => (data ? concatBytes(Uint8Array.of(cla, ins, p1, p2, data.length), data) : Uint8Array.of(cla, ins, p1, p2, p3))),
      fc.uint8Array({ minLength: 5, maxLength: 5 }),
      // ...and real ones, so STORE DATA and GET RESPONSE paths are reached.
      fc.constantFrom(selectIsdr(0x00), fromHex('00C0000000'), fromHex('0070000001'), ...storeDataApdus(dialect.encodeGetFactoryInfoRequest(), { blockSize: 2 })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(tpdus, { minLength: 1, maxLength: 30 }), async (list) => {
        c.powerOff();
        c.atr('cold');
        for (const t of list) {
          const r = (await c.transmitTpdu(t)).response;
          expect(r.length).toBeGreaterThanOrEqual(2);
          const sw1 = r[r.length - 2]!;
          expect((sw1 & 0xf0) === 0x90 || ((sw1 & 0xf0) === 0x60 && sw1 !== 0x60)).toBe(true);
          const dataLen = r.length - 2;
          if (t.length > 5) expect(dataLen).toBe(0);
          else if (dataLen > 0) expect(dataLen).toBe(t[4] === 0 ? 256 : t[4]);
        }
      }),
      { numRuns: 150 },
    );
  });
});
