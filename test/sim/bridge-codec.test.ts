import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc16Bitwise, crc16CcittFalse, crc16Hex } from '../../src/core/bridge-protocol/crc16.ts';
import { BridgeProtocolError } from '../../src/core/bridge-protocol/errors.ts';
import {
  LineAssembler,
  MAX_LINE,
  formatErr,
  formatEvent,
  formatOk,
  formatRequest,
  parseBridgeLine,
  parseRequest,
  sealLine,
  unsealLine,
} from '../../src/core/bridge-protocol/frame.ts';
import {
  MAX_MICROS,
  MAX_TPDU,
  MAX_TPDU_RESPONSE,
  decodeEvent,
  decodeReply,
  decodeRequest,
  encodeEvent,
  encodeReply,
  encodeRequest,
  type BridgeRequest,
  type ReplyMap,
  type Verb,
} from '../../src/core/bridge-protocol/verbs.ts';
import { atrLength, buildAtr, buildPps, fiDiFromTa1, parseAtr, parsePps, ppsOutcome } from '../../src/core/bridge-protocol/iso7816.ts';

function protocolError(f: () => unknown): BridgeProtocolError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BridgeProtocolError);
    return e as BridgeProtocolError;
  }
  throw new Error('expected a BridgeProtocolError');
}

describe('CRC-16/CCITT-FALSE', () => {
  it('has the catalogue check value 0x29B1 for "123456789"', () => {
    expect(crc16CcittFalse('123456789')).toBe(0x29b1);
    expect(crc16CcittFalse(new TextEncoder().encode('123456789'))).toBe(0x29b1);
    expect(crc16Hex('123456789')).toBe('29B1');
  });
  it('the table-driven CRC equals the bitwise definition the firmware uses, for strings and bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const text = String.fromCharCode(...bytes);
        expect(crc16CcittFalse(bytes)).toBe(crc16Bitwise(bytes));
        expect(crc16CcittFalse(text)).toBe(crc16Bitwise(text));
      }),
      { numRuns: 300 },
    );
  });
  it('is 0xFFFF (the init value) for no bytes, and four hex digits always', () => {
    expect(crc16CcittFalse('')).toBe(0xffff);
    expect(crc16Hex('A')).toMatch(/^[0-9A-F]{4}$/);
  });
});

describe('frame codec', () => {
  it('seals a body with " *CRC\\n" over exactly the bytes before " *"', () => {
    const line = sealLine('1 0 INFO');
    expect(line).toBe(`1 0 INFO *${crc16Hex('1 0 INFO')}\n`);
    expect(unsealLine(line)).toBe('1 0 INFO');
    // lower-case CRC digits and CRLF are accepted
    expect(unsealLine(line.toLowerCase().replace('1 0 info', '1 0 INFO').replace('\n', '\r\n'))).toBe('1 0 INFO');
  });

  it('rejects a wrong or missing CRC with wire code CRC and no id to echo', () => {
    const line = formatRequest({ id: 0x2a, slot: 3, verb: 'TPDU', args: ['00A4040000'] });
    const flipped = line.replace('TPDU', 'TPDV');
    const e = protocolError(() => parseRequest(flipped));
    expect(e.wire).toBe('CRC');
    expect(e.id).toBeUndefined();
    expect(protocolError(() => parseRequest('2A 3 INFO\n')).wire).toBe('CRC');
  });

  it('round-trips requests, responses and events', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff }),
        fc.option(fc.integer({ min: 0, max: 15 }), { nil: null }),
        fc.stringMatching(/^[A-Z]{1,12}$/),
        fc.array(fc.stringMatching(/^[\x21-\x29\x2B-\x7E]{1,20}$/), { maxLength: 5 }),
        (id, slot, verb, args) => {
          expect(parseRequest(formatRequest({ id, slot, verb, args }))).toEqual({ id, slot, verb, args });
          expect(parseBridgeLine(formatOk(id, slot, args))).toEqual({ kind: 'response', id, slot, ok: true, args });
          expect(parseBridgeLine(formatErr(id, slot, 'BUSY'))).toEqual({ kind: 'response', id, slot, ok: false, error: 'BUSY' });
          expect(parseBridgeLine(formatEvent(slot, verb, args))).toEqual({ kind: 'event', slot, name: verb, args });
        },
      ),
    );
  });

  it('echoes id and slot in errors found after the CRC check', () => {
    const e = protocolError(() => decodeRequest(parseRequest(sealLine('7F 2 FROB'))));
    expect([e.wire, e.id, e.slot]).toEqual(['VERB', 0x7f, 2]);
    expect(protocolError(() => parseRequest(sealLine('0 2 INFO'))).wire).toBe('SYNTAX'); // id 0 is reserved
    expect(protocolError(() => parseRequest(sealLine('12345 2 INFO'))).wire).toBe('SYNTAX');
    const two = protocolError(() => parseRequest(sealLine('5 G INFO')));
    expect([two.wire, two.id]).toEqual(['SYNTAX', 5]);
    expect(protocolError(() => parseRequest(sealLine('5  1 INFO'))).wire).toBe('SYNTAX'); // double space
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 INFO')))).wire).toBe('SLOT');
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 - TPDU 00')))).wire).toBe('SLOT');
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 TPDU 00B0')))).wire).toBe('ARG');
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 TPDU 80E2000003AABB')))).wire).toBe('ARG'); // P3 says 3, 2 follow
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 APDU 00B000')))).wire).toBe('ARG'); // under 4 bytes
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 APDU 80E2000003AABB')))).wire).toBe('ARG'); // Lc says 3, 2 follow
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 APDU 80E2000003AABBCCDDEE')))).wire).toBe('ARG'); // 3 + Le + 1 too many
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 APDU 80E2000000000200AA')))).wire).toBe('ARG'); // extended length
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 POWER D')))).wire).toBe('ARG');
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 CLOCK 5MHz')))).wire).toBe('ARG');
  });

  it('fits the largest TPDU request and reply in one line', () => {
    const tpdu = new Uint8Array(MAX_TPDU);
    tpdu.set([0x80, 0xe2, 0x91, 0x00, 0xff]);
    const req = encodeRequest(0xffff, { verb: 'TPDU', slot: 15, tpdu });
    expect(req.length).toBeLessThanOrEqual(MAX_LINE);
    expect(decodeRequest(parseRequest(req))).toEqual({ verb: 'TPDU', slot: 15, tpdu });
    const reply = formatOk(0xffff, 15, encodeReply('TPDU', { data: new Uint8Array(MAX_TPDU_RESPONSE), micros: MAX_MICROS + 5 }));
    expect(reply.length).toBeLessThanOrEqual(MAX_LINE);
    const back = parseBridgeLine(reply);
    expect(back.kind === 'response' && back.ok && decodeReply('TPDU', back.args).micros).toBe(MAX_MICROS); // saturates
    expect(protocolError(() => sealLine('1 0 TPDU ' + 'AA'.repeat(300))).wire).toBe('LINE');
    expect(protocolError(() => unsealLine('x'.repeat(MAX_LINE + 10))).wire).toBe('LINE');
  });

  it('round-trips every typed verb', () => {
    const reqs: BridgeRequest[] = [
      { verb: 'INFO' },
      { verb: 'STATUS', slot: 1 },
      { verb: 'POWER', slot: 2, vcc: 'C' },
      { verb: 'POWER', slot: 2, vcc: 'OFF' },
      { verb: 'CLOCK', slot: 3, hz: 5_000_000 },
      { verb: 'RESET', slot: 4, kind: 'WARM' },
      { verb: 'PPS', slot: 5, pps: buildPps(0x96) },
      { verb: 'TPDU', slot: 15, tpdu: Uint8Array.from([0x00, 0xc0, 0x00, 0x00, 0x10]) },
      { verb: 'APDU', slot: 1, apdu: Uint8Array.of(0x80, 0xca, 0x00, 0x00) },
      { verb: 'APDU', slot: 1, apdu: Uint8Array.of(0x80, 0xee, 0x00, 0x00, 0x02, 0xaa, 0xbb, 0x00) },
      { verb: 'APDU', slot: 15, apdu: Uint8Array.of(0x80, 0xe2, 0x91, 0x00, 0xff, ...new Uint8Array(255).fill(0x5a), 0x00) }, // the longest: case 4, 261 bytes
    ];
    reqs.forEach((r, i) => expect(decodeRequest(parseRequest(encodeRequest(i + 1, r)))).toEqual(r));
  });

  it('APDUS: one request line carries several APDUs, longer than 600 bytes, within the bridge\'s LINE', () => {
    const block = (p1: number, n: number) => Uint8Array.of(0x80, 0xe2, p1, n, 0xff, ...new Uint8Array(255).fill(n));
    const apdus = Array.from({ length: 8 }, (_, i) => block(i === 7 ? 0x91 : 0x11, i));
    const line = encodeRequest(0xffff, { verb: 'APDUS', slot: 15, apdus });
    expect(line.length).toBe(4187); // 8 full STORE DATA blocks: the 4200-byte LINE of the firmware and simulator
    expect(decodeRequest(parseRequest(line, 4200))).toEqual({ verb: 'APDUS', slot: 15, apdus });
    expect(protocolError(() => parseRequest(line)).wire).toBe('LINE'); // a bridge without APDUS keeps 600
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 APDUS'))))).toMatchObject({ wire: 'ARG', id: 5, slot: 1 });
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 1 APDUS 80E2910001AA 80E2000003AABB')))).wire).toBe('ARG'); // second APDU: Lc 3, 2 follow
    expect(protocolError(() => decodeRequest(parseRequest(sealLine('5 - APDUS 80E2910001AA')))).wire).toBe('SLOT');
    expect(() => decodeReply('APDUS', ['0', '9000', '1'])).toThrow(BridgeProtocolError);
  });

  it('round-trips every typed reply and event', () => {
    const replies: { [V in Verb]: ReplyMap[V] } = {
      INFO: { protocol: 1, firmware: 'fw-1.2', slots: 16, fminHz: 1e6, fmaxHz: 2e7, fdefHz: 4e6, classes: 'BC', ta1: Uint8Array.of(0x11, 0x96), maxLine: 4200, apdu: true, batch: 8 },
      STATUS: { state: 'READY', busy: true, lastId: 0xbeef, vcc: 'B', clockHz: 5e6, ta1: 0x97 },
      POWER: {},
      CLOCK: { hz: 4_000_000 },
      RESET: { data: buildAtr({ ta1: 0x96 }), micros: 1234 },
      PPS: { data: buildPps(0x96), micros: 12 },
      TPDU: { data: Uint8Array.of(0x61, 0x10), micros: 960 },
      APDU: { data: new Uint8Array(258), micros: 12345 },
      APDUS: { count: 7, data: Uint8Array.of(0xbf, 0x37, 0x00, 0x90, 0x00), micros: 87654 },
    };
    for (const verb of Object.keys(replies) as Verb[]) {
      const line = formatOk(9, verb === 'INFO' ? null : 1, encodeReply(verb, replies[verb]));
      const f = parseBridgeLine(line);
      expect(f.kind === 'response' && f.ok).toBe(true);
      if (f.kind === 'response' && f.ok) expect(decodeReply(verb, f.args)).toEqual(replies[verb]);
    }
    for (const e of [
      { event: 'CARD', slot: 3, present: false },
      { event: 'CARD', slot: 0, present: true },
      { event: 'FAULT', slot: 7, code: 'OVERCURRENT' },
      { event: 'FAULT', slot: null, code: 'OVERHEAT' },
    ] as const) {
      const f = parseBridgeLine(encodeEvent(e));
      expect(f.kind === 'event' && decodeEvent(f)).toEqual(e);
    }
    const unknown = parseBridgeLine(formatEvent(1, 'FUTURE', ['X']));
    expect(unknown.kind === 'event' && decodeEvent(unknown)).toBeUndefined();
  });

  it('never throws anything but BridgeProtocolError on random or mutated input (fuzz)', () => {
    const valid = [
      encodeRequest(0x1f, { verb: 'TPDU', slot: 2, tpdu: Uint8Array.of(0x80, 0xee, 0, 0, 2, 1, 2) }),
      formatOk(3, 1, ['3B9600', '12']),
      formatEvent(4, 'CARD', ['IN']),
      encodeRequest(7, { verb: 'INFO' }),
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([l, at, ch]) => {
        const i = at % l.length;
        return l.slice(0, i) + String.fromCharCode(ch) + l.slice(i + 1);
      });
    // Random bodies given a correct CRC reach the grammar checks rather than stopping at the CRC.
    const sealed = fc.string({ maxLength: 80, unit: 'binary' }).map((b) => `${b} *${crc16Hex(b)}`);
    const anyLine = fc.oneof(fc.string({ maxLength: 700, unit: 'binary' }), mutated, sealed);
    fc.assert(
      fc.property(anyLine, (line) => {
        for (const f of [
          () => decodeRequest(parseRequest(line)),
          () => {
            const fr = parseBridgeLine(line);
            if (fr.kind === 'event') decodeEvent(fr);
            else if (fr.ok) for (const v of ['INFO', 'STATUS', 'CLOCK', 'TPDU'] as const) decodeReply(v, fr.args);
          },
        ]) {
          try {
            f();
          } catch (e) {
            if (!(e instanceof BridgeProtocolError)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('LineAssembler', () => {
  it('yields the same lines however the byte stream is split', () => {
    const text = 'A 0 INFO *0000\n\nB 1 TPDU 00 *FFFF\r\nlast\n';
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 6 }), (cuts) => {
        const bytes = Buffer.from(text, 'latin1');
        const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b);
        const lines: string[] = [];
        const a = new LineAssembler((l) => lines.push(l), () => lines.push('<overflow>'));
        for (let i = 0; i + 1 < points.length; i++) a.push(bytes.subarray(points[i]!, points[i + 1]!));
        expect(lines).toEqual(['A 0 INFO *0000', '', 'B 1 TPDU 00 *FFFF\r', 'last']);
      }),
    );
  });

  it('drops an overlong line up to its newline, reports it once, and recovers', () => {
    const lines: string[] = [];
    const a = new LineAssembler((l) => lines.push(l), () => lines.push('<overflow>'), 16);
    a.push(Buffer.from('x'.repeat(10)));
    a.push(Buffer.from('y'.repeat(10)));
    a.push(Buffer.from('zz\nok\n' + 'w'.repeat(15) + '\n'));
    expect(lines).toEqual(['<overflow>', 'ok', 'w'.repeat(15)]);
  });
});

describe('ISO 7816-3 helpers', () => {
  it('maps TA1 to Fi/Di', () => {
    expect(fiDiFromTa1(0x96)).toMatchObject({ fi: 512, di: 32 });
    expect(fiDiFromTa1(0x97)).toMatchObject({ fi: 512, di: 64 });
    expect(fiDiFromTa1(0x11)).toMatchObject({ fi: 372, di: 1 });
    expect(fiDiFromTa1(0x18)).toMatchObject({ fi: 372, di: 12 });
    expect(() => fiDiFromTa1(0x7a)).toThrow(/reserved/);
  });

  it('parses ATRs and knows their length from a prefix', () => {
    const atr = buildAtr({ ta1: 0x96, tc1: 2, wi: 20, historical: Uint8Array.of(1, 2, 3) });
    const p = parseAtr(atr);
    expect(p).toMatchObject({ ta1: 0x96, guardN: 2, wi: 20, protocols: [0], specificMode: false, tck: undefined });
    expect([...p.historical]).toEqual([1, 2, 3]);
    for (let n = 0; n < atr.length; n++) {
      const l = atrLength(atr.subarray(0, n));
      expect(l === undefined || l === atr.length).toBe(true);
    }
    expect(atrLength(atr)).toBe(atr.length);
    expect(() => parseAtr(atr.subarray(0, atr.length - 1))).toThrow(/truncated/);
    expect(() => parseAtr(Uint8Array.from([...atr, 0]))).toThrow(/after its end/);
    // T=1 offered: TCK required and checked
    const t1 = Uint8Array.of(0x3b, 0x80, 0x01, 0x81 ^ 0x01 ^ 0x80);
    const t1Fixed = Uint8Array.of(0x3b, 0x80, 0x01, 0x80 ^ 0x01);
    expect(parseAtr(t1Fixed).protocols).toEqual([1]);
    expect(() => parseAtr(t1)).toThrow(/TCK/);
    expect(parseAtr(buildAtr()).ta1).toBe(0x11);
    expect(parseAtr(buildAtr({ ta1: 0x95, specificMode: true })).specificMode).toBe(true);
  });

  it('builds, parses and judges PPS exchanges', () => {
    const req = buildPps(0x96);
    expect([...req]).toEqual([0xff, 0x10, 0x96, 0xff ^ 0x10 ^ 0x96]);
    expect(parsePps(req)).toMatchObject({ protocol: 0, pps1: 0x96 });
    expect(ppsOutcome(req, req)).toEqual({ ta1: 0x96 });
    expect(ppsOutcome(req, Uint8Array.of(0xff, 0x00, 0xff))).toEqual({ ta1: 0x11 });
    expect(() => ppsOutcome(req, buildPps(0x95))).toThrow(/PPS1/);
    expect(() => parsePps(Uint8Array.of(0xff, 0x10, 0x96, 0x00))).toThrow(/PCK/);
    // ISO 7816-3 §9.3: PPS0 b8 is reserved; PPS2 only as an echo of the request's.
    const seal = (...b: number[]) => Uint8Array.of(...b, b.reduce((x, v) => x ^ v, 0));
    expect(() => ppsOutcome(req, seal(0xff, 0x90, 0x96))).toThrow(/b8/);
    expect(() => ppsOutcome(req, seal(0xff, 0x30, 0x96, 0x00))).toThrow(/PPS2/);
  });

  it('never throws untyped on random ATR bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        atrLength(b);
        try {
          parseAtr(b);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ISO_BAD_ATR');
        }
        try {
          parsePps(b);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ISO_BAD_PPS');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
