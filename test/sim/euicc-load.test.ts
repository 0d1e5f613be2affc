/**
 * BPP loads and factory requests on the simulated eUICC, at the APDU level through the SimCard
 * interface: real binding (src/binding), real STORE DATA framing, real PIR signatures.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bindProfile } from '../../src/binding/bind.ts';
import { bytesEqual, fromHex, toHex } from '../../src/core/bytes.ts';
import type { CurveName } from '../../src/core/crypto/curves.ts';
import { ecdsaVerify } from '../../src/core/crypto/ecdsa.ts';
import { parsePrivateKeyPem } from '../../src/core/crypto/keys.ts';
import { bppLoadCalls, parseBpp } from '../../src/core/rsp/bpp.ts';
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
  type ProfileInfo,
} from '../../src/core/rsp/es10.ts';
import { projectDialect as dialect, type FactoryResultName } from '../../src/core/rsp/factory.ts';
import { BppCommandId, decodePir, ErrorReason, type Pir } from '../../src/core/rsp/pir.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import { CardMuteError } from '../../src/sim/card/card-model.ts';
import type { ReelChip } from '../../src/sim/eum/formats.ts';
import { T0CardClient } from '../../src/sim/euicc/card-client.ts';
import { memoryStateStore, type ChipStateStore } from '../../src/sim/euicc/chip-state.ts';
import { EuiccStateError } from '../../src/sim/euicc/errors.ts';
import { SimulatedEuicc, type SimulatedEuiccOptions } from '../../src/sim/euicc/euicc-card.ts';
import { makeTestChips, type TestChips } from '../../src/sim/euicc/test-chips.ts';
import { createCi, issueDpAuth, issueDpPb } from '../../src/sim/pki/issue.ts';
import { summarizeUpp, syntheticUpp, withIccid } from '../../src/sim/profiles/upp.ts';
import { describeShared, sharedFile, sharedText, ts48Profiles } from '../helpers/shared-data.ts';

const fixtures: Partial<Record<CurveName, TestChips>> = {};
beforeAll(() => {
  fixtures.nist = makeTestChips({ curve: 'nist', count: 2, keysPerChip: 3 });
  fixtures.brp = makeTestChips({ curve: 'brp', count: 2, keysPerChip: 3 });
});

const ICCID = '8949449999999990023';
const ICCID2 = '8949449999999990031';

interface Rig {
  t: TestChips;
  chip: ReelChip;
  card: SimulatedEuicc;
  host: T0CardClient;
  channel: number;
  blockSize: number;
}

type RigOptions = Partial<SimulatedEuiccOptions> & { channel?: number; blockSize?: number; chipIndex?: number; fixture?: TestChips };

async function rig(curve: CurveName = 'nist', opts: RigOptions = {}): Promise<Rig> {
  const t = opts.fixture ?? fixtures[curve]!;
  const chip = t.chips[opts.chipIndex ?? 0]!;
  const card = new SimulatedEuicc({ chip, header: t.header, ...opts });
  card.atr('cold');
  const host = new T0CardClient(card);
  const channel = opts.channel ?? 1;
  if (channel !== 0) expect(await host.openChannel()).toBe(channel);
  expect(await host.selectIsdr(channel)).toBe(0x9000);
  return { t, chip, card, host, channel, blockSize: opts.blockSize ?? 255 };
}

const otpk = (chip: ReelChip, i: number) => fromHex(chip.otks[i]!.pk);

function bind(r: Rig, keyIndex: number, o: { iccid?: string; upp?: Uint8Array; eid?: string; key?: Uint8Array; rsk?: boolean; dpPb?: { curve: CurveName; secretKey: Uint8Array } } = {}) {
  const iccid = o.iccid ?? ICCID;
  return bindProfile({
    upp: o.upp ?? syntheticUpp(iccid, 13_000),
    eid: o.eid ?? r.chip.eid,
    euiccOtpk: o.key ?? otpk(r.chip, keyIndex),
    dpPb: o.dpPb ?? { curve: r.t.dpPb.curve, secretKey: r.t.dpPb.secretKey! },
    metadata: { iccid, serviceProviderName: 'IFPP Test', profileName: `Profile ${iccid}` },
    replaceSessionKeys: o.rsk ?? false,
  });
}

async function es10(r: Rig, payload: Uint8Array) {
  return r.host.es10(payload, { channel: r.channel, blockSize: r.blockSize });
}

async function prepare(r: Rig, key: Uint8Array, cert?: Uint8Array, chain?: Uint8Array[]): Promise<FactoryResultName | undefined> {
  const a = await es10(r, dialect.encodePrepareFactoryLoadRequest({ euiccOtpk: key, dpPbCertificate: cert ?? r.t.dpPb.der, otherCertsInChain: chain }));
  expect(a.sw).toBe(0x9000);
  return dialect.decodePrepareFactoryLoadResponse(a.data).name;
}

async function factoryInfo(r: Rig) {
  return dialect.decodeGetFactoryInfoResponse((await es10(r, dialect.encodeGetFactoryInfoRequest())).data);
}

async function keyStates(r: Rig): Promise<string[]> {
  return (await factoryInfo(r)).oneTimeKeys.map((k) => k.state);
}

async function profiles(r: Rig): Promise<ProfileInfo[]> {
  const l = decodeProfileInfoListResponse((await es10(r, encodeProfileInfoListRequest())).data);
  if (!l.ok) throw new Error('profile list error');
  return [...l.profiles];
}

/** Decodes a BF37 and checks its signature with CERT.EUICC as the station would. */
function checkedPir(r: Rig, bytes: Uint8Array | undefined): Pir {
  expect(bytes).toBeDefined();
  const pir = decodePir(bytes!);
  const cert = parseCertificate(new Uint8Array(Buffer.from(r.chip.certEuicc, 'base64')));
  expect(ecdsaVerify(cert.publicKey.curve, cert.publicKey.point, pir.bf27Raw, pir.signature)).toBe(true);
  return pir;
}

function expectError(pir: Pir, cmd: keyof typeof BppCommandId.values, reason: keyof typeof ErrorReason.values): void {
  expect(pir.finalResult).toMatchObject({ kind: 'error', bppCommandId: BppCommandId.values[cmd], errorReason: ErrorReason.values[reason] });
}

describe('a full BPP load installs the profile and answers a signed PIR', () => {
  const variants: [CurveName, number, number, boolean][] = [
    ['nist', 1, 255, false],
    ['nist', 0, 120, true],
    ['brp', 1, 120, false],
    ['brp', 0, 255, true],
  ];
  for (const [curve, channel, blockSize, rsk] of variants) {
    it(`${curve}, channel ${channel}, blocks of ${blockSize}${rsk ? ', ReplaceSessionKeys' : ''}`, async () => {
      const r = await rig(curve, { channel, blockSize });
      const upp = syntheticUpp(ICCID, 13_000);
      const { bpp, transactionId } = bind(r, 1, { upp, rsk });
      expect(parseBpp(bpp).counts.seq86).toBeGreaterThan(10);
      const free0 = decodeEuiccInfo2((await es10(r, encodeGetEuiccInfo2Request())).data).extCardResource.freeNvm!;

      expect(await prepare(r, otpk(r.chip, 1))).toBe('ok');
      const out = await r.host.loadBpp(bpp, { channel, blockSize });
      expect(out.sw).toBe(0x9000);
      expect(out.calls).toBe(bppLoadCalls(bpp).length);
      const pir = checkedPir(r, out.pir);
      expect(bytesEqual(pir.transactionId, transactionId)).toBe(true);
      expect(pir.finalResult.kind).toBe('success');
      expect(pir.smdpOid).toBe('2.999.10');
      expect(pir.notificationMetadata).toMatchObject({ seqNumber: 1, profileManagementOperation: [0], iccid: ICCID });

      const list = await profiles(r);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ iccid: ICCID, profileState: 0, profileName: `Profile ${ICCID}`, serviceProviderName: 'IFPP Test' });
      expect(toHex(list[0]!.isdpAid!)).toBe(toHex((pir.finalResult as { aid: Uint8Array }).aid));
      expect(await keyStates(r)).toEqual(['unused', 'consumed', 'unused']);
      expect(r.card.chip.state.profiles[0]!.uppSha256).toBe(createHash('sha256').update(upp).digest('hex'));
      const free1 = decodeEuiccInfo2((await es10(r, encodeGetEuiccInfo2Request())).data).extCardResource.freeNvm!;
      expect(free0 - free1).toBe(upp.length);
    });
  }

  it('reports modeled card time; slow NVM adds its per-call time to every load call', async () => {
    const a = await rig('nist');
    const b = await rig('nist', { faults: { slowNvm: { perCallSeconds: 0.25 } } });
    const { bpp } = bind(a, 0);
    const calls = bppCallsOf(bpp);
    for (const r of [a, b]) {
      expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
      r.host.cardSeconds = 0;
      expect(checkedPir(r, (await r.host.loadBpp(bpp, { channel: 1 })).pir).finalResult.kind).toBe('success');
    }
    expect(a.host.cardSeconds).toBeGreaterThan(0.5); // 13 kB of NVM writes, BF23 verification, PIR signature
    expect(b.host.cardSeconds - a.host.cardSeconds).toBeCloseTo(0.25 * calls, 6);
  });
});

const bppCallsOf = (bpp: Uint8Array) => bppLoadCalls(bpp).length;

describe('loads that fail the way a real chip fails', () => {
  it('the same BPP twice: PrepareFactoryLoad says keyAlreadyUsed; without it the first call earns invalidTransactionId', async () => {
    const r = await rig();
    const { bpp, transactionId } = bind(r, 0);
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    expect(checkedPir(r, (await r.host.loadBpp(bpp, { channel: 1 })).pir).finalResult.kind).toBe('success');
    expect(await prepare(r, otpk(r.chip, 0))).toBe('keyAlreadyUsed');
    const again = await r.host.loadBpp(bpp, { channel: 1 });
    expect(again.calls).toBe(1);
    const pir = checkedPir(r, again.pir);
    expectError(pir, 'initialiseSecureChannel', 'invalidTransactionId');
    expect(bytesEqual(pir.transactionId, transactionId)).toBe(true);
    expect(pir.notificationMetadata.seqNumber).toBe(2);
    expect(pir.notificationMetadata.iccid).toBeUndefined();
    // further calls of that BPP: 6A88 until a new BF36
    expect((await es10(r, parseBpp(bpp).firstSequenceOf87.raw)).sw).toBe(0x6a88);
    expect(await profiles(r)).toHaveLength(1);
  });

  it('a BPP bound to another chip: its key is unknown here, and under our key the BF23 signature fails (key not burnt)', async () => {
    const r = await rig();
    const other = r.t.chips[1]!;
    const { bpp } = bind(r, 0, { eid: other.eid, key: otpk(other, 0) });
    expect(await prepare(r, otpk(other, 0))).toBe('unknownOneTimeKey');
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    const out = await r.host.loadBpp(bpp, { channel: 1 });
    expect(out.calls).toBe(1);
    expectError(checkedPir(r, out.pir), 'initialiseSecureChannel', 'invalidSignature');
    expect(await keyStates(r)).toEqual(['unused', 'unused', 'unused']);
  });

  it('a BPP bound to our key but derived for another EID fails its first MAC and burns the key', async () => {
    const r = await rig();
    const { bpp } = bind(r, 2, { eid: r.t.chips[1]!.eid });
    expect(await prepare(r, otpk(r.chip, 2))).toBe('ok');
    const out = await r.host.loadBpp(bpp, { channel: 1 });
    expect(out.calls).toBe(2);
    expectError(checkedPir(r, out.pir), 'configureISDP', 'scp03tSecurityError');
    expect(await keyStates(r)).toEqual(['unused', 'unused', 'consumed']);
    expect(await prepare(r, otpk(r.chip, 2))).toBe('keyAlreadyUsed');
  });

  it('a flipped ciphertext byte: early BF37 loadProfileElements / scp03tSecurityError, key burnt, retry with another key works', async () => {
    const r = await rig('brp');
    const { bpp } = bind(r, 0);
    const seg = parseBpp(bpp).sequenceOf86.items[3]!;
    const bad = bpp.slice();
    bad[seg.offset + seg.header.length + 50]! ^= 0x01;
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    const out = await r.host.loadBpp(bad, { channel: 1 });
    const p = parseBpp(bpp);
    expect(out.calls).toBe(p.counts.seq88 + 4 + 4); // BF23, A0, A1, 88s, A3, then the 4th 86
    expectError(checkedPir(r, out.pir), 'loadProfileElements', 'scp03tSecurityError');
    expect(await keyStates(r)).toEqual(['consumed', 'unused', 'unused']);
    expect(await profiles(r)).toHaveLength(0);
    expect((await es10(r, p.sequenceOf86.items[4]!.raw)).sw).toBe(0x6a88);

    const retry = bind(r, 1);
    expect(await prepare(r, otpk(r.chip, 1))).toBe('ok');
    expect(checkedPir(r, (await r.host.loadBpp(retry.bpp, { channel: 1 })).pir).finalResult.kind).toBe('success');
  });

  it('a chip with all keys consumed refuses every further factory load', async () => {
    const r = await rig();
    for (const [i, iccid] of [ICCID, ICCID2, '8949449999999990049'].entries()) {
      expect(await prepare(r, otpk(r.chip, i))).toBe('ok');
      expect(checkedPir(r, (await r.host.loadBpp(bind(r, i, { iccid }).bpp, { channel: 1 })).pir).finalResult.kind).toBe('success');
    }
    for (let i = 0; i < 3; i++) expect(await prepare(r, otpk(r.chip, i))).toBe('keyAlreadyUsed');
    expect(await keyStates(r)).toEqual(['consumed', 'consumed', 'consumed']);
    expect((await profiles(r)).map((p) => p.iccid)).toEqual([ICCID, ICCID2, '8949449999999990049']);
    const aids = (await profiles(r)).map((p) => toHex(p.isdpAid!));
    expect(new Set(aids).size).toBe(3);
  });

  it('ICCID already on the chip: early BF37 storeMetadata / installFailedDueToIccidAlreadyExistsOnEuicc after the metadata, key burnt', async () => {
    const r = await rig('nist', { preinstalled: [{ iccid: ICCID, profileName: 'Old' }] });
    const { bpp } = bind(r, 0);
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    const out = await r.host.loadBpp(bpp, { channel: 1 });
    expect(out.calls).toBe(3 + parseBpp(bpp).counts.seq88);
    const pir = checkedPir(r, out.pir);
    expectError(pir, 'storeMetadata', 'installFailedDueToIccidAlreadyExistsOnEuicc');
    expect(pir.notificationMetadata.iccid).toBe(ICCID);
    expect(await keyStates(r)).toEqual(['consumed', 'unused', 'unused']);
    expect((await profiles(r)).map((p) => p.profileName)).toEqual(['Old']);
  });

  it('out of memory: by fault at the first profile segment, or when the profile outgrows the free NVM', async () => {
    const r = await rig('nist', { faults: { outOfMemory: true } });
    const { bpp } = bind(r, 0);
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    const out = await r.host.loadBpp(bpp, { channel: 1 });
    expect(out.calls).toBe(5 + parseBpp(bpp).counts.seq88);
    expectError(checkedPir(r, out.pir), 'loadProfileElements', 'installFailedDueToInsufficientMemoryForProfile');
    expect(decodeEuiccInfo2((await es10(r, encodeGetEuiccInfo2Request())).data).extCardResource.freeNvm).toBe(0);

    const small = await rig('nist', { nvmCapacity: 6_000 });
    expect(await prepare(small, otpk(small.chip, 0))).toBe('ok');
    const out2 = await small.host.loadBpp(bind(small, 0).bpp, { channel: 1 });
    expectError(checkedPir(small, out2.pir), 'loadProfileElements', 'installFailedDueToInsufficientMemoryForProfile');
    expect(await profiles(small)).toHaveLength(0);
  });

  it('ICCID in the metadata differs from the profile header: installFailedDueToIccidMismatch at the end', async () => {
    const r = await rig();
    const { bpp } = bind(r, 0, { iccid: ICCID, upp: syntheticUpp(ICCID2, 500) });
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    const out = await r.host.loadBpp(bpp, { channel: 1 });
    expect(out.calls).toBe(bppCallsOf(bpp));
    expectError(checkedPir(r, out.pir), 'loadProfileElements', 'installFailedDueToIccidMismatch');
    expect(await profiles(r)).toHaveLength(0);
  });

  it('a profile package without its End element: installFailedDueToPEProcessingError', async () => {
    const r = await rig();
    const upp = syntheticUpp(ICCID, 200);
    const { bpp } = bind(r, 0, { upp: upp.subarray(0, upp.length - 12) });
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    expectError(checkedPir(r, (await r.host.loadBpp(bpp, { channel: 1 })).pir), 'loadProfileElements', 'installFailedDueToPEProcessingError');
  });

  it('going mute at the Nth load call: no profile, key burnt once BF23 was accepted; the fault fires once', async () => {
    const r = await rig('nist', { faults: { muteAtLoadCall: 5 } });
    const { bpp } = bind(r, 0);
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    await expect(r.host.loadBpp(bpp, { channel: 1 })).rejects.toBeInstanceOf(CardMuteError);
    await expect(r.host.tpdu(fromHex('00C0000000'))).rejects.toBeInstanceOf(CardMuteError);
    r.card.powerOff();
    r.card.atr('cold');
    expect(await r.host.selectIsdr(0)).toBe(0x9000);
    const r0 = { ...r, channel: 0 };
    expect(await keyStates(r0)).toEqual(['consumed', 'unused', 'unused']);
    expect(await profiles(r0)).toHaveLength(0);
    expect(r.card.faults.muteAtLoadCall).toBeUndefined();
  });

  it('removal mid-load: the hook runs, the card is silent until powered again, the chip remembers the burnt key', async () => {
    const store = memoryStateStore();
    let removed = 0;
    const r = await rig('nist', { store, faults: { removeAtLoadCall: 7 }, onRemoval: () => removed++ });
    const { bpp } = bind(r, 1);
    expect(await prepare(r, otpk(r.chip, 1))).toBe('ok');
    await expect(r.host.loadBpp(bpp, { channel: 1 })).rejects.toBeInstanceOf(CardMuteError);
    expect(removed).toBe(1);
    expect(() => r.card.atr('cold')).toThrow(CardMuteError);
    // The same chip in another card object (re-inserted, or a restarted bridge process).
    const again = await rig('nist', { store, channel: 0 });
    expect(await keyStates(again)).toEqual(['unused', 'consumed', 'unused']);
    expect(await profiles(again)).toHaveLength(0);
  });
});

describe('factory requests', () => {
  it('invalidCertificate for a CERT.DPpb of another CI, an expired one, the wrong role, garbage; the key stays unused', async () => {
    const oldCi = createCi({ curve: 'nist', name: 'IFPP Test CI 2019', notBefore: new Date(Date.UTC(2019, 0, 1)) });
    const fixture = makeTestChips({ curve: 'nist', ci: oldCi });
    const r = await rig('nist', { fixture });
    const foreign = issueDpPb({ ci: createCi({ curve: 'nist', name: 'Other CI' }) });
    const expired = issueDpPb({ ci: oldCi, notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2021, 0, 1)) });
    const auth = issueDpAuth({ ci: oldCi });
    for (const cert of [foreign.der, expired.der, auth.der]) expect(await prepare(r, otpk(r.chip, 0), cert)).toBe('invalidCertificate');
    expect(r.card.chip.lastPrepare?.certFailure).toMatchObject({ code: 'X509_WRONG_ROLE' });
    // A SEQUENCE that is not a certificate.
    expect(await prepare(r, otpk(r.chip, 0), fromHex('3003020101'))).toBe('invalidCertificate');
    expect(await keyStates(r)).toEqual(['unused', 'unused', 'unused']);
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    // The chip's clock decides validity.
    const then = await rig('nist', { fixture, now: new Date(Date.UTC(2020, 5, 1)) });
    expect(await prepare(then, otpk(then.chip, 0), expired.der)).toBe('ok');
    expect(await prepare(then, otpk(then.chip, 0))).toBe('invalidCertificate'); // not yet valid then
    expect(then.card.chip.lastPrepare?.certFailure).toMatchObject({ code: 'X509_NOT_YET_VALID' });
  });

  it('a failed PrepareFactoryLoad drops an earlier successful one', async () => {
    const r = await rig();
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    expect(await prepare(r, otpk(r.chip, 0), issueDpAuth({ ci: r.t.ci }).der)).toBe('invalidCertificate');
    expectError(checkedPir(r, (await r.host.loadBpp(bind(r, 0).bpp, { channel: 1 })).pir), 'initialiseSecureChannel', 'invalidTransactionId');
    expect(await keyStates(r)).toEqual(['unused', 'unused', 'unused']);
  });

  it('CloseFpaServices: factory requests then answer fpaServicesClosed; GetFactoryInfo still answers', async () => {
    const r = await rig();
    const close = async () => dialect.decodeCloseFpaServicesResponse((await es10(r, dialect.encodeCloseFpaServicesRequest())).data).name;
    expect(await close()).toBe('ok');
    expect(await close()).toBe('fpaServicesClosed');
    expect(await prepare(r, otpk(r.chip, 0))).toBe('fpaServicesClosed');
    const del = dialect.decodeDeleteOneTimeKeysResponse((await es10(r, dialect.encodeDeleteOneTimeKeysRequest())).data);
    expect(del.result.name).toBe('fpaServicesClosed');
    expect((await factoryInfo(r)).fpaServices).toBe('closed');
    // A BPP after closing has no prepared key.
    expectError(checkedPir(r, (await r.host.loadBpp(bind(r, 0).bpp, { channel: 1 })).pir), 'initialiseSecureChannel', 'invalidTransactionId');
  });

  it('LPA services are refused while unused one-time keys remain, allowed once DeleteOneTimeKeys removed them', async () => {
    const r = await rig();
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    const pir = checkedPir(r, (await r.host.loadBpp(bind(r, 0).bpp, { channel: 1 })).pir);
    const aid = (pir.finalResult as { aid: Uint8Array }).aid;
    const enable = async () => decodeEnableProfileResponse((await es10(r, encodeEnableProfileRequest({ profile: { iccid: ICCID }, refreshFlag: false }))).data).name;
    const disable = async () => decodeDisableProfileResponse((await es10(r, encodeDisableProfileRequest({ profile: { isdpAid: aid }, refreshFlag: false }))).data).name;
    const del = async () => decodeDeleteProfileResponse((await es10(r, encodeDeleteProfileRequest({ iccid: ICCID }))).data).name;
    expect(await enable()).toBe('disallowedByPolicy');
    expect(await del()).toBe('disallowedByPolicy');

    // Delete one listed key (all-or-nothing with an unknown one), then the rest.
    const unknown = makeTestChips({ curve: 'nist', ci: r.t.ci }).chips[0]!;
    const delKeys = async (keys?: Uint8Array[]) => dialect.decodeDeleteOneTimeKeysResponse((await es10(r, dialect.encodeDeleteOneTimeKeysRequest({ keys }))).data);
    expect((await delKeys([otpk(r.chip, 1), otpk(unknown, 0)])).result.name).toBe('unknownOneTimeKey');
    expect(await keyStates(r)).toEqual(['consumed', 'unused', 'unused']);
    expect(await delKeys([otpk(r.chip, 1)])).toEqual({ result: { code: 0, name: 'ok' }, deletedCount: 1 });
    expect(await enable()).toBe('disallowedByPolicy');
    expect(await delKeys()).toEqual({ result: { code: 0, name: 'ok' }, deletedCount: 1 });
    expect(await keyStates(r)).toEqual(['consumed']);
    expect((await delKeys()).result.name).toBe('nothingToDelete');
    expect(await prepare(r, otpk(r.chip, 2))).toBe('unknownOneTimeKey');

    expect(await enable()).toBe('ok');
    expect((await profiles(r))[0]!.profileState).toBe(1);
    expect(await enable()).toBe('profileNotInDisabledState');
    expect(await del()).toBe('profileNotInDisabledState');
    expect(await disable()).toBe('ok');
    expect(await disable()).toBe('profileNotInEnabledState');
    expect(await del()).toBe('ok');
    expect(await del()).toBe('iccidOrAidNotFound');
  });

  it('eUICC memory reset deletes operational and test profiles as asked, keeps provisioning ones', async () => {
    const r = await rig('nist', {
      preinstalled: [
        { iccid: ICCID, profileClass: 2 },
        { iccid: ICCID2 },
        { iccid: '8949449999999990049', profileClass: 1 },
        { iccid: '8949449999999990056', profileClass: 0 },
      ],
    });
    const reset = async (bits: number[]) => decodeMemoryResetResponse((await es10(r, encodeMemoryResetRequest(bits))).data).name;
    expect(await reset([ResetOptions.resetDefaultSmdpAddress])).toBe('nothingToDelete');
    expect(await reset([ResetOptions.deleteOperationalProfiles])).toBe('ok');
    expect((await profiles(r)).map((p) => p.iccid)).toEqual(['8949449999999990049', '8949449999999990056']);
    expect(await reset([ResetOptions.deleteOperationalProfiles])).toBe('nothingToDelete');
    expect(await reset([ResetOptions.deleteFieldLoadedTestProfiles])).toBe('ok');
    expect((await profiles(r)).map((p) => p.iccid)).toEqual(['8949449999999990049']);
  });

  it('GetProfilesInfo honours search criteria and tag lists', async () => {
    const r = await rig('nist', { preinstalled: [{ iccid: ICCID, profileClass: 1 }, { iccid: ICCID2 }] });
    const list = async (req: Parameters<typeof encodeProfileInfoListRequest>[0]) => decodeProfileInfoListResponse((await es10(r, encodeProfileInfoListRequest(req))).data);
    const byIccid = await list({ searchCriteria: { iccid: ICCID2 } });
    expect(byIccid.ok && byIccid.profiles.map((p) => p.iccid)).toEqual([ICCID2]);
    const byClass = await list({ searchCriteria: { profileClass: 1 } });
    expect(byClass.ok && byClass.profiles.map((p) => p.iccid)).toEqual([ICCID]);
    const tags = await list({ tagList: fromHex('5A9F70') });
    expect(tags.ok && tags.profiles[0]).toMatchObject({ iccid: ICCID, profileState: 0, profileName: undefined, isdpAid: undefined });
  });
});

describe('chip state persistence', () => {
  it('a chip started from a saved state has its profiles, key states and notification counter', async () => {
    const store: ChipStateStore & { saves: number } = memoryStateStore();
    const r = await rig('brp', { store });
    expect(await prepare(r, otpk(r.chip, 0))).toBe('ok');
    expect(checkedPir(r, (await r.host.loadBpp(bind(r, 0).bpp, { channel: 1 })).pir).notificationMetadata.seqNumber).toBe(1);
    expect(store.saves).toBeGreaterThan(1);
    const r2 = await rig('brp', { store });
    expect(await keyStates(r2)).toEqual(['consumed', 'unused', 'unused']);
    expect((await profiles(r2)).map((p) => p.iccid)).toEqual([ICCID]);
    expect(await prepare(r2, otpk(r2.chip, 1))).toBe('ok');
    const pir = checkedPir(r2, (await r2.host.loadBpp(bind(r2, 1, { iccid: ICCID2 }).bpp, { channel: 1 })).pir);
    expect(pir.notificationMetadata.seqNumber).toBe(2);
    expect(toHex((pir.finalResult as { aid: Uint8Array }).aid)).toBe('a0000005591010ffffffff8900001100');
  });

  it('refuses a saved state of another chip', async () => {
    const store = memoryStateStore();
    await rig('nist', { store, chipIndex: 0 });
    await expect(rig('nist', { store, chipIndex: 1 })).rejects.toBeInstanceOf(EuiccStateError);
  });
});

describeShared('TS.48 profiles bound with the SGP.26 DPpb test keys', () => {
  for (const curve of ['nist', 'brp'] as CurveName[]) {
    it(`installs every TS.48 profile on a ${curve} chip that trusts the SGP.26 CI`, async () => {
      const L = curve === 'nist' ? 'NIST' : 'BRP';
      const ciDer = sharedFile('sgp26', `CERT_CI_ECDSA_${L}.der`);
      const dpDer = sharedFile('sgp26', `CERT_S_SM_DPpb_ECDSA_${L}.der`);
      const dpKey = parsePrivateKeyPem(sharedText('sgp26', `SK_S_SM_DPpb_ECDSA_${L}.pem`));
      const dpCert = parseCertificate(dpDer);
      const now = new Date(dpCert.notBefore.getTime() + 86_400_000);
      const profilesList = ts48Profiles();
      const fixture = makeTestChips({ curve, count: 1, keysPerChip: profilesList.length });
      const r = await rig(curve, { fixture, extraCiCertificates: [ciDer], now, channel: 0, blockSize: 200 });
      const upps = profilesList.map(({ der }, i) => withIccid(der, `894944999999999${1000 + i}`));
      for (const [i, upp] of upps.entries()) {
        const iccid = summarizeUpp(upp).iccid;
        const { bpp } = bind(r, i, { iccid, upp, dpPb: dpKey, rsk: i % 2 === 1 });
        expect(await prepare(r, otpk(r.chip, i), dpDer)).toBe('ok');
        const pir = checkedPir(r, (await r.host.loadBpp(bpp, { blockSize: 200 })).pir);
        expect(pir.finalResult.kind).toBe('success');
        expect(pir.smdpOid).toBe(dpCert.extensions.registeredIds[0]);
      }
      expect(r.card.chip.state.profiles.map((p) => p.uppSha256)).toEqual(upps.map((u) => createHash('sha256').update(u).digest('hex')));
      expect(await keyStates(r)).toEqual(upps.map(() => 'consumed'));
    });
  }
});
