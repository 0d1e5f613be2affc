import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha1 } from '@noble/hashes/legacy.js';
import {
  loadCertificates,
  nameValue,
  parseCertificate,
  parseCertificatePem,
  X509Error,
} from '../../src/core/x509/certificate.ts';
import type { Certificate } from '../../src/core/x509/certificate.ts';
import { verifyCertificateSignature, verifyChain, verifyChainOrThrow } from '../../src/core/x509/chain.ts';
import type { ChainResult } from '../../src/core/x509/chain.ts';
import { roleOf, rolesOf, RSP_ROLE_OIDS } from '../../src/core/x509/oids.ts';
import { parsePrivateKeyPem } from '../../src/core/crypto/keys.ts';
import { ecdsaSign, ecdsaVerify, signatureDerToRaw } from '../../src/core/crypto/ecdsa.ts';
import { bytesEqual, concatBytes, fromHex, toHex } from '../../src/core/bytes.ts';
import { IfppError } from '../../src/core/errors.ts';
import { certificatePem, createCi, issueDpAuth, issueDpPb, issueEuicc, issueEum, NO_EXPIRY } from '../../src/sim/pki/issue.ts';
import type { IssuedCertificate } from '../../src/sim/pki/issue.ts';
import { describeShared, sharedFile, sharedText } from '../helpers/shared-data.ts';

const CURVES = ['nist', 'brp'] as const;
const FILE_CURVE = { nist: 'NIST', brp: 'BRP' } as const;
const EID = '89049032123451234512345678901235';
const ISSUED_FROM = new Date('2025-01-01T00:00:00Z');
const AT = new Date('2025-06-01T00:00:00Z');

/** Copy of `der` with the first occurrence of `find` replaced by `repl` (same length). */
function patch(der: Uint8Array, find: Uint8Array, repl: Uint8Array, occurrence = 0): Uint8Array {
  expect(repl.length).toBe(find.length);
  let seen = 0;
  for (let i = 0; i + find.length <= der.length; i++) {
    if (bytesEqual(der.subarray(i, i + find.length), find) && seen++ === occurrence) {
      const out = der.slice();
      out.set(repl, i);
      return out;
    }
  }
  throw new Error(`pattern ${toHex(find)} not found`);
}

const ascii = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(X509Error);
    return (e as X509Error).code;
  }
}

function expectOk(r: ChainResult): void {
  expect(r.failure, r.failure && `${r.failure.check}: ${r.failure.reason}`).toBeUndefined();
  expect(r.ok).toBe(true);
  expect(r.checks.every((c) => c.ok)).toBe(true);
}

describeShared('X.509: GSMA SGP.26 test certificates', () => {
  const load = (name: string) => parseCertificate(sharedFile('sgp26', name));

  for (const curve of CURVES) {
    const tag = FILE_CURVE[curve];
    const ci = () => load(`CERT_CI_ECDSA_${tag}.der`);
    const dpPb = () => load(`CERT_S_SM_DPpb_ECDSA_${tag}.der`);
    const dpAuth = () => load(`CERT_S_SM_DPauth_ECDSA_${tag}.der`);

    it(`${tag}: parses CI, DPpb and DPauth with curve, role, key ids and constraints`, () => {
      const [c, pb, auth] = [ci(), dpPb(), dpAuth()];
      for (const cert of [c, pb, auth]) {
        expect(cert.version).toBe(3);
        expect(cert.publicKey.curve).toBe(curve);
        expect(cert.publicKey.point.length).toBe(65);
        expect(cert.publicKey.point[0]).toBe(0x04);
        expect(cert.signatureAlgorithm).toBe('1.2.840.10045.4.3.2');
        expect(cert.signatureRaw.length).toBe(64);
        expect(toHex(signatureDerToRaw(cert.signatureValue))).toBe(toHex(cert.signatureRaw));
        // SGP.26 key ids are SHA-1 over the public key bits: proves the key was extracted intact.
        expect(toHex(cert.extensions.subjectKeyIdentifier!)).toBe(toHex(sha1(cert.publicKey.point)));
        // tbsRaw is the received TBSCertificate: it sits inside raw right after the outer header.
        expect(toHex(cert.raw.subarray(4, 4 + cert.tbsRaw.length))).toBe(toHex(cert.tbsRaw));
        expect(cert.issuer.text).toBe('CN=Test CI, OU=TESTCERT, O=RSPTEST, C=IT');
      }
      expect(roleOf(c)).toBe('ci');
      expect(roleOf(pb)).toBe('dp-pb');
      expect(roleOf(auth)).toBe('dp-auth');
      expect(c.extensions.basicConstraints).toEqual({ cA: true, pathLen: undefined });
      expect(c.extensions.keyUsage?.keyCertSign).toBe(true);
      expect(c.extensions.keyUsage?.digitalSignature).toBe(false);
      expect(c.extensions.authorityKeyIdentifier).toBeUndefined();
      expect(c.extensions.registeredIds).toEqual(['2.999.1']);
      for (const leaf of [pb, auth]) {
        expect(toHex(leaf.extensions.authorityKeyIdentifier!)).toBe(toHex(c.extensions.subjectKeyIdentifier!));
        expect(leaf.extensions.keyUsage?.digitalSignature).toBe(true);
        expect(leaf.extensions.basicConstraints).toBeUndefined();
        expect(leaf.extensions.registeredIds).toEqual(['2.999.10']);
        expect(leaf.subject.text).toBe('O=ACME, CN=TEST SM-DP+');
        expect(nameValue(leaf.subject, 'CN')).toBe('TEST SM-DP+');
        expect(leaf.notAfter.getUTCFullYear()).toBe(2030);
      }
      expect(pb.serial).toBe('0101');
      expect(auth.serial).toBe('0100');
      const policies = pb.extensions.list.find((e) => e.oid === '2.5.29.32');
      expect(policies?.critical).toBe(true);
      expect(pb.extensions.certificatePolicies).toEqual([RSP_ROLE_OIDS['dp-pb']]);
    });

    it(`${tag}: the SGP.26 DPpb private key matches the certificate key`, () => {
      const sk = parsePrivateKeyPem(sharedText('sgp26', `SK_S_SM_DPpb_ECDSA_${tag}.pem`));
      expect(sk.curve).toBe(curve);
      expect(toHex(sk.publicKey)).toBe(toHex(dpPb().publicKey.point));
      const msg = ascii('bf23 stand-in');
      expect(ecdsaVerify(curve, dpPb().publicKey.point, msg, ecdsaSign(curve, sk.secretKey, msg))).toBe(true);
    });

    it(`${tag}: CI -> DPpb verifies inside the validity window`, () => {
      const r = verifyChain({ leaf: dpPb(), trustAnchors: [ci()], at: AT, role: 'dp-pb' });
      expectOk(r);
      expect(r.path.length).toBe(2);
      expect(r.checks.map((c) => c.check)).toEqual(
        expect.arrayContaining(['issuer-found', 'signature', 'issuer-name', 'key-identifier', 'issuer-is-ca', 'validity', 'role', 'anchor-role']),
      );
      expect(verifyCertificateSignature(dpPb(), ci())).toBe(true);
      expect(verifyCertificateSignature(ci(), ci())).toBe(true); // self-signed root
    });

    it(`${tag}: a flipped byte in the TBSCertificate breaks the signature`, () => {
      const bad = parseCertificate(patch(dpPb().raw, ascii('TEST SM-DP+'), ascii('TEST SM-DQ+')));
      expect(bad.subject.text).toBe('O=ACME, CN=TEST SM-DQ+');
      const r = verifyChain({ leaf: bad, trustAnchors: [ci()], at: AT, role: 'dp-pb' });
      expect(r.ok).toBe(false);
      expect(r.failure?.code).toBe('X509_BAD_SIGNATURE');
      expect(r.failure?.check).toBe('signature');
      expect(r.failure?.reason).toMatch(/does not verify/);
    });

    it(`${tag}: DPauth presented as DPpb fails with X509_WRONG_ROLE`, () => {
      const r = verifyChain({ leaf: dpAuth(), trustAnchors: [ci()], at: AT, role: 'dp-pb' });
      expect(r.ok).toBe(false);
      expect(r.failure?.code).toBe('X509_WRONG_ROLE');
      expect(r.failure?.reason).toMatch(/expected RSP role dp-pb .*dp-auth/);
      // Only the role is wrong: the signature chain itself was fine.
      expect(r.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['role']);
    });

    it(`${tag}: validity is judged at the given date`, () => {
      const late = verifyChain({ leaf: dpPb(), trustAnchors: [ci()], at: new Date('2031-01-01T00:00:00Z'), role: 'dp-pb' });
      expect(late.failure?.code).toBe('X509_EXPIRED');
      expect(late.failure?.subject).toBe('O=ACME, CN=TEST SM-DP+');
      const early = verifyChain({ leaf: dpPb(), trustAnchors: [ci()], at: new Date('2019-01-01T00:00:00Z'), role: 'dp-pb' });
      expect(early.failure?.code).toBe('X509_NOT_YET_VALID');
      expect(() => verifyChainOrThrow({ leaf: dpPb(), trustAnchors: [ci()], at: new Date('2031-01-01T00:00:00Z'), role: 'dp-pb' })).toThrow(/expired/);
    });
  }

  it('the NIST CI does not anchor the brainpool DPpb (same CI name, other key)', () => {
    const r = verifyChain({
      leaf: load('CERT_S_SM_DPpb_ECDSA_BRP.der'),
      trustAnchors: [load('CERT_CI_ECDSA_NIST.der')],
      at: AT,
      role: 'dp-pb',
    });
    expect(r.ok).toBe(false);
    expect(r.failure?.code).toBe('X509_UNKNOWN_ISSUER');
    expect(r.failure?.reason).toContain('f54172bdf98a95d65cbeb88a38a1c11d800a85c3');
    expect(r.path.length).toBe(1);
    // With both CIs trusted the right one is picked by key id.
    const both = verifyChain({
      leaf: load('CERT_S_SM_DPpb_ECDSA_BRP.der'),
      trustAnchors: [load('CERT_CI_ECDSA_NIST.der'), load('CERT_CI_ECDSA_BRP.der')],
      at: AT,
      role: 'dp-pb',
    });
    expectOk(both);
    expect(both.path[1]!.publicKey.curve).toBe('brp');
  });

  it('a signature made by another key fails even when names and key ids match', () => {
    // The NIST DPpb's signature grafted onto the NIST DPauth body: right issuer, wrong signature.
    const pb = load('CERT_S_SM_DPpb_ECDSA_NIST.der');
    const auth = load('CERT_S_SM_DPauth_ECDSA_NIST.der');
    const forged: Certificate = { ...auth, signatureRaw: pb.signatureRaw, signatureValue: pb.signatureValue };
    expect(verifyCertificateSignature(forged, load('CERT_CI_ECDSA_NIST.der'))).toBe(false);
  });

  it('loads PEM bundles and concatenated DER', () => {
    const a = sharedFile('sgp26', 'CERT_CI_ECDSA_NIST.der');
    const b = sharedFile('sgp26', 'CERT_S_SM_DPpb_ECDSA_NIST.der');
    const pem = `# chain\n${certificatePem(b)}\n${certificatePem(a)}`;
    const fromPem = loadCertificates(pem);
    expect(fromPem.map((c) => roleOf(c))).toEqual(['dp-pb', 'ci']);
    expect(loadCertificates(ascii(pem)).length).toBe(2);
    expect(parseCertificatePem(pem).serial).toBe('0101');
    const fromDer = loadCertificates(concatBytes(b, a));
    expect(fromDer.map((c) => c.serial)).toEqual(['0101', 'b874f3abfa6c44d3']);
    expect(bytesEqual(fromDer[1]!.raw, a)).toBe(true);
    expect(codeOf(() => parseCertificatePem(sharedText('sgp26', 'PK_S_SM_DPpb_ECDSA_NIST.pem')))).toBe('X509_BAD_PEM');
  });
});

describe('X.509: issued test PKI', () => {
  const pki = Object.fromEntries(
    CURVES.map((curve) => {
      const ci = createCi({ curve, notBefore: ISSUED_FROM });
      const eum = issueEum({ ci, notBefore: ISSUED_FROM });
      const euicc = issueEuicc({ eum, eid: EID, notBefore: ISSUED_FROM });
      const dpPb = issueDpPb({ ci, notBefore: ISSUED_FROM });
      return [curve, { ci, eum, euicc, dpPb }];
    }),
  ) as Record<(typeof CURVES)[number], { ci: IssuedCertificate; eum: IssuedCertificate; euicc: IssuedCertificate; dpPb: IssuedCertificate }>;

  for (const curve of CURVES) {
    const { ci, eum, euicc, dpPb } = pki[curve];
    const euiccChain = (leaf: Certificate, extra: Partial<Parameters<typeof verifyChain>[0]> = {}) =>
      verifyChain({ leaf, intermediates: [eum.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc', ...extra });

    it(`${curve}: issued certificates carry the RSP profile`, () => {
      expect(rolesOf(ci.cert)).toEqual(['ci']);
      expect(roleOf(eum.cert)).toBe('eum');
      expect(roleOf(euicc.cert)).toBe('euicc');
      expect(roleOf(dpPb.cert)).toBe('dp-pb');
      for (const c of [ci, eum, euicc, dpPb]) {
        expect(c.cert.publicKey.curve).toBe(curve);
        expect(toHex(c.cert.publicKey.point)).toBe(toHex(c.publicKey));
        expect(c.secretKey?.length).toBe(32);
        expect(c.cert.extensions.list.find((e) => e.oid === '2.5.29.32')?.critical).toBe(true);
        expect(c.cert.extensions.list.find((e) => e.oid === '2.5.29.15')?.critical).toBe(true);
      }
      expect(eum.cert.extensions.basicConstraints).toEqual({ cA: true, pathLen: 0 });
      expect(toHex(eum.cert.extensions.authorityKeyIdentifier!)).toBe(toHex(ci.cert.extensions.subjectKeyIdentifier!));
      expect(toHex(euicc.cert.extensions.authorityKeyIdentifier!)).toBe(toHex(eum.cert.extensions.subjectKeyIdentifier!));
      expect(nameValue(euicc.cert.subject, 'serialNumber')).toBe(EID);
      expect(nameValue(euicc.cert.subject, 'O')).toBe(nameValue(eum.cert.subject, 'O'));
      expect(euicc.cert.notAfter.getTime()).toBe(NO_EXPIRY.getTime());
      expect(euicc.cert.extensions.keyUsage?.digitalSignature).toBe(true);
      expect(eum.cert.extensions.nameConstraints?.permitted.map((n) => n.text)).toEqual(['O=IFPP Test EUM, serialNumber=89049032']);
      // Re-parsing the DER gives the very bytes that were signed.
      expect(bytesEqual(parseCertificate(euicc.der).tbsRaw, euicc.cert.tbsRaw)).toBe(true);
    });

    it(`${curve}: CI -> EUM -> eUICC and CI -> DPpb verify`, () => {
      const r = euiccChain(euicc.cert);
      expectOk(r);
      expect(r.path.map((c) => roleOf(c))).toEqual(['euicc', 'eum', 'ci']);
      expect(r.checks.find((c) => c.check === 'eid-permitted')?.reason).toContain(EID);
      expectOk(verifyChain({ leaf: dpPb.cert, trustAnchors: [ci.cert], at: AT, role: 'dp-pb' }));
      expectOk(verifyChain({ leaf: eum.cert, trustAnchors: [ci.cert], at: AT, role: 'eum' }));
      expectOk(verifyChain({ leaf: ci.cert, trustAnchors: [ci.cert], at: AT, role: 'ci' }));
      expect(verifyChainOrThrow({ leaf: euicc.cert, intermediates: [eum.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' }).length).toBe(3);
    });

    it(`${curve}: tampered eUICC certificate fails with X509_BAD_SIGNATURE`, () => {
      const tampered = parseCertificate(patch(euicc.der, ascii(EID), ascii(EID.slice(0, -1) + '6')));
      expect(nameValue(tampered.subject, 'serialNumber')).toBe(EID.slice(0, -1) + '6');
      expect(euiccChain(tampered).failure?.code).toBe('X509_BAD_SIGNATURE');
      // A changed signature byte fails the same way.
      const sigTampered = euicc.der.slice();
      sigTampered[sigTampered.length - 1]! ^= 0x01;
      expect(euiccChain(parseCertificate(sigTampered)).failure?.code).toBe('X509_BAD_SIGNATURE');
    });

    it(`${curve}: missing EUM, foreign EUM and wrong role are caught`, () => {
      expect(verifyChain({ leaf: euicc.cert, trustAnchors: [ci.cert], at: AT, role: 'euicc' }).failure?.code).toBe('X509_UNKNOWN_ISSUER');
      // Same EUM name and CI, other EUM key: key ids differ, so no issuer is found.
      const otherEum = issueEum({ ci, notBefore: ISSUED_FROM });
      expect(euiccChain(euicc.cert, { intermediates: [otherEum.cert] }).failure?.code).toBe('X509_UNKNOWN_ISSUER');
      // Another CI altogether.
      const otherCi = createCi({ curve, notBefore: ISSUED_FROM });
      expect(euiccChain(euicc.cert, { trustAnchors: [otherCi.cert] }).failure?.code).toBe('X509_UNKNOWN_ISSUER');
      expect(euiccChain(euicc.cert, { role: 'dp-pb' }).failure?.code).toBe('X509_WRONG_ROLE');
      expect(verifyChain({ leaf: dpPb.cert, trustAnchors: [ci.cert], at: AT, role: 'euicc' }).failure?.code).toBe('X509_WRONG_ROLE');
    });

    it(`${curve}: an end-entity key cannot act as a CA`, () => {
      // A "eUICC certificate" signed with the DPpb key: the DPpb is no CA and no EUM.
      const rogue = issueEuicc({ eum: dpPb, eid: EID, notBefore: ISSUED_FROM });
      const r = verifyChain({ leaf: rogue.cert, intermediates: [dpPb.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' });
      expect(r.failure?.code).toBe('X509_NOT_CA');
      expect(r.checks.find((c) => c.check === 'issuer-role')?.code).toBe('X509_WRONG_ROLE');
      expect(r.checks.find((c) => c.check === 'signature' && c.subject === rogue.cert.subject.text)?.ok).toBe(true);
    });

    it(`${curve}: EUM pathLen 0 and EID name constraints are enforced`, () => {
      const subEum = issueEum({ ci: eum, name: 'IFPP Test Sub-EUM', notBefore: ISSUED_FROM });
      const deep = issueEuicc({ eum: subEum, eid: EID, notBefore: ISSUED_FROM });
      const r = euiccChain(deep.cert, { intermediates: [subEum.cert, eum.cert] });
      expect(r.path.length).toBe(4);
      expect(r.failure?.code).toBe('X509_PATH_LENGTH');

      const outside = issueEuicc({ eum, eid: '89049033123451234512345678901235', notBefore: ISSUED_FROM });
      const o = euiccChain(outside.cert);
      expect(o.failure?.code).toBe('X509_EID_NOT_PERMITTED');
      expect(o.failure?.reason).toContain('serialNumber=89049032');
    });

    it(`${curve}: validity of every certificate on the path counts`, () => {
      const shortEum = issueEum({ ci, notBefore: ISSUED_FROM, notAfter: new Date('2025-03-01T00:00:00Z') });
      const leaf = issueEuicc({ eum: shortEum, eid: EID, notBefore: ISSUED_FROM });
      const r = euiccChain(leaf.cert, { intermediates: [shortEum.cert] });
      expect(r.failure?.code).toBe('X509_EXPIRED');
      expect(r.failure?.subject).toBe(shortEum.cert.subject.text);
      // notAfter itself is still inside the window.
      expect(euiccChain(leaf.cert, { intermediates: [shortEum.cert], at: shortEum.cert.notAfter }).ok).toBe(true);
      expect(euiccChain(euicc.cert, { at: new Date('2024-12-31T23:59:59Z') }).failure?.code).toBe('X509_NOT_YET_VALID');
      expect(euiccChain(euicc.cert, { at: new Date(Number.NaN) }).failure?.code).toBe('X509_BAD_TIME');
    });
  }

  it('an issuer on the other curve verifies with its own curve', () => {
    const ci = createCi({ curve: 'nist', notBefore: ISSUED_FROM });
    const eum = issueEum({ ci, curve: 'brp', notBefore: ISSUED_FROM });
    const euicc = issueEuicc({ eum, eid: EID, notBefore: ISSUED_FROM });
    expect([ci.cert, eum.cert, euicc.cert].map((c) => c.publicKey.curve)).toEqual(['nist', 'brp', 'brp']);
    expectOk(verifyChain({ leaf: euicc.cert, intermediates: [eum.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' }));
  });

  it('certifies a given public key without holding its secret', () => {
    const { ci, eum } = pki.nist;
    const holder = issueEuicc({ eum, eid: EID, notBefore: ISSUED_FROM });
    const again = issueEuicc({ eum, eid: EID, publicKey: holder.publicKey, notBefore: ISSUED_FROM });
    expect(again.secretKey).toBeUndefined();
    expect(toHex(again.cert.publicKey.point)).toBe(toHex(holder.publicKey));
    expectOk(verifyChain({ leaf: again.cert, intermediates: [eum.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' }));
    expect(() => issueEuicc({ eum: again, eid: EID })).toThrow(IfppError);
    expect(() => issueEuicc({ eum, eid: '8904' })).toThrow(/32 decimal digits/);
  });

  it('DPauth issued beside DPpb is told apart by role only', () => {
    const { ci } = pki.brp;
    const auth = issueDpAuth({ ci, notBefore: ISSUED_FROM });
    expectOk(verifyChain({ leaf: auth.cert, trustAnchors: [ci.cert], at: AT, role: 'dp-auth' }));
    expect(verifyChain({ leaf: auth.cert, trustAnchors: [ci.cert], at: AT, role: 'dp-pb' }).failure?.code).toBe('X509_WRONG_ROLE');
  });

  describe('SGP.22 v3 certificate variants', () => {
    // Variants Ov3/A/B/C name the roles under the CI arc; Variant O keeps the v2 OIDs.
    it.each(['O', 'v3'] as const)('a Variant %s eUICC chain (EUM and eUICC of that variant) verifies as euicc', (variant) => {
      const { ci } = pki.nist;
      const eum = issueEum({ ci, notBefore: ISSUED_FROM, variant });
      const euicc = issueEuicc({ eum, eid: EID, notBefore: ISSUED_FROM, variant });
      expect(roleOf(euicc.cert)).toBe('euicc');
      expect(roleOf(eum.cert)).toBe('eum');
      expectOk(verifyChain({ leaf: euicc.cert, intermediates: [eum.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' }));
    });

    it('v3 policy OIDs: CERT.DPpb and CERT.DPauth keep their roles apart', () => {
      const { ci } = pki.nist;
      const pb = issueDpPb({ ci, notBefore: ISSUED_FROM, variant: 'v3' });
      const auth = issueDpAuth({ ci, notBefore: ISSUED_FROM, variant: 'v3' });
      expect(pb.cert.extensions.certificatePolicies).toEqual(['2.23.146.1.2.1.0.0.1.2']);
      expectOk(verifyChain({ leaf: pb.cert, trustAnchors: [ci.cert], at: AT, role: 'dp-pb' }));
      expect(verifyChain({ leaf: auth.cert, trustAnchors: [ci.cert], at: AT, role: 'dp-pb' }).failure?.code).toBe('X509_WRONG_ROLE');
      // Mixed variants in one chain are still one role each.
      const eumV3 = issueEum({ ci, notBefore: ISSUED_FROM, variant: 'v3' });
      expectOk(verifyChain({ leaf: issueEuicc({ eum: eumV3, eid: EID, notBefore: ISSUED_FROM }).cert, intermediates: [eumV3.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' }));
    });

    it('a leaf without keyUsage fails with X509_NO_KEY_USAGE (CERT.DPpb and CERT.EUICC)', () => {
      const { ci } = pki.nist;
      const pb = issueDpPb({ ci, notBefore: ISSUED_FROM, keyUsage: false });
      const eum = issueEum({ ci, notBefore: ISSUED_FROM });
      const euicc = issueEuicc({ eum, eid: EID, notBefore: ISSUED_FROM, keyUsage: false });
      for (const [leaf, role, intermediates] of [
        [pb.cert, 'dp-pb', []],
        [euicc.cert, 'euicc', [eum.cert]],
      ] as const) {
        expect(leaf.extensions.keyUsage).toBeUndefined();
        const r = verifyChain({ leaf, intermediates, trustAnchors: [ci.cert], at: AT, role });
        expect(r.ok).toBe(false);
        expect(r.checks.find((c) => c.check === 'key-usage')).toMatchObject({ ok: false, code: 'X509_NO_KEY_USAGE' });
      }
    });
  });

  describe('malformed input', () => {
    const der = pki.nist.dpPb.der;

    it('names what is wrong', () => {
      expect(codeOf(() => parseCertificate(concatBytes(der, Uint8Array.of(0))))).toBe('X509_TRAILING_BYTES');
      expect(codeOf(() => parseCertificate(der.subarray(0, der.length - 1)))).toBe('X509_MALFORMED');
      expect(codeOf(() => parseCertificate(new Uint8Array(0)))).toBe('X509_MALFORMED');
      // id-ecPublicKey -> id-ecDH: an EC key, but not for signatures.
      expect(codeOf(() => parseCertificate(patch(der, fromHex('2a8648ce3d0201'), fromHex('2a8648ce3d0202'))))).toBe('X509_UNSUPPORTED_KEY');
      // prime256v1 -> prime239v3: not an RSP curve.
      expect(codeOf(() => parseCertificate(patch(der, fromHex('2a8648ce3d030107'), fromHex('2a8648ce3d030106'))))).toBe('X509_UNSUPPORTED_KEY');
      // ecdsa-with-SHA256 -> ecdsa-with-SHA384 in both places, then in one place only.
      const sha384 = patch(patch(der, fromHex('2a8648ce3d040302'), fromHex('2a8648ce3d040303')), fromHex('2a8648ce3d040302'), fromHex('2a8648ce3d040303'));
      expect(codeOf(() => parseCertificate(sha384))).toBe('X509_UNSUPPORTED_ALGORITHM');
      let message = '';
      try {
        parseCertificate(patch(der, fromHex('2a8648ce3d040302'), fromHex('2a8648ce3d040303')));
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/signatureAlgorithm .* differs/);
      // A public key that is not on the curve.
      const pt = pki.nist.dpPb.publicKey;
      const offCurve = pt.slice();
      offCurve[64]! ^= 1;
      expect(codeOf(() => parseCertificate(patch(der, pt, offCurve)))).toBe('X509_BAD_PUBLIC_KEY');
      expect(codeOf(() => loadCertificates('no pem here'))).toBe('X509_BAD_PEM');
      expect(codeOf(() => loadCertificates('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'))).toBe('X509_BAD_PEM');
    });

    it('random bytes never raise anything but X509Error', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 700 }), (bytes) => {
          try {
            parseCertificate(bytes);
          } catch (e) {
            if (!(e instanceof X509Error)) throw e;
          }
          try {
            loadCertificates(bytes);
          } catch (e) {
            if (!(e instanceof X509Error)) throw e;
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('random DER-shaped input (a SEQUENCE around random content) is rejected cleanly', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (body) => {
          const seq = concatBytes(Uint8Array.of(0x30, body.length), body);
          try {
            parseCertificate(seq);
          } catch (e) {
            if (!(e instanceof X509Error)) throw e;
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('every truncation of a certificate is an X509Error', () => {
      for (let n = 0; n < der.length; n++) {
        expect(codeOf(() => parseCertificate(der.subarray(0, n)))).toMatch(/^X509_/);
      }
    });

    it('single-byte corruptions parse or fail typed, and never pass verification', () => {
      const { ci, euicc, eum } = pki.brp;
      fc.assert(
        fc.property(fc.nat({ max: euicc.der.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, x) => {
          const bad = euicc.der.slice();
          bad[pos]! ^= x;
          let cert: Certificate;
          try {
            cert = parseCertificate(bad);
          } catch (e) {
            if (!(e instanceof X509Error)) throw e;
            return;
          }
          const r = verifyChain({ leaf: cert, intermediates: [eum.cert], trustAnchors: [ci.cert], at: AT, role: 'euicc' });
          expect(r.ok).toBe(false);
        }),
        { numRuns: 300 },
      );
    });
  });
});
