/** The LPA-side ES10 codecs (src/core/rsp/es10-lpa.ts): exact DER, round trips, hostile input. */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import * as lpa from '../../src/core/rsp/es10-lpa.ts';
import { encodeNotificationMetadata, encodePir } from '../../src/core/rsp/pir.ts';
import { expectOnlyIfppErrorsOnNoise, expectTruncationsRefused, type DecoderCase } from '../helpers/hostile-input.ts';

const ICCID = '8944476500001224158';
const ICCID_BCD = '984474560000214251f8';
const meta = { seqNumber: 3, profileManagementOperation: [1], notificationAddress: 'smdp.example', iccid: ICCID };
// A stand-in "certificate": any 30 TLV is carried opaquely.
const cert1 = fromHex('3003020101');
const cert2 = fromHex('3003020102');
const other = lpa.encodeOtherSignedNotification(meta, () => new Uint8Array(64).fill(7), cert1, cert2);
const pir = encodePir(
  { transactionId: fromHex('01020304'), notificationMetadata: { ...meta, seqNumber: 1, profileManagementOperation: [0] }, finalResult: { kind: 'success', aid: fromHex('a0000005591010ffffffff8900001000') } },
  () => new Uint8Array(64).fill(9),
);

describe('LPA ES10 encodings follow the module tags', () => {
  it('requests', () => {
    expect(toHex(lpa.encodeGetEuiccInfo1Request())).toBe('bf2000');
    expect(toHex(lpa.encodeGetEuiccChallengeRequest())).toBe('bf2e00');
    expect(toHex(lpa.encodeListNotificationRequest())).toBe('bf2800');
    expect(toHex(lpa.encodeListNotificationRequest({ profileManagementOperation: [0] }))).toBe('bf280481020780');
    expect(toHex(lpa.encodeRetrieveNotificationsListRequest({ seqNumber: 5 }))).toBe('bf2b05a003800105');
    expect(toHex(lpa.encodeRetrieveNotificationsListRequest({ profileManagementOperation: [3] }))).toBe('bf2b06a00481020410');
    expect(toHex(lpa.encodeNotificationSentRequest(5))).toBe('bf3003800105');
    expect(toHex(lpa.encodeSetNicknameRequest({ iccid: ICCID, nickname: 'ab' }))).toBe(`bf29105a0a${ICCID_BCD}90026162`);
    expect(toHex(lpa.encodeConfiguredAddressesRequest())).toBe('bf3c00');
    expect(toHex(lpa.encodeSetDefaultDpAddressRequest('a.b'))).toBe('bf3f058003612e62');
    expect(toHex(lpa.encodeGetRatRequest())).toBe('bf4300');
  });

  it('responses', () => {
    expect(toHex(lpa.encodeEuiccInfo1({ svn: '2.2.2', euiccCiPKIdListForVerification: [fromHex('aabb')], euiccCiPKIdListForSigning: [] }))).toBe('bf200d820302020' + '2a90404' + '02aabbaa00');
    expect(toHex(lpa.encodeConfiguredAddressesResponse({ rootDsAddress: 'r' }))).toBe('bf3c03810172');
    expect(toHex(lpa.encodeConfiguredAddressesResponse({ defaultDpAddress: 'd', rootDsAddress: 'r' }))).toBe('bf3c06800164810172');
    expect(toHex(lpa.encodeSetNicknameResponse(1))).toBe('bf2903800101');
    expect(toHex(lpa.encodeListNotificationResponse({ ok: false, error: { code: 127, name: 'undefinedError' } }))).toBe('bf280381017f');
    expect(toHex(lpa.encodeRetrieveNotificationsListResponse({ ok: false, code: 1 }))).toBe('bf2b03810101');
    const rat = lpa.encodeGetRatResponse([{ pprIds: [1], allowedOperators: [{ mccMnc: fromHex('eeeeee') }], pprFlags: [0] }]);
    expect(toHex(rat)).toBe('bf4315a013301180020640a1073005' + '8003eeeeee' + '82020780');
  });
});

describe('LPA ES10 round trips', () => {
  it('notifications: list, retrieve (PIR and OtherSignedNotification), remove', () => {
    const list = lpa.decodeListNotificationResponse(lpa.encodeListNotificationResponse({ ok: true, notifications: [meta] }));
    expect(list).toEqual({ ok: true, notifications: [meta] });
    const got = lpa.decodeRetrieveNotificationsListResponse(lpa.encodeRetrieveNotificationsListResponse({ ok: true, notifications: [pir, other] }));
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.notifications.map((n) => n.kind)).toEqual(['pir', 'other']);
    expect(got.notifications.map((n) => lpa.notificationMetadataOf(n).seqNumber)).toEqual([1, 3]);
    const o = got.notifications[1] as lpa.OtherSignedNotification;
    expect(toHex(o.tbsRaw)).toBe(toHex(encodeNotificationMetadata(meta)));
    expect(toHex(o.euiccCertificate)).toBe(toHex(cert1));
    expect(toHex(o.eumCertificate)).toBe(toHex(cert2));
    expect(lpa.decodeRetrieveNotificationsListResponse(lpa.encodeRetrieveNotificationsListResponse({ ok: false, code: 1 }))).toEqual({ ok: false, error: { code: 1, name: 'noResultAvailable' } });
    expect(lpa.decodeRetrieveNotificationsListRequest(lpa.encodeRetrieveNotificationsListRequest({ seqNumber: 9 }))).toEqual({ searchCriteria: { seqNumber: 9 } });
    expect(lpa.decodeRetrieveNotificationsListRequest(lpa.encodeRetrieveNotificationsListRequest())).toEqual({});
    expect(lpa.decodeNotificationSentRequest(lpa.encodeNotificationSentRequest(300))).toEqual({ seqNumber: 300 });
    expect(lpa.decodeNotificationSentResponse(lpa.encodeNotificationSentResponse(1))).toEqual({ code: 1, name: 'nothingToDelete' });
    expect(lpa.decodeListNotificationRequest(lpa.encodeListNotificationRequest({ profileManagementOperation: [2] }))).toEqual({ profileManagementOperation: [2] });
  });

  it('nickname, addresses, EUICCInfo1, challenge, RAT', () => {
    expect(lpa.decodeSetNicknameRequest(lpa.encodeSetNicknameRequest({ iccid: ICCID, nickname: 'Work ✓' }))).toEqual({ iccid: ICCID, nickname: 'Work ✓' });
    expect(() => lpa.encodeSetNicknameRequest({ iccid: ICCID, nickname: 'x'.repeat(65) })).toThrow(/at most 64/);
    expect(lpa.decodeConfiguredAddressesResponse(lpa.encodeConfiguredAddressesResponse({ defaultDpAddress: 'dp.example', rootDsAddress: 'ds.example' }))).toEqual({
      defaultDpAddress: 'dp.example',
      rootDsAddress: 'ds.example',
    });
    expect(lpa.decodeSetDefaultDpAddressRequest(lpa.encodeSetDefaultDpAddressRequest('dp.example'))).toEqual({ defaultDpAddress: 'dp.example' });
    expect(lpa.decodeSetDefaultDpAddressResponse(lpa.encodeSetDefaultDpAddressResponse(0))).toEqual({ code: 0, name: 'ok' });
    const info1 = { svn: '2.3.0', euiccCiPKIdListForVerification: [fromHex('01'), fromHex('0203')], euiccCiPKIdListForSigning: [fromHex('01')] };
    expect(lpa.decodeEuiccInfo1(lpa.encodeEuiccInfo1(info1))).toEqual(info1);
    const ch = new Uint8Array(16).fill(5);
    expect(lpa.decodeGetEuiccChallengeResponse(lpa.encodeGetEuiccChallengeResponse(ch))).toEqual(ch);
    expect(() => lpa.encodeGetEuiccChallengeResponse(new Uint8Array(8))).toThrow(/16 bytes/);
    const rat = [{ pprIds: [1, 2], allowedOperators: [{ mccMnc: fromHex('eeeeee'), gid1: fromHex('01') }], pprFlags: [0] }];
    expect(lpa.decodeGetRatResponse(lpa.encodeGetRatResponse(rat))).toEqual([{ ...rat[0], allowedOperators: [{ mccMnc: fromHex('eeeeee'), gid1: fromHex('01'), gid2: undefined }] }]);
  });

  it('refuse what their tag does not allow', () => {
    expect(() => lpa.decodeListNotificationResponse(fromHex('bf2803820100'))).toThrow(/expected notificationMetadataList \(A0\)/);
    expect(() => lpa.decodeRetrieveNotificationsListResponse(fromHex('bf2b04a0023100'))).toThrow(/expected profileInstallationResult \(BF37\) or otherSignedNotification \(30\)/);
    expect(() => lpa.decodeConfiguredAddressesResponse(fromHex('bf3c03800164'))).toThrow(/rootDsAddress\) missing/);
    expect(() => lpa.decodeSetNicknameRequest(fromHex('bf2903900100'))).toThrow(/iccid\) missing/);
  });
});

describe('LPA ES10 decoders on hostile input', () => {
  const cases: DecoderCase[] = [
    ['ListNotificationResponse', lpa.decodeListNotificationResponse, lpa.encodeListNotificationResponse({ ok: true, notifications: [meta] })],
    ['RetrieveNotificationsListResponse', lpa.decodeRetrieveNotificationsListResponse, lpa.encodeRetrieveNotificationsListResponse({ ok: true, notifications: [pir, other] })],
    ['RetrieveNotificationsListRequest', lpa.decodeRetrieveNotificationsListRequest, lpa.encodeRetrieveNotificationsListRequest({ seqNumber: 2 })],
    ['SetNicknameRequest', lpa.decodeSetNicknameRequest, lpa.encodeSetNicknameRequest({ iccid: ICCID, nickname: 'n' })],
    ['ConfiguredAddressesResponse', lpa.decodeConfiguredAddressesResponse, lpa.encodeConfiguredAddressesResponse({ defaultDpAddress: 'd', rootDsAddress: 'r' })],
    ['EUICCInfo1', lpa.decodeEuiccInfo1, lpa.encodeEuiccInfo1({ svn: '2.2.2', euiccCiPKIdListForVerification: [fromHex('aa')], euiccCiPKIdListForSigning: [fromHex('bb')] })],
    ['GetRatResponse', lpa.decodeGetRatResponse, lpa.encodeGetRatResponse([{ pprIds: [1], allowedOperators: [{ mccMnc: fromHex('eeeeee') }], pprFlags: [0] }])],
    ['NotificationSentRequest', lpa.decodeNotificationSentRequest, lpa.encodeNotificationSentRequest(7)],
  ];
  it('refuse every truncation', () => expectTruncationsRefused(cases));
  it('throw only IfppError on noise and mutations (property)', () => expectOnlyIfppErrorsOnNoise(cases, 300));
});
