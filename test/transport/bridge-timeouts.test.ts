import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex } from '../../src/core/bytes.ts';
import { fiDiFromTa1 } from '../../src/core/bridge-protocol/iso7816.ts';
import { choosePpsTa1 } from '../../src/transport/bridge/negotiate.ts';
import { defaultLinkParams, requestTimeoutMs, wwtSeconds, type TimeoutPolicy } from '../../src/transport/bridge/timeouts.ts';

const policy: TimeoutPolicy = { factor: 3, baudRate: 921600, slackMs: 250, controlMs: 1000 };

describe('request timeouts', () => {
  it('a 255-byte STORE DATA at TA1 96 and 5 MHz: factor x (line + contact + WWT) + slack', () => {
    const tpdu = new Uint8Array(260);
    tpdu.set([0x80, 0xe2, 0x91, 0x00, 0xff]);
    const link = { fi: 512, di: 32, clockHz: 5e6, wi: 10, guardN: 0 };
    // contact: 12 etu x (260 to the card + INS + SW1 SW2) + 3 turnarounds of 16 etu, at 3.2 µs
    const contact = (12 * 263 + 48) * 3.2e-6;
    const wwt = (960 * 10 * 512) / 5e6; // 0.983 s
    // line: request "id s TPDU <520 hex> *crc" and the longest answer, 10 bits a byte
    const line = ((20 + 520 + 32 + 4) * 10) / 921600;
    expect(requestTimeoutMs({ verb: 'TPDU', slot: 0, tpdu }, link, policy)).toBeCloseTo(3 * (line + contact + wwt) * 1000 + 250, 6);
  });

  it('grows with WI and shrinks with the clock; control verbs do not depend on the card', () => {
    const tpdu = fromHex('80CA000010');
    const base = defaultLinkParams(4e6);
    const t = (l: typeof base) => requestTimeoutMs({ verb: 'TPDU', slot: 0, tpdu }, l, policy);
    expect(t({ ...base, wi: 20 })).toBeGreaterThan(t(base));
    expect(t({ ...base, clockHz: 5e6 })).toBeLessThan(t(base));
    expect(requestTimeoutMs({ verb: 'STATUS', slot: 0 }, { ...base, wi: 200 }, policy)).toBe(requestTimeoutMs({ verb: 'STATUS', slot: 0 }, base, policy));
  });

  it('with any factor >= 1 the bridge gives up on a silent card (header + WWT) before the host does', () => {
    const ta1s = [0x11, 0x13, 0x18, 0x94, 0x96, 0x97, 0xd7];
    fc.assert(
      fc.property(
        fc.constantFrom(...ta1s),
        fc.integer({ min: 1_000_000, max: 20_000_000 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 254 }),
        fc.integer({ min: 0, max: 255 }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        (ta1, clockHz, wi, guardN, nc, factor) => {
          const { fi, di } = fiDiFromTa1(ta1);
          const link = { fi, di, clockHz, wi, guardN };
          const tpdu = new Uint8Array(nc === 0 ? 5 : 5 + nc);
          tpdu[4] = nc;
          const bridgeGivesUp = (5 * (12 + guardN) * (fi / di / clockHz) + wwtSeconds(link)) * 1000;
          expect(requestTimeoutMs({ verb: 'TPDU', slot: 0, tpdu }, link, { ...policy, factor, slackMs: 0 })).toBeGreaterThan(bridgeGivesUp);
        },
      ),
    );
  });

  it('RESET allows the 40000-clock ATR limit and a 9600-etu character wait at the reset clock', () => {
    const ms = requestTimeoutMs({ verb: 'RESET', slot: 0, kind: 'COLD' }, defaultLinkParams(1e6), { ...policy, factor: 1, slackMs: 0 });
    expect(ms).toBeGreaterThan(((400 + 40000) / 1e6 + (9600 * 372) / 1e6) * 1000);
  });
});

describe('PPS target', () => {
  const sim = [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97];

  it('takes the card TA1 when the bridge runs it', () => {
    expect(choosePpsTa1(0x96, sim)).toBe(0x96);
    expect(choosePpsTa1(0x97, sim)).toBe(0x97);
    expect(choosePpsTa1(0x13, sim)).toBe(0x13);
  });

  it('keeps the card Fi and lowers Di to what the bridge runs', () => {
    expect(choosePpsTa1(0x97, [0x11, 0x94, 0x95, 0x96])).toBe(0x96);
    expect(choosePpsTa1(0x97, [0x11, 0x94])).toBe(0x94);
    // Di 12 (nibble 8) is slower than Di 16 (nibble 5): by value, not by nibble
    expect(choosePpsTa1(0x18, [0x11, 0x15, 0x18])).toBe(0x18);
    expect(choosePpsTa1(0x16, [0x11, 0x15, 0x18])).toBe(0x15);
  });

  it('stays at the defaults when nothing shared beats them, or the card TA1 is reserved', () => {
    expect(choosePpsTa1(0x96, [0x11, 0x12, 0x13])).toBe(0x11); // bridge has no Fi 512
    expect(choosePpsTa1(0x11, sim)).toBe(0x11);
    expect(choosePpsTa1(0x41, sim)).toBe(0x11); // 1116/1 is slower than 372/1
    expect(choosePpsTa1(0x7f, sim)).toBe(0x11);
  });
});
