import { expectOnlyIfppErrorsOnNoise, expectTruncationsRefused, onlyIfppErrors, type DecoderCase } from '../helpers/hostile-input.ts';
import { describe, expect, it } from 'vitest';
import * as es10 from '../../src/core/rsp/es10.ts';
import type { EuiccInfo2, ProfileInfoListResponse } from '../../src/core/rsp/es10.ts';
import { makeEid } from '../../src/core/rsp/eid.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { childrenOf, decodeTlv, tlv, TlvError } from '../../src/core/tlv/ber-tlv.ts';
import { IfppError } from '../../src/core/errors.ts';

const EID = '89049032123451234512345678901235';

const info2: EuiccInfo2 = {
  profileVersion: '2.3.1',
  svn: '2.2.2',
  euiccFirmwareVer: '4.6.0',
  extCardResource: { installedApplications: 0, freeNvm: 412_000, freeRam: 14_920 },
  uiccCapability: [1, 2, 4, 6, 7, 14, 16],
  javacardVersion: '3.0.5',
  globalplatformVersion: '2.3.0',
  rspCapability: [0, 3],
  euiccCiPKIdListForVerification: [fromHex('81370f5125d0b1d408d4c3b232e6d25e795bebfb'), fromHex('c0bc70ba36929d43b467ff57570530e57ab8fcd8')],
  euiccCiPKIdListForSigning: [fromHex('81370f5125d0b1d408d4c3b232e6d25e795bebfb')],
  euiccCategory: 2,
  forbiddenProfilePolicyRules: [1],
  ppVersion: '0.0.1',
  sasAcreditationNumber: 'GI-BA-UP-0419',
  certificationDataObject: { platformLabel: 'PL', discoveryBaseURL: 'https://dloa.example' },
  unknown: [fromHex('9f7f0101')],
};


/** Every decoder of this module with a valid sample of what it decodes. */
const cases: DecoderCase[] = [
  ['GetEID request', es10.decodeGetEidRequest, es10.encodeGetEidRequest()],
  ['GetEID response', es10.decodeGetEidResponse, es10.encodeGetEidResponse(EID)],
  ['EUICCInfo2 request', es10.decodeGetEuiccInfo2Request, es10.encodeGetEuiccInfo2Request()],
  ['EUICCInfo2', es10.decodeEuiccInfo2, es10.encodeEuiccInfo2(info2)],
  ['ProfileInfoList request', es10.decodeProfileInfoListRequest, es10.encodeProfileInfoListRequest({ searchCriteria: { iccid: '8944476500001224158' }, tagList: fromHex('5a4f9f70') })],
  [
    'ProfileInfoList response',
    es10.decodeProfileInfoListResponse,
    es10.encodeProfileInfoListResponse({
      ok: true,
      profiles: [
        {
          iccid: '8944476500001224158',
          isdpAid: fromHex('a0000005591010ffffffff8900001100'),
          profileState: 1,
          profileNickname: 'work',
          profileClass: 2,
          notificationConfigurationInfo: [{ profileManagementOperation: [0, 3], notificationAddress: 'dp.example' }],
          profileOwner: { mccMnc: fromHex('21f354'), gid1: fromHex('ff') },
          dpProprietaryData: { dpOid: '2.999.10.1' },
          profilePolicyRules: [],
        },
      ],
    }),
  ],
  ['Enable request', es10.decodeEnableProfileRequest, es10.encodeEnableProfileRequest({ profile: { iccid: '8944476500001224158' }, refreshFlag: true })],
  ['Enable response', es10.decodeEnableProfileResponse, es10.encodeEnableProfileResponse(0)],
  ['Disable request', es10.decodeDisableProfileRequest, es10.encodeDisableProfileRequest({ profile: { isdpAid: fromHex('a000000559') }, refreshFlag: false })],
  ['Disable response', es10.decodeDisableProfileResponse, es10.encodeDisableProfileResponse(2)],
  ['Delete request', es10.decodeDeleteProfileRequest, es10.encodeDeleteProfileRequest({ iccid: '89000123456789012341' })],
  ['Delete response', es10.decodeDeleteProfileResponse, es10.encodeDeleteProfileResponse(1)],
  ['MemoryReset request', es10.decodeMemoryResetRequest, es10.encodeMemoryResetRequest([0, 2])],
  ['MemoryReset response', es10.decodeMemoryResetResponse, es10.encodeMemoryResetResponse(1)],
];

describe('ES10 GetEID', () => {
  it('has the exact SGP.22 encodings', () => {
    expect(toHex(es10.encodeGetEidRequest())).toBe('bf3e035c015a');
    expect(toHex(es10.encodeGetEidResponse(EID))).toBe('bf3e125a10' + EID);
    expect(toHex(es10.decodeGetEidRequest(fromHex('bf3e035c015a')).tagList)).toBe('5a');
    expect(es10.decodeGetEidResponse(fromHex('bf3e125a10' + EID))).toBe(EID);
  });

  it('rejects an EID with wrong check digits, naming the element', () => {
    expect(() => es10.decodeGetEidResponse(fromHex('bf3e125a10' + EID.slice(0, 30) + '00'))).toThrow(/BF3E > 5A \(eidValue\).*check digits/);
    expect(() => es10.decodeGetEidResponse(fromHex('bf3e125a0f' + EID.slice(0, 30) + '00'))).toThrow(TlvError);
    expect(() => es10.encodeGetEidResponse(makeEid('890490320000000000000000000000').replace(/.$/, 'x'))).toThrow(IfppError);
  });
});

describe('ES10 EUICCInfo2', () => {
  it('round-trips every field, keeping unknown children', () => {
    const bytes = es10.encodeEuiccInfo2(info2);
    const d = es10.decodeEuiccInfo2(bytes);
    const { raw, ...rest } = d;
    expect(raw).toEqual(bytes);
    expect(rest).toEqual(info2);
    expect(toHex(es10.encodeEuiccInfo2(rest))).toBe(toHex(bytes));
  });

  it('uses the module tags (81..88, A9/AA of 04, 04 ppVersion, 0C sas)', () => {
    const h = toHex(es10.encodeEuiccInfo2({ ...info2, javacardVersion: undefined, globalplatformVersion: undefined, euiccCategory: undefined, forbiddenProfilePolicyRules: undefined, certificationDataObject: undefined, unknown: undefined }));
    expect(h.startsWith('bf22')).toBe(true);
    expect(h).toContain('8103020301' + '8203020202' + '8303040600');
    // extCardResource per ETSI TS 102 226: 81 apps, 82 free NVM, 83 free RAM
    expect(h).toContain('840c' + '810100' + '8203064960' + '83023a48');
    expect(h).toContain('88020490'); // rspCapability bits 0 and 3
    expect(h).toContain('a92c' + '0414' + '81370f5125d0b1d408d4c3b232e6d25e795bebfb' + '0414');
    expect(h).toContain('aa16' + '0414' + '81370f5125d0b1d408d4c3b232e6d25e795bebfb');
    expect(h).toContain('0403000001' + '0c0d' + toHex(new TextEncoder().encode('GI-BA-UP-0419')));
    expect(h).not.toContain('8603');
  });

  it('encodes named bit strings in DER (trailing zero bits dropped)', () => {
    const h = toHex(es10.encodeEuiccInfo2({ ...info2, rspCapability: [0, 3], uiccCapability: [] }));
    expect(h).toContain('88020490'); // bits 0 and 3: 1001 + 4 unused bits
    expect(h).toContain('850100'); // no bit set
  });

  it('requires the mandatory fields', () => {
    const without = tlv(0xbf22, ...[fromHex('8103020301'), fromHex('8303040600')]);
    expect(() => es10.decodeEuiccInfo2(without)).toThrow(/BF22 > 82 \(svn\) missing/);
    const kids = childrenOf(decodeTlv(es10.encodeEuiccInfo2(info2))).map((k) => (k.tag === 0x82 ? fromHex('82020202') : k.raw));
    expect(() => es10.decodeEuiccInfo2(tlv(0xbf22, ...kids))).toThrow(/BF22 > 82 \(svn\): length 2, expected 3/);
  });
});

describe('ES10 GetProfilesInfo', () => {
  it('encodes the request search criteria inside A0', () => {
    expect(toHex(es10.encodeProfileInfoListRequest())).toBe('bf2d00');
    expect(toHex(es10.encodeProfileInfoListRequest({ searchCriteria: { profileClass: 0 } }))).toBe('bf2d05a003950100');
    expect(toHex(es10.encodeProfileInfoListRequest({ searchCriteria: { isdpAid: fromHex('a000000559') }, tagList: fromHex('5a') }))).toBe(
      'bf2d0ca0074f05a0000005595c015a',
    );
    for (const sc of [{ profileClass: 1 }, { iccid: '8944476500001224158' }, { isdpAid: fromHex('a0000005591010') }]) {
      expect(es10.decodeProfileInfoListRequest(es10.encodeProfileInfoListRequest({ searchCriteria: sc })).searchCriteria).toEqual(sc);
    }
  });

  it('round-trips a profile list and an error', () => {
    const [, dec, bytes] = cases.find((c) => c[0] === 'ProfileInfoList response')!;
    const r = dec(bytes) as ProfileInfoListResponse;
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.profiles[0]!.iccid).toBe('8944476500001224158');
    expect(r.profiles[0]!.profileState).toBe(1);
    expect(r.profiles[0]!.dpProprietaryData?.dpOid).toBe('2.999.10.1');
    expect(r.profiles[0]!.profileOwner?.gid1).toEqual(fromHex('ff'));
    expect(toHex(es10.encodeProfileInfoListResponse(r))).toBe(toHex(bytes));
    expect(toHex(bytes)).toContain('9f700101'); // profileState tag 9F70

    const err = es10.encodeProfileInfoListResponse(es10.profileInfoListError('incorrectInputValues'));
    expect(toHex(err)).toBe('bf2d03810101');
    expect(es10.decodeProfileInfoListResponse(err)).toEqual({ ok: false, error: { code: 1, name: 'incorrectInputValues' } });
    expect(es10.decodeProfileInfoListResponse(fromHex('bf2d02a000'))).toEqual({ ok: true, profiles: [] });
  });

  it('keeps unknown ProfileInfo children and rejects a foreign item', () => {
    const withExt = es10.encodeProfileInfoListResponse({ ok: true, profiles: [{ iccid: '8944476500001224158', unknown: [fromHex('bf7600')] }] });
    const r = es10.decodeProfileInfoListResponse(withExt);
    expect(r.ok && toHex(r.profiles[0]!.unknown![0]!)).toBe('bf7600');
    expect(() => es10.decodeProfileInfoListResponse(fromHex('bf2d04a002e400'))).toThrow(/BF2D > A0 > E4: expected ProfileInfo \(E3\)/);
    expect(() => es10.decodeProfileInfoListResponse(fromHex('bf2d03820101'))).toThrow(/expected profileInfoListOk/);
  });
});

describe('ES10 Enable / Disable / Delete / MemoryReset', () => {
  it('have the exact encodings of the automatic tags', () => {
    expect(toHex(es10.encodeEnableProfileRequest({ profile: { iccid: '8944476500001224158' }, refreshFlag: true }))).toBe(
      'bf3111a00c5a0a984474560000214251f88101ff',
    );
    expect(toHex(es10.encodeDisableProfileRequest({ profile: { isdpAid: fromHex('a000000559') }, refreshFlag: false }))).toBe(
      'bf320ca0074f05a000000559810100',
    );
    expect(toHex(es10.encodeDeleteProfileRequest({ iccid: '8944476500001224158' }))).toBe('bf330c5a0a984474560000214251f8');
    expect(toHex(es10.encodeEnableProfileResponse(0))).toBe('bf3103800100');
    expect(toHex(es10.encodeMemoryResetRequest([es10.ResetOptions.deleteOperationalProfiles, es10.ResetOptions.resetDefaultSmdpAddress]))).toBe(
      'bf3404820205a0',
    );
  });

  it('round-trip and name their results', () => {
    expect(es10.decodeEnableProfileRequest(es10.encodeEnableProfileRequest({ profile: { isdpAid: fromHex('a000000559') }, refreshFlag: true }))).toEqual({
      profile: { isdpAid: fromHex('a000000559') },
      refreshFlag: true,
    });
    expect(es10.decodeDeleteProfileRequest(es10.encodeDeleteProfileRequest({ isdpAid: fromHex('a000000559') }))).toEqual({ isdpAid: fromHex('a000000559') });
    expect(es10.decodeEnableProfileResponse(es10.encodeEnableProfileResponse(4))).toEqual({ code: 4, name: 'wrongProfileReenabling' });
    expect(es10.decodeDisableProfileResponse(es10.encodeDisableProfileResponse(2))).toEqual({ code: 2, name: 'profileNotInEnabledState' });
    expect(es10.decodeDeleteProfileResponse(es10.encodeDeleteProfileResponse(2))).toEqual({ code: 2, name: 'profileNotInDisabledState' });
    expect(es10.decodeMemoryResetResponse(es10.encodeMemoryResetResponse(1))).toEqual({ code: 1, name: 'nothingToDelete' });
    expect(es10.decodeMemoryResetResponse(es10.encodeMemoryResetResponse(42))).toEqual({ code: 42, name: undefined });
    expect(es10.decodeMemoryResetRequest(es10.encodeMemoryResetRequest([1]))).toEqual({ resetOptions: [1] });
  });

  it('reject requests that are not what their tag says', () => {
    expect(() => es10.decodeEnableProfileRequest(fromHex('bf3203800100'))).toThrow(/expected EnableProfileRequest \(BF31\)/);
    expect(() => es10.decodeEnableProfileRequest(fromHex('bf3103810100'))).toThrow(/BF31 > A0 \(profileIdentifier\) missing/);
    expect(() => es10.decodeDeleteProfileRequest(fromHex('bf3303900100'))).toThrow(/expected isdpAid \(4F\) or iccid \(5A\)/);
    expect(() => es10.decodeDeleteProfileRequest(fromHex('bf3300'))).toThrow(/exactly one/);
  });
});

describe('ES10 decoders on hostile input', () => {
  it('throw only IfppError on every truncation', () => {
    expectTruncationsRefused(cases);
  });

  it('throw only IfppError on random bytes and mutations (property)', () => {
    expectOnlyIfppErrorsOnNoise(cases, 1000);
  });
});

describe('GetEID with a damaged EID', () => {
  it('refuses wrong check digits by default and returns them when asked not to verify (eidPolicy)', async () => {
    const { decodeGetEidResponse: dec } = await import('../../src/core/rsp/es10.ts');
    const { tlv } = await import('../../src/core/tlv/ber-tlv.ts');
    const { fromHex } = await import('../../src/core/bytes.ts');
    const bad = tlv(0xbf3e, tlv(0x5a, fromHex('89049032000000000000000000000000')));
    expect(() => dec(bad)).toThrow();
    expect(dec(bad, { verify: false })).toBe('89049032000000000000000000000000');
  });
});
