import { expectOnlyIfppErrorsOnNoise, expectTruncationsRefused, onlyIfppErrors, type DecoderCase } from '../helpers/hostile-input.ts';
import { describe, expect, it } from 'vitest';
import { makeFactoryDialect, projectDialect as d, type FactoryInfo } from '../../src/core/rsp/factory.ts';
import { namedEnum } from '../../src/core/rsp/der.ts';
import { RspEncodeError } from '../../src/core/rsp/errors.ts';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { IfppError } from '../../src/core/errors.ts';
import { describeShared, sharedFile } from '../helpers/shared-data.ts';

const pk1 = concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(1));
const pk2 = concatBytes(Uint8Array.of(4), new Uint8Array(64).fill(2));
const fakeCert = fromHex('3003020101');
const info: FactoryInfo = {
  fpaServices: 'open',
  oneTimeKeys: [
    { otpk: pk1, state: 'consumed' },
    { otpk: pk2, state: 'unused' },
  ],
};


const cases: DecoderCase[] = [
  ['GetFactoryInfo request', d.decodeGetFactoryInfoRequest, d.encodeGetFactoryInfoRequest()],
  ['GetFactoryInfo response', d.decodeGetFactoryInfoResponse, d.encodeGetFactoryInfoResponse(info)],
  ['PrepareFactoryLoad request', d.decodePrepareFactoryLoadRequest, d.encodePrepareFactoryLoadRequest({ euiccOtpk: pk1, dpPbCertificate: fakeCert, otherCertsInChain: [fakeCert] })],
  ['PrepareFactoryLoad response', d.decodePrepareFactoryLoadResponse, d.encodePrepareFactoryLoadResponse('keyAlreadyUsed')],
  ['DeleteOneTimeKeys request', d.decodeDeleteOneTimeKeysRequest, d.encodeDeleteOneTimeKeysRequest({ keys: [pk1, pk2] })],
  ['DeleteOneTimeKeys response', d.decodeDeleteOneTimeKeysResponse, d.encodeDeleteOneTimeKeysResponse({ result: 'ok', deletedCount: 3 })],
  ['CloseFpaServices request', d.decodeCloseFpaServicesRequest, d.encodeCloseFpaServicesRequest()],
  ['CloseFpaServices response', d.decodeCloseFpaServicesResponse, d.encodeCloseFpaServicesResponse('ok')],
];

describe('factory requests, project dialect (BF70..BF73)', () => {
  it('GetFactoryInfo: BF70 00 -> BF70 { 80 state, A1 { 30 { 5F49, 80 } ... } }', () => {
    expect(toHex(d.encodeGetFactoryInfoRequest())).toBe('bf7000');
    const bytes = d.encodeGetFactoryInfoResponse(info);
    expect(toHex(bytes)).toBe('bf708198' + '800100' + 'a18192' + ('3047' + '5f4941' + toHex(pk1) + '800101') + ('3047' + '5f4941' + toHex(pk2) + '800100'));
    expect(d.decodeGetFactoryInfoResponse(bytes)).toEqual(info);
    const closed = d.encodeGetFactoryInfoResponse({ fpaServices: 'closed', oneTimeKeys: [] });
    expect(toHex(closed)).toBe('bf7005800101a100');
    expect(d.decodeGetFactoryInfoResponse(closed)).toEqual({ fpaServices: 'closed', oneTimeKeys: [] });
  });

  it('PrepareFactoryLoad: BF71 { 5F49, 30 cert, A1 { chain }? } -> BF71 { 80 result }', () => {
    const req = d.encodePrepareFactoryLoadRequest({ euiccOtpk: pk1, dpPbCertificate: fakeCert });
    expect(toHex(req)).toBe('bf7149' + '5f4941' + toHex(pk1) + '3003020101');
    expect(d.decodePrepareFactoryLoadRequest(req)).toEqual({ euiccOtpk: pk1, dpPbCertificate: fakeCert, otherCertsInChain: undefined });
    const withChain = d.encodePrepareFactoryLoadRequest({ euiccOtpk: pk1, dpPbCertificate: fakeCert, otherCertsInChain: [fakeCert, fakeCert] });
    expect(d.decodePrepareFactoryLoadRequest(withChain).otherCertsInChain).toEqual([fakeCert, fakeCert]);
    const names = ['ok', 'invalidCertificate', 'unknownOneTimeKey', 'keyAlreadyUsed', 'fpaServicesClosed'] as const;
    names.forEach((n, code) => {
      const resp = d.encodePrepareFactoryLoadResponse(n);
      expect(toHex(resp)).toBe('bf71038001' + code.toString(16).padStart(2, '0'));
      expect(d.decodePrepareFactoryLoadResponse(resp)).toEqual({ code, name: n });
    });
    expect(d.decodePrepareFactoryLoadResponse(fromHex('bf710380017f'))).toEqual({ code: 127, name: 'undefinedError' });
    expect(d.decodePrepareFactoryLoadResponse(fromHex('bf7103800163'))).toEqual({ code: 99, name: undefined });
  });

  it('PrepareFactoryLoad encoder refuses a certificate that is not one DER SEQUENCE', () => {
    expect(() => d.encodePrepareFactoryLoadRequest({ euiccOtpk: pk1, dpPbCertificate: fromHex('0401aa') })).toThrow(RspEncodeError);
    expect(() => d.encodePrepareFactoryLoadRequest({ euiccOtpk: pk1, dpPbCertificate: fromHex('300500') })).toThrow(/not one DER element/);
    expect(() => d.encodePrepareFactoryLoadRequest({ euiccOtpk: new Uint8Array(0), dpPbCertificate: fakeCert })).toThrow(/euiccOtpk/);
  });

  it('DeleteOneTimeKeys: BF72 { A0 { 5F49.. } }? -> BF72 { 80 result, 81 count? }', () => {
    expect(toHex(d.encodeDeleteOneTimeKeysRequest())).toBe('bf7200');
    expect(d.decodeDeleteOneTimeKeysRequest(fromHex('bf7200'))).toEqual({ keys: undefined });
    const sel = d.encodeDeleteOneTimeKeysRequest({ keys: [pk2] });
    expect(toHex(sel)).toBe('bf7246a044' + '5f4941' + toHex(pk2));
    expect(d.decodeDeleteOneTimeKeysRequest(sel)).toEqual({ keys: [pk2] });
    expect(toHex(d.encodeDeleteOneTimeKeysResponse({ result: 'ok', deletedCount: 3 }))).toBe('bf7206800100810103');
    expect(d.decodeDeleteOneTimeKeysResponse(fromHex('bf7206800100810103'))).toEqual({ result: { code: 0, name: 'ok' }, deletedCount: 3 });
    expect(d.decodeDeleteOneTimeKeysResponse(d.encodeDeleteOneTimeKeysResponse({ result: 'nothingToDelete', deletedCount: 0 }))).toEqual({
      result: { code: 5, name: 'nothingToDelete' },
      deletedCount: 0,
    });
    expect(() => d.decodeDeleteOneTimeKeysResponse(fromHex('bf72068001008101ff'))).toThrow(/deletedCount.*negative/);
  });

  it('CloseFpaServices: BF73 00 -> BF73 { 80 result }', () => {
    expect(toHex(d.encodeCloseFpaServicesRequest())).toBe('bf7300');
    expect(toHex(d.encodeCloseFpaServicesResponse('fpaServicesClosed'))).toBe('bf7303800104');
    expect(d.decodeCloseFpaServicesResponse(fromHex('bf7303800100'))).toEqual({ code: 0, name: 'ok' });
  });

  it('recognises its request tags and nothing else', () => {
    expect([0xbf70, 0xbf71, 0xbf72, 0xbf73, 0xbf3e].map((t) => d.requestKind(t))).toEqual([
      'getFactoryInfo',
      'prepareFactoryLoad',
      'deleteOneTimeKeys',
      'closeFpaServices',
      undefined,
    ]);
  });

  it('rejects unknown states and wrong tags with located errors', () => {
    expect(() => d.decodeGetFactoryInfoResponse(fromHex('bf7005800102a100'))).toThrow(/BF70 > 80 \(fpaServicesState\): unknown value 2/);
    expect(() => d.decodeGetFactoryInfoResponse(fromHex('bf700b800100a10630045f490104'))).toThrow(/BF70 > A1 > 30 > 80 \(keyState\) missing/);
    expect(() => d.decodeGetFactoryInfoResponse(fromHex('bf7003800100'))).toThrow(/BF70 > A1 \(oneTimeKeys\) missing/);
    expect(() => d.decodePrepareFactoryLoadRequest(fromHex('bf71035f4900'))).toThrow(/BF71 > 30 \(dpPbCertificate\) missing/);
    expect(() => d.decodePrepareFactoryLoadRequest(fromHex('bf71085f49003003020101'))).toThrow(/BF71 > 5F49 \(euiccOtpk\): length 0/);
    expect(() => d.decodeCloseFpaServicesRequest(fromHex('bf7000'))).toThrow(/expected CloseFpaServicesRequest \(BF73\)/);
    expect(() => d.encodeGetFactoryInfoResponse({ fpaServices: 'ajar' as 'open', oneTimeKeys: [] })).toThrow(/fpaServices/);
  });

  it('can be re-targeted as a whole (another chip family)', () => {
    const other = makeFactoryDialect(
      'vendor-x',
      { getFactoryInfo: 0xbf60, prepareFactoryLoad: 0xbf61, deleteOneTimeKeys: 0xbf62, closeFpaServices: 0xbf63 },
      namedEnum({ ok: 0, invalidCertificate: 10, unknownOneTimeKey: 11, keyAlreadyUsed: 12, fpaServicesClosed: 13, nothingToDelete: 14, undefinedError: 255 }),
    );
    expect(toHex(other.encodePrepareFactoryLoadResponse('fpaServicesClosed'))).toBe('bf610380010d');
    expect(other.decodePrepareFactoryLoadResponse(fromHex('bf610380010d'))).toEqual({ code: 13, name: 'fpaServicesClosed' });
    // Detached methods still work (no `this`).
    const { decodeGetFactoryInfoResponse } = other;
    expect(decodeGetFactoryInfoResponse(other.encodeGetFactoryInfoResponse(info))).toEqual(info);
  });

  it('decoders throw only IfppError on truncations, random bytes and mutations', () => {
    expectTruncationsRefused(cases);
    expectOnlyIfppErrorsOnNoise(cases, 600);
  });
});

describeShared('factory requests with the GSMA SGP.26 certificates', () => {
  it('carries CERT.DPpb and its CI bytes unchanged', () => {
    const dpPb = sharedFile('sgp26', 'CERT_S_SM_DPpb_ECDSA_NIST.der');
    const ci = sharedFile('sgp26', 'CERT_CI_ECDSA_NIST.der');
    const req = d.encodePrepareFactoryLoadRequest({ euiccOtpk: pk1, dpPbCertificate: dpPb, otherCertsInChain: [ci] });
    const back = d.decodePrepareFactoryLoadRequest(req);
    expect(toHex(back.dpPbCertificate)).toBe(toHex(dpPb));
    expect(toHex(back.otherCertsInChain![0]!)).toBe(toHex(ci));
  });
});
