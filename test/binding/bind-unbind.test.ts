import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describeShared, sharedText, ts48Profiles } from '../helpers/shared-data.ts';
import { bindProfile } from '../../src/binding/bind.ts';
import { unbindProfile, UnbindError } from '../../src/binding/unbind.ts';
import { generateKeyPair } from '../../src/core/crypto/ecdh.ts';
import { parsePrivateKeyPem } from '../../src/core/crypto/keys.ts';
import type { CurveName } from '../../src/core/crypto/curves.ts';
import { parseBpp } from '../../src/core/rsp/bpp.ts';
import { makeEid } from '../../src/core/rsp/eid.ts';
import { IfppError } from '../../src/core/errors.ts';

const CURVES: [CurveName, string][] = [
  ['nist', 'NIST'],
  ['brp', 'BRP'],
];

function dpKey(label: string) {
  return parsePrivateKeyPem(sharedText('sgp26', `SK_S_SM_DPpb_ECDSA_${label}.pem`));
}

const eid = makeEid('890490320000000000000000000001');
const metadata = { iccid: '8949449999999990023', serviceProviderName: 'GSMA Test', profileName: 'TS.48 test profile' };

function keysFor(curve: CurveName, ot: { secretKey: Uint8Array }, dp: { curve: CurveName; publicKey: Uint8Array }, e = eid) {
  return { eid: e, otSecretKey: ot.secretKey, otCurve: curve, dpPbPublicKey: dp.publicKey, dpPbCurve: dp.curve };
}

function expectUnbindError(f: () => unknown, kind: string, reason?: string): UnbindError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UnbindError);
    const u = e as UnbindError;
    expect(u.kind).toBe(kind);
    if (reason) expect(u.errorReason).toBe(reason);
    return u;
  }
  throw new Error('expected an UnbindError');
}

describeShared('bind → unbind with TS.48 profiles and the SGP.26 DPpb test keys', () => {
  for (const [curve, label] of CURVES) {
    for (const { name, der } of ts48Profiles()) {
      for (const rsk of [false, true]) {
        it(`${name} on ${curve}${rsk ? ' with ReplaceSessionKeys' : ''}`, () => {
          const dp = dpKey(label);
          const ot = generateKeyPair(curve);
          const { bpp, transactionId } = bindProfile({ upp: der, eid, euiccOtpk: ot.publicKey, dpPb: dp, metadata, replaceSessionKeys: rsk });
          const parsed = parseBpp(bpp);
          expect(parsed.sizes.largestSegment).toBeLessThanOrEqual(1020);
          expect(parsed.secondSequenceOf87 !== undefined).toBe(rsk);
          const out = unbindProfile(bpp, keysFor(curve, ot, dp));
          expect(out.uppSha256).toBe(createHash('sha256').update(der).digest('hex'));
          expect(Buffer.from(out.upp).equals(Buffer.from(der))).toBe(true);
          expect(out.metadata.iccid).toBe(metadata.iccid);
          expect(out.metadata.profileName).toBe(metadata.profileName);
          expect(Buffer.from(out.transactionId).equals(Buffer.from(transactionId))).toBe(true);
          expect(out.replaceSessionKeys).toBe(rsk);
        });
      }
    }
  }

  describe('negative cases are told apart', () => {
    const curve: CurveName = 'nist';
    const profile = () => ts48Profiles()[0]!.der;
    const setup = () => {
      const dp = dpKey('NIST');
      const ot = generateKeyPair(curve);
      const { bpp } = bindProfile({ upp: profile(), eid, euiccOtpk: ot.publicKey, dpPb: dp, metadata });
      return { dp, ot, bpp };
    };

    it('flipped ciphertext byte in an 86 segment → MAC failure', () => {
      const { dp, ot, bpp } = setup();
      const p = parseBpp(bpp);
      const seg = p.sequenceOf86.items[1]!;
      const bad = bpp.slice();
      bad[seg.offset + seg.header.length + 100]! ^= 0x01;
      const e = expectUnbindError(() => unbindProfile(bad, keysFor(curve, ot, dp)), 'mac', 'scp03tSecurityError');
      expect(e.bppCommandId).toBe('loadProfileElements');
    });

    it('wrong signer → signature failure', () => {
      const { ot } = setup();
      const other = generateKeyPair('nist');
      const { bpp } = bindProfile({ upp: profile(), eid, euiccOtpk: ot.publicKey, dpPb: { curve: 'nist', secretKey: other.secretKey }, metadata });
      const e = expectUnbindError(() => unbindProfile(bpp, keysFor(curve, ot, dpKey('NIST'))), 'signature', 'invalidSignature');
      expect(e.bppCommandId).toBe('initialiseSecureChannel');
    });

    it('wrong one-time key → MAC failure', () => {
      // The signature covers the key named for the load (B); decrypting with another secret (A)
      // gives other session keys, so the first MAC fails.
      const dp = dpKey('NIST');
      const a = generateKeyPair(curve);
      const b = generateKeyPair(curve);
      const { bpp } = bindProfile({ upp: profile(), eid, euiccOtpk: b.publicKey, dpPb: dp, metadata });
      const e = expectUnbindError(() => unbindProfile(bpp, { ...keysFor(curve, a, dp), euiccOtpk: b.publicKey }), 'mac', 'scp03tSecurityError');
      expect(e.bppCommandId).toBe('configureISDP');
      // A one-time key that the BPP was not signed for is refused at the signature.
      expectUnbindError(() => unbindProfile(bpp, keysFor(curve, a, dp)), 'signature');
    });

    it('right key, other EID → MAC failure (EID enters the key derivation)', () => {
      const { dp, ot, bpp } = setup();
      const e = expectUnbindError(() => unbindProfile(bpp, keysFor(curve, ot, dp, makeEid('890490320000000000000000000002'))), 'mac');
      expect(e.bppCommandId).toBe('configureISDP');
    });

    it('truncated BPP → structure error', () => {
      const { dp, ot, bpp } = setup();
      for (const cut of [0, 5, 100, bpp.length - 1]) {
        const e = expectUnbindError(() => unbindProfile(bpp.subarray(0, cut), keysFor(curve, ot, dp)), 'structure');
        expect(e.code).toBe('UNBIND_STRUCTURE');
      }
    });

    it('random damage never yields anything but typed errors', () => {
      const { dp, ot, bpp } = setup();
      fc.assert(
        fc.property(fc.nat(bpp.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
          const bad = bpp.slice();
          bad[pos]! ^= x;
          try {
            unbindProfile(bad, keysFor(curve, ot, dp));
          } catch (e) {
            if (!(e instanceof IfppError)) throw e;
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
