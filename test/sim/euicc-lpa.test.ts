/**
 * The simulated eUICC's LPA services at the APDU level: notifications recorded per install
 * (the signed PIR) and per enable/disable/delete (OtherSignedNotification, when the profile
 * asks), nickname in ProfileInfo, configured addresses, EUICCInfo1, challenge, RAT; state kept
 * across a re-insertion through the state store.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bindProfile } from '../../src/binding/bind.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { ecdsaVerify } from '../../src/core/crypto/ecdsa.ts';
import * as lpa from '../../src/core/rsp/es10-lpa.ts';
import {
  decodeDeleteProfileResponse,
  decodeDisableProfileResponse,
  decodeEnableProfileResponse,
  decodeEuiccInfo2,
  decodeMemoryResetResponse,
  decodeProfileInfoListResponse,
  encodeDeleteProfileRequest,
  encodeDisableProfileRequest,
  encodeEnableProfileRequest,
  encodeGetEuiccInfo2Request,
  encodeMemoryResetRequest,
  encodeProfileInfoListRequest,
  ResetOptions,
} from '../../src/core/rsp/es10.ts';
import { projectDialect as dialect } from '../../src/core/rsp/factory.ts';
import { ProfileClass } from '../../src/core/rsp/metadata.ts';
import { NotificationEvent } from '../../src/core/rsp/pir.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import { T0CardClient } from '../../src/sim/euicc/card-client.ts';
import { memoryStateStore } from '../../src/sim/euicc/chip-state.ts';
import { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { DEFAULT_ROOT_DS } from '../../src/sim/euicc/lpa-services.ts';
import { makeTestChips, type TestChips } from '../../src/sim/euicc/test-chips.ts';
import { syntheticUpp } from '../../src/sim/profiles/upp.ts';

let t: TestChips;
beforeAll(() => {
  t = makeTestChips({ curve: 'nist', count: 1, keysPerChip: 2 });
});

const ICCID = '8949449999999990023';
const chip = () => t.chips[0]!;

async function insert(store = memoryStateStore()) {
  const card = new SimulatedEuicc({ chip: chip(), header: t.header, store });
  card.atr('cold');
  const host = new T0CardClient(card);
  expect(await host.selectIsdr(0)).toBe(0x9000);
  const es10 = async (p: Uint8Array) => {
    const a = await host.es10(p);
    expect(a.sw).toBe(0x9000);
    return a.data;
  };
  return { card, host, es10, store };
}

type Card = Awaited<ReturnType<typeof insert>>;

/** Loads one profile (its metadata asks for enable and delete notifications), then deletes the spare key. */
async function provision(c: Card): Promise<void> {
  const { bpp } = bindProfile({
    upp: syntheticUpp(ICCID, 4000),
    eid: chip().eid,
    euiccOtpk: fromHex(chip().otks[0]!.pk),
    dpPb: { curve: t.dpPb.curve, secretKey: t.dpPb.secretKey! },
    metadata: {
      iccid: ICCID,
      serviceProviderName: 'IFPP Test',
      profileName: 'Bench profile',
      notificationConfigurationInfo: [{ profileManagementOperation: [NotificationEvent.notificationEnable, NotificationEvent.notificationDelete], notificationAddress: 'notify.example' }],
    },
  });
  const prep = await c.es10(dialect.encodePrepareFactoryLoadRequest({ euiccOtpk: fromHex(chip().otks[0]!.pk), dpPbCertificate: t.dpPb.der }));
  expect(dialect.decodePrepareFactoryLoadResponse(prep).name).toBe('ok');
  const out = await c.host.loadBpp(bpp);
  expect(out.pir).toBeDefined();
  expect(dialect.decodeDeleteOneTimeKeysResponse(await c.es10(dialect.encodeDeleteOneTimeKeysRequest())).result.name).toBe('ok');
}

async function notifications(c: Card) {
  const l = lpa.decodeListNotificationResponse(await c.es10(lpa.encodeListNotificationRequest()));
  if (!l.ok) throw new Error('ListNotification failed');
  return l.notifications;
}

async function profiles(c: Card) {
  const l = decodeProfileInfoListResponse(await c.es10(encodeProfileInfoListRequest()));
  if (!l.ok) throw new Error('GetProfilesInfo failed');
  return l.profiles;
}

describe('simulated eUICC: notifications', () => {
  it('an install leaves the signed PIR as pending notification; retrieve, then remove it', async () => {
    const c = await insert();
    await provision(c);
    expect(await notifications(c)).toEqual([{ seqNumber: 1, profileManagementOperation: [0], notificationAddress: 'smdpf.ifpp.invalid', iccid: ICCID }]);
    const r = lpa.decodeRetrieveNotificationsListResponse(await c.es10(lpa.encodeRetrieveNotificationsListRequest()));
    expect(r.ok && r.notifications.length).toBe(1);
    const n = r.ok ? r.notifications[0]! : undefined;
    expect(n?.kind).toBe('pir');
    if (n?.kind !== 'pir') return;
    expect(toHex(n.raw)).toBe(toHex(c.card.chip.lastPir!));
    const cert = parseCertificate(new Uint8Array(Buffer.from(chip().certEuicc, 'base64')));
    expect(ecdsaVerify(cert.publicKey.curve, cert.publicKey.point, n.pir.bf27Raw, n.pir.signature)).toBe(true);
    // filters: by seqNumber and by event
    const none = lpa.decodeRetrieveNotificationsListResponse(await c.es10(lpa.encodeRetrieveNotificationsListRequest({ seqNumber: 9 })));
    expect(none).toEqual({ ok: false, error: { code: 1, name: 'noResultAvailable' } });
    const l = lpa.decodeListNotificationResponse(await c.es10(lpa.encodeListNotificationRequest({ profileManagementOperation: [NotificationEvent.notificationDelete] })));
    expect(l).toEqual({ ok: true, notifications: [] });
    expect(lpa.decodeNotificationSentResponse(await c.es10(lpa.encodeNotificationSentRequest(1))).name).toBe('ok');
    expect(lpa.decodeNotificationSentResponse(await c.es10(lpa.encodeNotificationSentRequest(1))).name).toBe('nothingToDelete');
    expect(await notifications(c)).toEqual([]);
  });

  it('enable and delete make signed notifications when the profile asks for them; disable does not', async () => {
    const c = await insert();
    await provision(c);
    const id = { profile: { iccid: ICCID }, refreshFlag: false };
    expect(decodeEnableProfileResponse(await c.es10(encodeEnableProfileRequest(id))).name).toBe('ok');
    expect(decodeDisableProfileResponse(await c.es10(encodeDisableProfileRequest(id))).name).toBe('ok');
    expect(decodeDeleteProfileResponse(await c.es10(encodeDeleteProfileRequest({ iccid: ICCID }))).name).toBe('ok');
    const list = await notifications(c);
    expect(list.map((n) => [n.seqNumber, n.profileManagementOperation])).toEqual([
      [1, [0]],
      [2, [1]],
      [3, [3]],
    ]);
    expect(list[1]!.notificationAddress).toBe('notify.example');
    const r = lpa.decodeRetrieveNotificationsListResponse(await c.es10(lpa.encodeRetrieveNotificationsListRequest({ seqNumber: 3 })));
    const n = r.ok ? r.notifications[0] : undefined;
    expect(n?.kind).toBe('other');
    if (n?.kind !== 'other') return;
    const cert = parseCertificate(n.euiccCertificate);
    expect(ecdsaVerify(cert.publicKey.curve, cert.publicKey.point, n.tbsRaw, n.signature)).toBe(true);
    expect(toHex(n.eumCertificate)).toBe(toHex(t.eum.der));
  });
});

describe('simulated eUICC: nickname, class, addresses, info', () => {
  it('SetNickname shows in ProfileInfo; profileClass is explicit; unknown ICCID is iccidNotFound', async () => {
    const c = await insert();
    await provision(c);
    expect((await profiles(c))[0]).toMatchObject({ iccid: ICCID, profileClass: ProfileClass.values.operational, profileNickname: undefined });
    expect(lpa.decodeSetNicknameResponse(await c.es10(lpa.encodeSetNicknameRequest({ iccid: ICCID, nickname: 'Field unit 7' }))).name).toBe('ok');
    expect((await profiles(c))[0]!.profileNickname).toBe('Field unit 7');
    expect(lpa.decodeSetNicknameResponse(await c.es10(lpa.encodeSetNicknameRequest({ iccid: '8949449999999990031', nickname: 'x' }))).name).toBe('iccidNotFound');
    // kept across a power cycle and a new card object on the same store
    const again = await insert(c.store);
    expect((await profiles(again))[0]!.profileNickname).toBe('Field unit 7');
  });

  it('configured addresses: root SM-DS always, default SM-DP+ once set; memory reset clears it', async () => {
    const c = await insert();
    expect(lpa.decodeConfiguredAddressesResponse(await c.es10(lpa.encodeConfiguredAddressesRequest()))).toEqual({ defaultDpAddress: undefined, rootDsAddress: DEFAULT_ROOT_DS });
    expect(lpa.decodeSetDefaultDpAddressResponse(await c.es10(lpa.encodeSetDefaultDpAddressRequest('smdp.example'))).name).toBe('ok');
    expect(lpa.decodeConfiguredAddressesResponse(await c.es10(lpa.encodeConfiguredAddressesRequest())).defaultDpAddress).toBe('smdp.example');
    expect(decodeMemoryResetResponse(await c.es10(encodeMemoryResetRequest([ResetOptions.resetDefaultSmdpAddress]))).name).toBe('ok');
    expect(lpa.decodeConfiguredAddressesResponse(await c.es10(lpa.encodeConfiguredAddressesRequest())).defaultDpAddress).toBeUndefined();
  });

  it('EUICCInfo1 repeats EUICCInfo2\'s version and CI lists; challenges are fresh; RAT is answered', async () => {
    const c = await insert();
    const i2 = decodeEuiccInfo2(await c.es10(encodeGetEuiccInfo2Request()));
    const i1 = lpa.decodeEuiccInfo1(await c.es10(lpa.encodeGetEuiccInfo1Request()));
    expect(i1).toEqual({ svn: i2.svn, euiccCiPKIdListForVerification: i2.euiccCiPKIdListForVerification, euiccCiPKIdListForSigning: i2.euiccCiPKIdListForSigning });
    const a = lpa.decodeGetEuiccChallengeResponse(await c.es10(lpa.encodeGetEuiccChallengeRequest()));
    const b = lpa.decodeGetEuiccChallengeResponse(await c.es10(lpa.encodeGetEuiccChallengeRequest()));
    expect(toHex(a)).not.toBe(toHex(b));
    const rat = lpa.decodeGetRatResponse(await c.es10(lpa.encodeGetRatRequest()));
    expect(rat.length).toBeGreaterThan(0);
    expect(toHex(rat[0]!.allowedOperators[0]!.mccMnc)).toBe('eeeeee');
  });

  it('a request that does not decode earns 6A80', async () => {
    const c = await insert();
    expect((await c.host.es10(fromHex('bf2903900100'))).sw).toBe(0x6a80);
  });
});
