import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { buildPps, parseAtr, ppsOutcome } from '../../src/core/bridge-protocol/iso7816.ts';
import { atrCapabilities, buildEuiccAtr, ppsAnswer, ppsRateSupported } from '../../src/sim/euicc/atr.ts';
import { EuiccConfigError } from '../../src/sim/euicc/errors.ts';

describe('eUICC ATR', () => {
  it('default: TA1 96, T=0 only, no TCK, historical bytes, parses as the bridge parses it', () => {
    const atr = buildEuiccAtr();
    const a = parseAtr(atr);
    expect(a.convention).toBe('direct');
    expect(a.ta1).toBe(0x96);
    expect(a.protocols).toEqual([0]);
    expect(a.tck).toBeUndefined();
    expect(a.wi).toBe(10);
    expect(toHex(a.historical)).toBe('8031e073fe211b6449465050');
  });

  it.each([0x96, 0x97, 0x11, 0x18, 0x95])('TA1 %s is carried as given', (ta1) => {
    expect(parseAtr(buildEuiccAtr({ ta1 })).ta1).toBe(ta1);
  });

  it('offers T=1 after T=0 with TA3/TB3 and a correct TCK; TC2 sets WI for T=0', () => {
    const atr = buildEuiccAtr({ ta1: 0x97, protocols: [0, 1], wi: 0x20, tc1: 2 });
    const a = parseAtr(atr); // throws on a wrong TCK
    expect(a.protocols).toEqual([0, 1]);
    expect(a.tck).toBeDefined();
    expect(a.wi).toBe(0x20);
    expect(a.guardN).toBe(2);
    expect(a.ta[3]).toBe(0xfe);
    expect(a.tb[3]).toBe(0x45);
    let x = 0;
    for (const b of atr.subarray(1)) x ^= b;
    expect(x).toBe(0);
  });

  it('refuses reserved TA1 values, T=1 alone and too many historical bytes', () => {
    expect(() => buildEuiccAtr({ ta1: 0x70 })).toThrow(EuiccConfigError);
    expect(() => buildEuiccAtr({ protocols: [1] })).toThrow(EuiccConfigError);
    expect(() => buildEuiccAtr({ historical: new Uint8Array(16) })).toThrow(EuiccConfigError);
    expect(() => buildEuiccAtr({ wi: 0 })).toThrow(EuiccConfigError);
  });
});

describe('eUICC PPS', () => {
  const cap = atrCapabilities(buildEuiccAtr({ ta1: 0x96 }));

  it('echoes the proposed rate and lower Di with the same Fi; the default rate always', () => {
    for (const ta1 of [0x96, 0x95, 0x94, 0x11]) {
      const req = buildPps(ta1);
      const ans = ppsAnswer(cap, req)!;
      expect(toHex(ans)).toBe(toHex(req));
      expect(ppsOutcome(req, ans).ta1).toBe(ta1);
    }
  });

  it('answers without PPS1 (stay at Fd/Dd) for a rate it cannot run', () => {
    for (const ta1 of [0x97, 0x18, 0xa6]) {
      expect(ppsRateSupported(cap, ta1)).toBe(false);
      const ans = ppsAnswer(cap, buildPps(ta1))!;
      expect(toHex(ans)).toBe('ff00ff');
      expect(ppsOutcome(buildPps(ta1), ans).ta1).toBe(0x11);
    }
  });

  it('stays silent for a bad PCK or a protocol it did not offer; T=1 is accepted when offered', () => {
    const bad = buildPps(0x96);
    bad[3]! ^= 1;
    expect(ppsAnswer(cap, bad)).toBeNull();
    expect(ppsAnswer(cap, buildPps(0x96, 1))).toBeNull();
    const cap1 = atrCapabilities(buildEuiccAtr({ ta1: 0x96, protocols: [0, 1] }));
    expect(toHex(ppsAnswer(cap1, buildPps(0x96, 1))!)).toBe(toHex(buildPps(0x96, 1)));
  });

  it('fault modes: decline always stays at the defaults, mute never answers', () => {
    expect(toHex(ppsAnswer(cap, buildPps(0x96), 'decline')!)).toBe('ff00ff');
    expect(ppsAnswer(cap, buildPps(0x96), 'mute')).toBeNull();
  });
});
