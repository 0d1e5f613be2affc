/**
 * `ifpp demo` (npm start until the simulated station lands): the whole key-less path of one
 * profile, end to end, with test keys — an SM-DPf binds, the station inspects, a simulated
 * eUICC unbinds — and the CLI lines to repeat each step by hand.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { bindProfile } from '../../binding/bind.ts';
import { unbindProfile } from '../../binding/unbind.ts';
import { inspectBpp } from '../../core/bpp/inspect.ts';
import { toHex } from '../../core/bytes.ts';
import { parseCurveName } from '../../core/crypto/curves.ts';
import { generateKeyPair } from '../../core/crypto/ecdh.ts';
import { encodePrivateKeyPem, parsePrivateKeyPem } from '../../core/crypto/keys.ts';
import { makeEid } from '../../core/rsp/eid.ts';
import { parseCertificate } from '../../core/x509/certificate.ts';
import { createCi, issueDpPb } from '../../sim/pki/issue.ts';
import { sgp26DpPb, ts48ProfilePaths } from '../../sim/shared-testdata.ts';
import { summarizeUpp, syntheticUpp } from '../../sim/profiles/upp.ts';
import { parseOptions } from '../command.ts';

export const help = `Usage: ifpp demo [--curve nist|brp] [--out DIR]

Binds a test profile to a fresh eUICC one-time key with SM-DPf test keys, inspects the BPP as
the station does (no decryption), and unbinds it as the simulated eUICC does. Uses the GSMA
SGP.26 DPpb test key and a TS.48 profile from ../shared when present, otherwise a generated
test PKI and a synthetic profile. Files go to DIR (default var/demo).`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { curve: { type: 'string' }, out: { type: 'string' } });
  const curve = parseCurveName(values.curve ?? 'nist');
  const out = resolve(values.out ?? 'var/demo');
  mkdirSync(out, { recursive: true });
  const say = (s: string) => process.stdout.write(s + '\n');
  const rel = (p: string) => relative(process.cwd(), p) || '.';

  // SM-DPf identity: SGP.26 test DPpb when available, else a generated CI and DPpb.
  const sgp26 = sgp26DpPb(curve);
  let dpKey, dpCertDer: Uint8Array, ciDer: Uint8Array, source: string;
  if (sgp26) {
    dpKey = parsePrivateKeyPem(sgp26.keyPem);
    dpCertDer = sgp26.certDer;
    ciDer = sgp26.ciDer;
    source = 'GSMA SGP.26 test CI and DPpb (../shared)';
  } else {
    const ci = createCi({ curve });
    const dp = issueDpPb({ ci, curve });
    dpKey = { curve, secretKey: dp.secretKey!, publicKey: dp.publicKey };
    dpCertDer = dp.der;
    ciDer = ci.der;
    source = 'generated test CI and DPpb (../shared not found)';
  }
  const profilePath = ts48ProfilePaths()[0];
  const upp = profilePath ? new Uint8Array(readFileSync(profilePath)) : syntheticUpp('8949449999999990015', 11_000);
  const summary = summarizeUpp(upp);

  // The chip: an EID and one one-time key pair (a real chip keeps the secret inside).
  const eid = makeEid('890490320000000000000000000123'.slice(0, 30));
  const ot = generateKeyPair(curve);

  const files = {
    bpp: join(out, 'bpp.der'),
    dpCert: join(out, 'cert-dppb.der'),
    ci: join(out, 'cert-ci.der'),
    dpKey: join(out, 'sk-dppb.pem'),
    otSk: join(out, 'chip-ot-sk.hex'),
  };
  writeFileSync(files.dpCert, dpCertDer);
  writeFileSync(files.ci, ciDer);
  writeFileSync(files.dpKey, encodePrivateKeyPem(dpKey.curve, dpKey.secretKey));
  writeFileSync(files.otSk, toHex(ot.secretKey) + '\n');

  say(`ifpp demo — one profile through the key-less factory path (${curve === 'nist' ? 'NIST P-256' : 'brainpoolP256r1'})`);
  say(`  SM-DPf keys  ${source}`);
  say(`  profile      ${profilePath ? rel(profilePath) : 'synthetic test profile'} (${summary.bytes} bytes, ICCID ${summary.iccid})`);
  say(`  chip         EID ${eid}, one-time public key ${toHex(ot.publicKey).slice(0, 24)}…`);

  const t0 = performance.now();
  const bound = bindProfile({
    upp,
    eid,
    euiccOtpk: ot.publicKey,
    dpPb: dpKey,
    metadata: { iccid: summary.iccid, serviceProviderName: 'ifpp demo operator', profileName: summary.profileType ?? 'test profile' },
  });
  writeFileSync(files.bpp, bound.bpp);
  say(`\n1. SM-DPf bound it: ${rel(files.bpp)} (${bound.bpp.length} bytes) in ${(performance.now() - t0).toFixed(1)} ms`);

  const r = inspectBpp(bound.bpp, { dpCert: parseCertificate(dpCertDer), ciCerts: [parseCertificate(ciDer)], euiccOtpk: ot.publicKey });
  say(`2. Station inspected it (no keys, no decryption): ICCID ${r.metadata?.iccid}, ${r.bpp?.segments.map((s) => `${s.count}×${s.tag}`).join(' ')}`);
  for (const c of r.checks) say(`     ${c.status.padEnd(7)} ${c.name.padEnd(9)} ${c.reason}`);

  const u = unbindProfile(bound.bpp, { eid, otSecretKey: ot.secretKey, otCurve: curve, dpPbPublicKey: dpKey.publicKey, dpPbCurve: dpKey.curve });
  const same = toHex(u.upp) === toHex(upp);
  say(`3. Simulated eUICC unbound it: UPP sha256 ${u.uppSha256.slice(0, 16)}… ${same ? 'equals the original profile' : 'DIFFERS from the original'}`);

  const otpk = toHex(ot.publicKey);
  say(`\nRepeat by hand:`);
  say(`  node bin/ifpp.js bpp inspect ${rel(files.bpp)} --dp-cert ${rel(files.dpCert)} --ci-cert ${rel(files.ci)} --euicc-otpk ${otpk}`);
  say(`  node bin/ifpp.js sim unbind --bpp ${rel(files.bpp)} --eid ${eid} --ot-sk $(cat ${rel(files.otSk)}) --dp-cert ${rel(files.dpCert)}`);
  return r.ok && same ? 0 : 1;
}
