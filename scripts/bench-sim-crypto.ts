/**
 * CPU time of the simulators' AES work per unit: the BSP segments of one BPP protected (as the
 * SM-DPf does) and verified and decrypted (as the simulated eUICC does), with @noble/ciphers
 * (the reference, what the simulators used before) and with node:crypto (src/binding/aes.ts,
 * what they use now), alternated round by round in one process; then a whole bind and unbind
 * of one BPP (ECDH, signatures, TLV and the AES above) for scale.
 *
 *   npm run bench:sim-crypto -- [--bytes 11000] [--units 200] [--rounds 4]
 *
 * CPU time (process.cpuUsage), not wall time: the machine is shared. A measurement, not a test.
 */
import { parseArgs } from 'node:util';
import { cbc, cmac, ecb } from '@noble/ciphers/aes.js';
import { AesCmac, aesCbcDecrypt, aesCbcEncrypt, aesEcbEncrypt } from '../src/binding/aes.ts';
import { bindProfile } from '../src/binding/bind.ts';
import { unbindProfile } from '../src/binding/unbind.ts';
import { concatBytes, toHex, uintBytes } from '../src/core/bytes.ts';
import { generateKeyPair } from '../src/core/crypto/ecdh.ts';
import { makeEid } from '../src/core/rsp/eid.ts';
import { encodeHeader } from '../src/core/tlv/ber-tlv.ts';
import { syntheticUpp } from '../src/sim/profiles/upp.ts';

const { values: args } = parseArgs({ options: { bytes: { type: 'string', default: '11000' }, units: { type: 'string', default: '200' }, rounds: { type: 'string', default: '4' } } });
const BYTES = Number(args.bytes);
const UNITS = Number(args.units);
const ROUNDS = Number(args.rounds);

interface Aes {
  cbcEnc(k: Uint8Array, iv: Uint8Array, d: Uint8Array): Uint8Array;
  cbcDec(k: Uint8Array, iv: Uint8Array, d: Uint8Array): Uint8Array;
  ecbEnc(k: Uint8Array, d: Uint8Array): Uint8Array;
  cmac(k: Uint8Array): (m: Uint8Array) => Uint8Array;
}
const noble: Aes = {
  cbcEnc: (k, iv, d) => cbc(k, iv, { disablePadding: true }).encrypt(d),
  cbcDec: (k, iv, d) => cbc(k, iv, { disablePadding: true }).decrypt(d),
  ecbEnc: (k, d) => ecb(k, { disablePadding: true }).encrypt(d),
  cmac: (k) => (m) => cmac(m, k),
};
const node: Aes = { cbcEnc: aesCbcEncrypt, cbcDec: aesCbcDecrypt, ecbEnc: aesEcbEncrypt, cmac: (k) => (m) => new AesCmac(k).mac(m) };

const key = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (i * 7 + n) & 0xff);
const sEnc = key(1);
const sMac = key(2);
const plaintext = Uint8Array.from({ length: BYTES }, (_, i) => (i * 31) & 0xff);

/** One unit's BSP AES work: protect every 1007-byte chunk, then verify and decrypt it. Returns the last MAC. */
function unit(a: Aes): string {
  const mac = a.cmac(sMac);
  const verify = a.cmac(sMac);
  let mcv: Uint8Array = key(3);
  let rmcv = mcv;
  for (let at = 0, counter = 1; at < plaintext.length; at += 1007, counter++) {
    const chunk = plaintext.subarray(at, at + 1007);
    const padded = new Uint8Array((Math.floor(chunk.length / 16) + 1) * 16);
    padded.set(chunk);
    padded[chunk.length] = 0x80;
    const ct = a.cbcEnc(sEnc, a.ecbEnc(sEnc, uintBytes(counter, 16)), padded);
    const header = encodeHeader(0x86, ct.length + 8);
    mcv = mac(concatBytes(mcv, header, ct));
    rmcv = verify(concatBytes(rmcv, header, ct));
    a.cbcDec(sEnc, a.ecbEnc(sEnc, uintBytes(counter, 16)), ct);
  }
  return toHex(rmcv);
}

function cpuMs(f: () => void, n: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

if (unit(noble) !== unit(node)) throw new Error('node:crypto and @noble/ciphers disagree');
for (let i = 0; i < 20; i++) unit(noble), unit(node); // warm-up
const results: Record<'noble' | 'node', number[]> = { noble: [], node: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.noble.push(cpuMs(() => unit(noble), UNITS));
  results.node.push(cpuMs(() => unit(node), UNITS));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const eid = makeEid('890490321234512345123456789012');
const dp = { curve: 'nist' as const, ...generateKeyPair('nist') };
const upp = syntheticUpp('8949449999999990023', BYTES);
const ots = Array.from({ length: 40 }, () => generateKeyPair('nist'));
let k = 0;
let last: { bpp: Uint8Array; ot: (typeof ots)[number] } | undefined;
const bind = cpuMs(() => {
  const ot = ots[k++ % ots.length]!;
  last = { bpp: bindProfile({ upp, eid, euiccOtpk: ot.publicKey, dpPb: dp, metadata: { iccid: '8949449999999990023', serviceProviderName: 'bench', profileName: 'bench' } }).bpp, ot };
}, 40);
const { bpp, ot } = last!;
const unbind = cpuMs(() => unbindProfile(bpp, { eid, otSecretKey: ot.secretKey, otCurve: 'nist', dpPbPublicKey: dp.publicKey, dpPbCurve: 'nist' }), 40);

const f = (x: number) => x.toFixed(2);
process.stdout.write(`profile ${BYTES} bytes (BPP ${bpp.length} bytes), ${UNITS} units × ${ROUNDS} rounds, CPU ms per unit (median of rounds)
| BSP AES work of one BPP (protect + verify/decrypt) | @noble/ciphers | node:crypto | ratio |
| --- | --- | --- | --- |
| per unit | ${f(median(results.noble))} | ${f(median(results.node))} | ${(median(results.node) / median(results.noble)).toFixed(2)} |
rounds: noble ${results.noble.map(f).join(' ')}; node ${results.node.map(f).join(' ')}
whole BPP with node:crypto AES (NIST P-256): bind (SM-DPf) ${f(bind)} ms, unbind (eUICC) ${f(unbind)} ms
`);
