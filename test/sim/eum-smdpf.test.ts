/**
 * The simulated EUM and SM-DPf tools: a generated world of chips (eUICC data + reel), a batch
 * bound to it, and every property the station and the card simulator rely on — valid EIDs,
 * certificate chains, reel/data consistency, manifest hashes, sorted index, and BPPs that
 * unbind with the reel's one-time keys. Also run as a user runs them (child processes).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { bytesEqual, fromHex, toHex } from '../../src/core/bytes.ts';
import { publicKeyFromSecret } from '../../src/core/crypto/ecdh.ts';
import { isValidEid } from '../../src/core/rsp/eid.ts';
import { decodeEuiccInfo2 } from '../../src/core/rsp/es10.ts';
import { iccidFromBytes, isLuhnValid } from '../../src/core/rsp/iccid.ts';
import { isIfppError } from '../../src/core/errors.ts';
import { nameValue, parseCertificate } from '../../src/core/x509/certificate.ts';
import { verifyChain } from '../../src/core/x509/chain.ts';
import { unbindProfile } from '../../src/binding/unbind.ts';
import { createEumWorld } from '../../src/sim/eum/eum-tool.ts';
import { loadNdjson, EUICC_DATA_FORMAT, REEL_FORMAT, type EuiccDataChip, type EuiccDataHeader, type ReelChip, type ReelHeader } from '../../src/sim/eum/formats.ts';
import { writeEumWorld } from '../../src/sim/eum/write-eum.ts';
import { bindBatch, type IndexLine } from '../../src/sim/smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../../src/sim/smdpf/identity.ts';
import { loadProfileSource } from '../../src/sim/smdpf/profile-source.ts';
import { summarizeUpp } from '../../src/sim/profiles/upp.ts';
import type { DeliveredManifest } from '../../src/core/formats/batch-manifest.ts';
import { describeShared, ts48Profiles, RSP_TESTDATA } from '../helpers/shared-data.ts';

const run = promisify(execFile);
const IFPP = resolve(import.meta.dirname, '../../bin/ifpp.js');

async function ifpp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [IFPP, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `ifpp-${p}-`));

function readAt(dir: string, l: IndexLine): Uint8Array {
  const fd = openSync(join(dir, l.file), 'r');
  const b = new Uint8Array(l.length);
  expect(readSync(fd, b, 0, l.length, l.offset)).toBe(l.length);
  closeSync(fd);
  return b;
}

function indexLines(dir: string): IndexLine[] {
  return readFileSync(join(dir, 'index.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((t) => JSON.parse(t) as IndexLine);
}

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isIfppError(e), `expected an IfppError ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (message) expect((e as Error).message).toMatch(message);
}

/** Checks what both the library and the CLI tests need of a finished batch, against the reel. */
function checkBatch(dir: string, reel: ReelChip[], dpCertDer: Uint8Array, perEuicc: number): IndexLine[] {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DeliveredManifest;
  expect(m.format).toBe('ifpp-esbpp/1');
  expect(m.count).toBe(reel.length * perEuicc);
  expect(bytesEqual(b64(m.certDpPb), dpCertDer)).toBe(true);
  // Every file the manifest lists is there with its size and SHA-256, and nothing else is.
  for (const f of m.files) {
    const bytes = new Uint8Array(readFileSync(join(dir, f.name)));
    expect(bytes.length, f.name).toBe(f.bytes);
    expect(sha(bytes), f.name).toBe(f.sha256);
  }
  expect(readdirSync(dir).sort()).toEqual([...m.files.map((f) => f.name), 'manifest.json'].sort());
  const dp = parseCertificate(b64(m.certDpPb));
  expect(verifyChain({ leaf: dp, trustAnchors: [parseCertificate(b64(m.ciCertificate))], at: new Date(), role: 'dp-pb' }).ok).toBe(true);

  const lines = indexLines(dir);
  expect(lines.length).toBe(m.count);
  const keys = lines.map((l) => l.eid + l.otpk);
  expect(keys).toEqual([...keys].sort());
  expect(new Set(keys).size).toBe(keys.length);
  const byEid = new Map(reel.map((c) => [c.eid, c]));
  for (const l of lines) {
    const bpp = readAt(dir, l);
    expect(sha(bpp)).toBe(l.sha256);
    const chip = byEid.get(l.eid)!;
    const otk = chip.otks.find((k) => k.pk === l.otpk)!;
    expect(otk, `otpk of ${l.eid} is one of the chip's`).toBeDefined();
    const got = unbindProfile(bpp, {
      eid: l.eid,
      otSecretKey: fromHex(otk.sk),
      otCurve: dp.publicKey.curve,
      dpPbPublicKey: dp.publicKey.point,
      dpPbCurve: dp.publicKey.curve,
    });
    expect(toHex(got.transactionId)).toBe(l.transactionId);
    expect(got.metadata.iccid).toBe(iccidFromBytes(fromHex(l.iccid)));
    expect(summarizeUpp(got.upp).iccid).toBe(got.metadata.iccid);
  }
  for (const c of reel) expect(lines.filter((l) => l.eid === c.eid).length).toBe(perEuicc);
  return lines;
}

describe('EUM tool', () => {
  const dir = tmp('eum');
  const world = createEumWorld({ euiccs: 5, otks: 3, curve: 'nist', firstSerial: 4_000n });
  let data: { header: EuiccDataHeader; records: EuiccDataChip[] };
  let reel: { header: ReelHeader; records: ReelChip[] };

  beforeAll(async () => {
    writeEumWorld(world, dir);
    data = await loadNdjson(join(dir, 'euicc-data.ndjson'), EUICC_DATA_FORMAT, 'eUICC data');
    reel = await loadNdjson(join(dir, 'reel.ndjson'), REEL_FORMAT, 'reel');
  });

  it('makes N chips with valid, ascending, distinct EIDs under the EUM prefix', () => {
    expect(data.header.count).toBe(5);
    const eids = data.records.map((c) => c.eid);
    expect(eids.length).toBe(5);
    for (const e of eids) {
      expect(isValidEid(e), e).toBe(true);
      expect(e.startsWith('89049032')).toBe(true);
    }
    expect([...eids].sort()).toEqual(eids);
    expect(new Set(eids).size).toBe(5);
    expect(eids[0]!.slice(0, 30).endsWith('4000')).toBe(true);
  });

  it('CERT.EUICC chains CI → EUM → eUICC and names the EID', () => {
    const ci = parseCertificate(b64(data.header.ciCertificate));
    const eum = parseCertificate(b64(data.header.eumCertificate));
    expect(data.header.eumCiCertificate).toBeUndefined(); // one CI for the whole world
    for (const c of data.records) {
      const leaf = parseCertificate(b64(c.certEuicc));
      const r = verifyChain({ leaf, intermediates: [eum], trustAnchors: [ci], at: new Date(), role: 'euicc' });
      expect(r.failure).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(nameValue(leaf.subject, 'serialNumber')).toBe(c.eid);
    }
  });

  it('reel and eUICC data describe the same chips; every public key belongs to its secret', () => {
    expect(reel.header.count).toBe(data.header.count);
    expect(reel.header.ciCertificate).toBe(data.header.ciCertificate);
    expect(reel.header.eumCertificate).toBe(data.header.eumCertificate);
    expect(reel.records.map((c) => c.eid)).toEqual(data.records.map((c) => c.eid));
    data.records.forEach((d, i) => {
      const r = reel.records[i]!;
      expect(r.certEuicc).toBe(d.certEuicc);
      expect(r.euiccInfo2).toBe(d.euiccInfo2);
      expect(d.otpks.length).toBe(3);
      expect(r.otks.map((k) => k.pk)).toEqual(d.otpks);
      for (const k of r.otks) expect(toHex(publicKeyFromSecret('nist', fromHex(k.sk)))).toBe(k.pk);
      expect(new Set(d.otpks).size).toBe(3);
      const cert = parseCertificate(b64(r.certEuicc));
      expect(bytesEqual(publicKeyFromSecret('nist', fromHex(r.skEuicc)), cert.publicKey.point)).toBe(true);
    });
    // The public file carries no secret.
    const text = readFileSync(join(dir, 'euicc-data.ndjson'), 'utf8');
    for (const r of reel.records) for (const k of r.otks) expect(text.includes(k.sk)).toBe(false);
    expect(statSync(join(dir, 'reel.ndjson')).mode & 0o077).toBe(0);
  });

  it('EUICCInfo2 names the CI key id for verification and signing', () => {
    const ski = parseCertificate(b64(data.header.ciCertificate)).extensions.subjectKeyIdentifier!;
    const info = decodeEuiccInfo2(b64(data.records[0]!.euiccInfo2));
    expect(info.euiccCiPKIdListForVerification.map(toHex)).toEqual([toHex(ski)]);
    expect(info.euiccCiPKIdListForSigning.map(toHex)).toEqual([toHex(ski)]);
  });

  it('writes an SM-DPf identity whose CERT.DPpb the chips trust', () => {
    const id = loadSmdpfIdentity(defaultIdentityPaths(join(dir, 'euicc-data.ndjson')));
    const ci = parseCertificate(b64(data.header.ciCertificate));
    expect(verifyChain({ leaf: id.cert, trustAnchors: [ci], at: new Date(), role: 'dp-pb' }).ok).toBe(true);
    expect(bytesEqual(new Uint8Array(readFileSync(join(dir, 'smdpf', 'cert-ci.der'))), ci.raw)).toBe(true);
  });

  it('refuses to overwrite an existing output and bad counts', () => {
    expect(() => writeEumWorld(world, dir)).toThrow(/already holds/);
    expect(() => createEumWorld({ euiccs: 0, otks: 1, curve: 'nist' })).toThrow(/positive/);
    expect(() => createEumWorld({ euiccs: 1, otks: 0, curve: 'nist' })).toThrow(/one-time keys/);
    expect(() => createEumWorld({ euiccs: 10, otks: 1, curve: 'nist', eidPrefix: '8904903212345678901234', firstSerial: 99_999_995n })).toThrow(/do not fit/);
  });
});

describe('SM-DPf batch binding', () => {
  const worldDir = tmp('smdpf-world');
  const world = createEumWorld({ euiccs: 6, otks: 3, curve: 'brp' });
  let reel: ReelChip[];
  const euiccData = join(worldDir, 'euicc-data.ndjson');
  const dp = () => loadSmdpfIdentity(defaultIdentityPaths(euiccData));
  const profile = loadProfileSource('synthetic:1500');

  beforeAll(async () => {
    writeEumWorld(world, worldDir);
    reel = (await loadNdjson<ReelHeader, ReelChip>(join(worldDir, 'reel.ndjson'), REEL_FORMAT, 'reel')).records;
  });

  it('binds M BPPs per chip to different one-time keys, with consecutive Luhn ICCIDs; everything unbinds', async () => {
    const out = join(tmp('batch'), 'b');
    const r = await bindBatch({ euiccData, profile, dp: dp(), out, perEuicc: 2, iccidStart: '894944999999000001', batchId: 'test-batch-1' });
    expect(r.count).toBe(12);
    expect(r.chips).toBe(6);
    expect(r.inputSorted).toBe(true);
    expect(existsSync(out + '.partial')).toBe(false);
    const lines = checkBatch(out, reel, dp().cert.raw, 2);
    const iccids = lines.map((l) => iccidFromBytes(fromHex(l.iccid))).sort();
    expect(new Set(iccids).size).toBe(12);
    for (const i of iccids) expect(isLuhnValid(i), i).toBe(true);
    expect(iccids[0]!.slice(0, 18)).toBe('894944999999000001');
    expect(iccids[11]!.slice(0, 18)).toBe('894944999999000012');
    // Each chip got its first two keys.
    for (const c of reel) {
      expect(lines.filter((l) => l.eid === c.eid).map((l) => l.otpk).sort()).toEqual(c.otks.slice(0, 2).map((k) => k.pk).sort());
    }
  });

  it('sorts the index in bounded memory when the eUICC data is not in EID order, and rolls data files', async () => {
    // Same chips, lines reversed; sort runs of 4 lines force spilling and a merge.
    const text = readFileSync(euiccData, 'utf8').split('\n').filter(Boolean);
    const shuffled = join(worldDir, 'reversed.ndjson');
    writeFileSync(shuffled, [text[0], ...text.slice(1).reverse()].join('\n') + '\n');
    const out = join(tmp('batch'), 'b');
    const r = await bindBatch({
      euiccData: shuffled,
      profile,
      dp: dp(),
      out,
      perEuicc: 3,
      sortLinesInMemory: 4,
      maxDataFileBytes: 5 * 2100,
    });
    expect(r.inputSorted).toBe(false);
    const dataFiles = r.files.filter((f) => f.name !== 'index.ndjson');
    expect(dataFiles.length).toBeGreaterThan(2);
    dataFiles.forEach((f, i) => {
      expect(f.name).toBe(`bpps-${String(i).padStart(4, '0')}.bin`);
      expect(f.bytes).toBeLessThanOrEqual(5 * 2100);
    });
    checkBatch(out, reel, dp().cert.raw, 3);
    expect(readdirSync(out).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('a second batch takes the keys the first one left (--first-otk)', async () => {
    const out = join(tmp('batch'), 'b');
    await bindBatch({ euiccData, profile, dp: dp(), out, perEuicc: 1, firstOtk: 2 });
    const lines = indexLines(out);
    for (const c of reel) expect(lines.find((l) => l.eid === c.eid)!.otpk).toBe(c.otks[2]!.pk);
  });

  it('refuses bad input with typed errors naming file and line, and leaves no batch behind', async () => {
    const base = tmp('bad');
    const out = join(base, 'b');
    await expectCode(bindBatch({ euiccData, profile, dp: dp(), out, perEuicc: 4 }), 'SMDPF_BAD_EUICC_LINE', /euicc-data\.ndjson line 2: EID \d{32} has 3 one-time keys/);

    const other = createEumWorld({ euiccs: 1, otks: 1, curve: 'brp' });
    const otherDir = tmp('other');
    writeEumWorld(other, otherDir);
    const foreign = loadSmdpfIdentity(defaultIdentityPaths(join(otherDir, 'euicc-data.ndjson')));
    await expectCode(bindBatch({ euiccData, profile, dp: foreign, out }), 'SMDPF_DP_NOT_TRUSTED');

    const lines = readFileSync(euiccData, 'utf8').split('\n').filter(Boolean);
    const truncated = join(base, 'truncated.ndjson');
    writeFileSync(truncated, lines.slice(0, 4).join('\n') + '\n');
    await expectCode(bindBatch({ euiccData: truncated, profile, dp: dp(), out }), 'SMDPF_EUICC_DATA_COUNT', /announces 6 chips, the file holds 3/);

    // CERT.EUICC of chip 1 on the line of chip 2: caught unless the check is off.
    const swapped = lines.slice();
    const l2 = JSON.parse(swapped[2]!) as EuiccDataChip;
    l2.certEuicc = (JSON.parse(swapped[1]!) as EuiccDataChip).certEuicc;
    swapped[2] = JSON.stringify(l2);
    const swappedPath = join(base, 'swapped.ndjson');
    writeFileSync(swappedPath, swapped.join('\n') + '\n');
    await expectCode(bindBatch({ euiccData: swappedPath, profile, dp: dp(), out }), 'SMDPF_BAD_EUICC_CERT', /swapped\.ndjson line 3: CERT\.EUICC names EID/);

    // The same chip twice: the same one-time key would load two profiles.
    const dup = [JSON.stringify({ ...(JSON.parse(lines[0]!) as EuiccDataHeader), count: 7 }), ...lines.slice(1), lines[3]!];
    const dupPath = join(base, 'dup.ndjson');
    writeFileSync(dupPath, dup.join('\n') + '\n');
    await expectCode(bindBatch({ euiccData: dupPath, profile, dp: dp(), out }), 'SMDPF_DUPLICATE_KEY');

    const badEid = lines.slice();
    badEid[5] = JSON.stringify({ ...(JSON.parse(lines[5]!) as EuiccDataChip), eid: '89049032000000000000000000000000' });
    const badEidPath = join(base, 'bad-eid.ndjson');
    writeFileSync(badEidPath, badEid.join('\n') + '\n');
    await expectCode(bindBatch({ euiccData: badEidPath, profile, dp: dp(), out, checkEuiccCertificates: false }), 'SMDPF_BAD_EUICC_LINE', /line 6: EID "89049032000000000000000000000000"/);

    await expectCode(bindBatch({ euiccData, profile, dp: dp(), out, iccidStart: '8949449999990000011' }), 'SMDPF_BAD_ICCID_START');
    expect(() => loadProfileSource(join(base, 'nope.der'))).toThrow(/cannot read profile package/);
    expect(readdirSync(base).filter((f) => f.startsWith('b'))).toEqual(['bad-eid.ndjson']);
  });
});

describe('ifpp sim eum / sim smdpf bind (child processes)', () => {
  const dir = tmp('sim-cli');

  it('runs the EUM tool then the SM-DPf tool as a user would', async () => {
    const e = await ifpp('sim', 'eum', '--euiccs', '3', '--otks', '2', '--curve', 'nist', '--out', join(dir, 'eum'));
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/made 3 chips with 2 one-time keys each/);
    const b = await ifpp('sim', 'smdpf', 'bind', '--euicc-data', join(dir, 'eum', 'euicc-data.ndjson'), '--profile', 'synthetic:800', '--per-euicc', '2', '--iccid-start', '8949449999990000012', '--out', join(dir, 'batch'));
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/bound 6 BPPs for 3 chips/);
    const reel = (await loadNdjson<ReelHeader, ReelChip>(join(dir, 'eum', 'reel.ndjson'), REEL_FORMAT, 'reel')).records;
    checkBatch(join(dir, 'batch'), reel, new Uint8Array(readFileSync(join(dir, 'eum', 'smdpf', 'cert-dppb.der'))), 2);
  });

  it('prints help, and usage errors exit 2 while input errors exit 1 with the code', async () => {
    expect((await ifpp('sim', 'eum', '--help')).stdout).toMatch(/Usage: ifpp sim eum/);
    expect((await ifpp('sim', 'smdpf', 'bind', '--help')).stdout).toMatch(/Usage: ifpp sim smdpf bind/);
    const u = await ifpp('sim', 'smdpf', 'bind', '--profile', 'synthetic');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--euicc-data is required/);
    const m = await ifpp('sim', 'smdpf', 'bind', '--euicc-data', join(dir, 'missing.ndjson'), '--profile', 'synthetic', '--out', join(dir, 'x'), '--dp-cert', join(dir, 'eum', 'smdpf', 'cert-dppb.der'), '--dp-key', join(dir, 'eum', 'smdpf', 'sk-dppb.pem'));
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/SIM_FILE_MISSING: .*missing\.ndjson does not exist/);
  });
});

describeShared('EUM tool with the SGP.26 SM-DPf', () => {
  it('issues the chips under a generated CI, trusts the SGP.26 CI for CERT.DPpb, and binds a TS.48 profile', async () => {
    const dir = tmp('sgp26');
    const world = createEumWorld({ euiccs: 2, otks: 1, curve: 'brp', sgp26: true });
    writeEumWorld(world, dir);
    const data = await loadNdjson<EuiccDataHeader, EuiccDataChip>(join(dir, 'euicc-data.ndjson'), EUICC_DATA_FORMAT, 'eUICC data');
    const reel = await loadNdjson<ReelHeader, ReelChip>(join(dir, 'reel.ndjson'), REEL_FORMAT, 'reel');
    const sgpCi = new Uint8Array(readFileSync(join(RSP_TESTDATA, 'sgp26', 'CERT_CI_ECDSA_BRP.der')));
    expect(bytesEqual(b64(data.header.ciCertificate), sgpCi)).toBe(true);
    expect(reel.header.ciCertificate).toBe(data.header.ciCertificate);
    expect(reel.header.eumCiCertificate).toBe(data.header.eumCiCertificate);
    const eumCi = parseCertificate(b64(data.header.eumCiCertificate!));
    const eum = parseCertificate(b64(data.header.eumCertificate));
    for (const c of data.records) {
      const r = verifyChain({ leaf: parseCertificate(b64(c.certEuicc)), intermediates: [eum], trustAnchors: [eumCi], at: new Date(), role: 'euicc' });
      expect(r.ok).toBe(true);
      const info = decodeEuiccInfo2(b64(c.euiccInfo2));
      expect(toHex(info.euiccCiPKIdListForVerification[0]!)).toBe(toHex(parseCertificate(sgpCi).extensions.subjectKeyIdentifier!));
      expect(toHex(info.euiccCiPKIdListForSigning[0]!)).toBe(toHex(eumCi.extensions.subjectKeyIdentifier!));
    }
    const id = loadSmdpfIdentity(defaultIdentityPaths(join(dir, 'euicc-data.ndjson')));
    expect(bytesEqual(id.cert.raw, new Uint8Array(readFileSync(join(RSP_TESTDATA, 'sgp26', 'CERT_S_SM_DPpb_ECDSA_BRP.der'))))).toBe(true);
    const ts48 = ts48Profiles()[0]!;
    writeFileSync(join(dir, 'profile.der'), ts48.der);
    const out = join(dir, 'batch');
    await bindBatch({ euiccData: join(dir, 'euicc-data.ndjson'), profile: loadProfileSource(join(dir, 'profile.der')), dp: id, out });
    checkBatch(out, reel.records, id.cert.raw, 1);
  });
});
