/**
 * The key-less CLI path, run as a user runs it (child processes): sim bind → bpp inspect →
 * sim unbind, with a generated test PKI and a synthetic profile (no ../shared needed).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { createCi, issueDpPb } from '../../src/sim/pki/issue.ts';
import { encodePrivateKeyPem } from '../../src/core/crypto/keys.ts';
import { generateKeyPair } from '../../src/core/crypto/ecdh.ts';
import { toHex } from '../../src/core/bytes.ts';
import { makeEid } from '../../src/core/rsp/eid.ts';
import { syntheticUpp } from '../../src/sim/profiles/upp.ts';

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

describe('ifpp bpp inspect / sim bind / sim unbind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-cli-'));
  const f = (n: string) => join(dir, n);
  const eid = makeEid('890490320000000000000000004242');
  const ot = generateKeyPair('brp');
  const upp = syntheticUpp('8949449999999990015', 3000);

  beforeAll(async () => {
    const ci = createCi({ curve: 'brp' });
    const dp = issueDpPb({ ci, curve: 'brp' });
    const otherCi = createCi({ curve: 'brp', name: 'Other CI' });
    writeFileSync(f('ci.der'), ci.der);
    writeFileSync(f('other-ci.der'), otherCi.der);
    writeFileSync(f('dp.der'), dp.der);
    writeFileSync(f('dp.pem'), encodePrivateKeyPem('brp', dp.secretKey!));
    writeFileSync(f('upp.der'), upp);
    const r = await ifpp('sim', 'bind', '--profile', f('upp.der'), '--eid', eid, '--euicc-otpk', toHex(ot.publicKey), '--dp-key', f('dp.pem'), '--iccid', '8949449999999990023', '--out', f('bpp.der'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('inspect passes all checks and shows the metadata', async () => {
    const r = await ifpp('bpp', 'inspect', f('bpp.der'), '--dp-cert', f('dp.der'), '--ci-cert', f('ci.der'), '--euicc-otpk', toHex(ot.publicKey), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.checks.map((c: { status: string }) => c.status)).toEqual(['pass', 'pass', 'pass']);
    expect(j.metadata.iccid).toBe('8949449999999990023');
    expect(j.bpp.largestSegment).toBeLessThanOrEqual(1020);
  });

  it('inspect reads hex input too, and fails on the wrong one-time key or CI', async () => {
    writeFileSync(f('bpp.hex'), toHex(readFileSync(f('bpp.der'))));
    const other = generateKeyPair('brp');
    const bad = await ifpp('bpp', 'inspect', f('bpp.hex'), '--dp-cert', f('dp.der'), '--euicc-otpk', toHex(other.publicKey));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL\s+signature/);
    const wrongCi = await ifpp('bpp', 'inspect', f('bpp.der'), '--dp-cert', f('dp.der'), '--ci-cert', f('other-ci.der'));
    expect(wrongCi.code).toBe(1);
    expect(wrongCi.stdout).toMatch(/FAIL\s+chain\s+X509_UNKNOWN_ISSUER/);
  });

  it('inspect reports a truncated BPP as a structure failure naming the place', async () => {
    writeFileSync(f('cut.der'), readFileSync(f('bpp.der')).subarray(0, 500));
    const r = await ifpp('bpp', 'inspect', f('cut.der'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+structure.*offset \d+/);
  });

  it('unbind recovers the personalised profile and prints its SHA-256', async () => {
    const r = await ifpp('sim', 'unbind', '--bpp', f('bpp.der'), '--eid', eid, '--ot-sk', toHex(ot.secretKey), '--dp-cert', f('dp.der'), '--upp-out', f('out.der'), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.result).toBe('ok');
    expect(j.uppSha256).toBe(createHash('sha256').update(readFileSync(f('out.der'))).digest('hex'));
    expect(j.iccid).toBe('8949449999999990023');
  });

  it('unbind names the failure kind: mac for the wrong key, signature for the wrong signer, structure for truncation', async () => {
    const wrong = generateKeyPair('brp');
    const mac = await ifpp('sim', 'unbind', '--bpp', f('bpp.der'), '--eid', eid, '--ot-sk', toHex(wrong.secretKey), '--euicc-otpk', toHex(ot.publicKey), '--dp-cert', f('dp.der'));
    expect(mac.code).toBe(1);
    expect(mac.stdout).toMatch(/^failure: mac \(bppCommandId configureISDP, errorReason scp03tSecurityError\)/);
    const sig = await ifpp('sim', 'unbind', '--bpp', f('bpp.der'), '--eid', eid, '--ot-sk', toHex(wrong.secretKey), '--dp-cert', f('dp.der'));
    expect(sig.stdout).toMatch(/^failure: signature/);
    const cut = await ifpp('sim', 'unbind', '--bpp', f('cut.der'), '--eid', eid, '--ot-sk', toHex(ot.secretKey), '--dp-cert', f('dp.der'));
    expect(cut.stdout).toMatch(/^failure: structure/);
  });

  it('gives usage errors with exit 2 and names missing files', async () => {
    const r = await ifpp('sim', 'unbind', '--bpp', f('bpp.der'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--eid is required/);
    const nf = await ifpp('bpp', 'inspect', f('nope.der'));
    expect(nf.code).toBe(1);
    expect(nf.stderr).toMatch(/cannot read BPP ".*nope.der" \(ENOENT\)/);
  });
});
