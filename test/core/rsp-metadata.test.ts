import { expectOnlyIfppErrorsOnNoise, expectTruncationsRefused, onlyIfppErrors, type DecoderCase } from '../helpers/hostile-input.ts';
import { describe, expect, it } from 'vitest';
import {
  decodeConfigureIsdp,
  decodeReplaceSessionKeys,
  decodeStoreMetadata,
  encodeConfigureIsdp,
  encodeReplaceSessionKeys,
  encodeStoreMetadata,
  ProfileClass,
  type ProfileMetadata,
} from '../../src/core/rsp/metadata.ts';
import { RspEncodeError } from '../../src/core/rsp/errors.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { tlv } from '../../src/core/tlv/ber-tlv.ts';
import { IfppError } from '../../src/core/errors.ts';

const meta: ProfileMetadata = {
  iccid: '8944476500001224158',
  serviceProviderName: 'GSMA Test',
  profileName: 'TS.48 Generic Profile — ü',
  iconType: 1,
  icon: fromHex('89504e47'),
  profileClass: ProfileClass.values.operational,
  notificationConfigurationInfo: [
    { profileManagementOperation: [0], notificationAddress: 'smdpf.example.com' },
    { profileManagementOperation: [1, 2, 3], notificationAddress: 'ops.example.com' },
  ],
  profileOwner: { mccMnc: fromHex('21f354'), gid1: fromHex('01'), gid2: fromHex('0203') },
  profilePolicyRules: [1, 2],
  unknown: [],
};
const rsk = { initialMacChainingValue: new Uint8Array(16).fill(1), ppkEnc: new Uint8Array(16).fill(2), ppkCmac: new Uint8Array(16).fill(3) };


const cases: DecoderCase[] = [
  ['ConfigureISDP', decodeConfigureIsdp, encodeConfigureIsdp({ dpProprietaryData: { dpOid: '2.999.10', extra: [fromHex('810101')] } })],
  ['StoreMetadata', decodeStoreMetadata, encodeStoreMetadata(meta)],
  ['ReplaceSessionKeys', decodeReplaceSessionKeys, encodeReplaceSessionKeys(rsk)],
];

describe('ConfigureISDPRequest (BF24)', () => {
  it('is BF24 00 without data, and B8 { 80 dpOid, ... } with', () => {
    expect(toHex(encodeConfigureIsdp())).toBe('bf2400');
    expect(decodeConfigureIsdp(fromHex('bf2400'))).toEqual({ dpProprietaryData: undefined });
    const b = encodeConfigureIsdp({ dpProprietaryData: { dpOid: '2.999.10', extra: [fromHex('810101')] } });
    expect(toHex(b)).toBe('bf240ab808' + '800388370a' + '810101');
    expect(decodeConfigureIsdp(b)).toEqual({ dpProprietaryData: { dpOid: '2.999.10', extra: [fromHex('810101')] } });
  });

  it('tolerates dpOid as universal 06 when reading', () => {
    expect(decodeConfigureIsdp(fromHex('bf2407b805060388370a')).dpProprietaryData?.dpOid).toBe('2.999.10');
    expect(() => decodeConfigureIsdp(fromHex('bf2405b803810101'))).toThrow(/BF24 > B8 > 80 \(dpOid\) missing/);
    expect(() => decodeConfigureIsdp(fromHex('bf2407b80580038837'))).toThrow(IfppError);
  });
});

describe('StoreMetadataRequest (BF25)', () => {
  it('round-trips every field', () => {
    const bytes = encodeStoreMetadata(meta);
    const { raw, ...rest } = decodeStoreMetadata(bytes);
    expect(raw).toEqual(bytes);
    expect(rest).toEqual(meta);
  });

  it('uses the module tags', () => {
    const h = toHex(encodeStoreMetadata(meta));
    expect(h.startsWith('bf25')).toBe(true);
    expect(h).toContain('5a0a984474560000214251f8' + '9109' + toHex(new TextEncoder().encode('GSMA Test')) + '92');
    expect(h).toContain('930101' + '940489504e47' + '950102');
    expect(h).toContain('b6' + '30' + '3017' + '80020780' + '8111');
    expect(h).toContain('3015' + '80020470' + '810f'); // bits 1,2,3 with 4 unused bits
    expect(h).toContain('b70c' + '800321f354' + '810101' + '82020203');
    expect(h).toContain('9902056' + '0');
  });

  it('minimal metadata: iccid, names only; unknown extensions kept', () => {
    const min = { iccid: '89000123456789012341', serviceProviderName: '', profileName: 'x' };
    const withExt = tlv(0xbf25, ...[encodeStoreMetadata(min).subarray(3), fromHex('9f2001ff')]);
    const d = decodeStoreMetadata(withExt);
    expect(d.iccid).toBe(min.iccid);
    expect(d.serviceProviderName).toBe('');
    expect(d.profileClass).toBeUndefined();
    expect(d.unknown).toEqual([fromHex('9f2001ff')]);
    expect(toHex(encodeStoreMetadata(d))).toBe(toHex(withExt));
  });

  it('rejects bad values with their location', () => {
    expect(() => decodeStoreMetadata(fromHex('bf2507' + '9100' + '9201' + '78' + '5a00'))).toThrow(/BF25 > 5A \(iccid\)/);
    expect(() => decodeStoreMetadata(fromHex('bf2504' + '9100' + '9200'))).toThrow(/BF25 > 5A \(iccid\) missing/);
    expect(() => decodeStoreMetadata(fromHex('bf2511' + '5a0a984474560000214251f8' + '9101ff' + '9200'))).toThrow(/not valid UTF-8/);
    expect(() => encodeStoreMetadata({ ...meta, iconType: undefined })).toThrow(RspEncodeError);
    expect(() => encodeStoreMetadata({ ...meta, profileOwner: { mccMnc: fromHex('21f3') } })).toThrow(/mccMnc/);
  });
});

describe('ReplaceSessionKeysRequest (BF26)', () => {
  it('is BF26 { 80 mcv, 81 ppkEnc, 82 ppkCmac }', () => {
    const b = encodeReplaceSessionKeys(rsk);
    expect(toHex(b)).toBe('bf2636' + '8010' + '01'.repeat(16) + '8110' + '02'.repeat(16) + '8210' + '03'.repeat(16));
    expect(decodeReplaceSessionKeys(b)).toEqual(rsk);
    expect(() => decodeReplaceSessionKeys(fromHex('bf2604' + '8000' + '8100'))).toThrow(/BF26 > 82 \(ppkCmac\) missing/);
    expect(() => encodeReplaceSessionKeys({ ...rsk, ppkEnc: new Uint8Array(0) })).toThrow(/ppkEnc/);
  });
});

describe('metadata decoders on hostile input', () => {
  it('throw only IfppError on truncations, random bytes and mutations', () => {
    expectTruncationsRefused(cases);
    expectOnlyIfppErrorsOnNoise(cases, 800);
  });
});
