import { writeFileSync } from 'node:fs';
import { parseCurveName, type CurveName } from '../../core/crypto/curves.ts';
import { isValidPublicKey } from '../../core/crypto/ecdh.ts';
import { parseEid } from '../../core/rsp/eid.ts';
import { toHex } from '../../core/bytes.ts';
import { unbindProfile, UnbindError } from '../../binding/unbind.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { hexOption, readBinaryObject, readCertificateFile } from '../inputs.ts';

export const help = `Usage: ifpp sim unbind --bpp F --eid EID --ot-sk HEX --dp-cert F [--euicc-otpk HEX] [--curve nist|brp] [--upp-out F] [--json]

Does what an eUICC does with a BPP (simulator tool; the station never decrypts): verifies the
BF23 signature with CERT.DPpb, derives the session keys from the one-time private key and the
EID, checks every MAC, decrypts, and prints "ok" with the SHA-256 of the recovered profile
package (UPP), or the failure kind (structure, signature, mac, content, unsupported) with the
bppCommandId and errorReason a chip would report.

  --bpp F          the BPP (DER, hex or base64)
  --eid EID        the chip's EID (32 digits)
  --ot-sk HEX      the one-time private key otSK.EUICC (32 bytes)
  --dp-cert F      CERT.DPpb (DER or PEM)
  --euicc-otpk HEX the one-time public key the BPP was bound to, if it is not the one of --ot-sk
  --curve C        curve of the one-time key (default: the curve of --euicc-otpk, else of --dp-cert)
  --upp-out F      write the recovered UPP (clear-text profile!) to F

Exit status: 0 ok, 1 the BPP failed, 2 bad usage.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    bpp: { type: 'string' },
    eid: { type: 'string' },
    'ot-sk': { type: 'string' },
    'dp-cert': { type: 'string' },
    'euicc-otpk': { type: 'string' },
    curve: { type: 'string' },
    'upp-out': { type: 'string' },
    json: { type: 'boolean' },
  });
  for (const req of ['bpp', 'eid', 'ot-sk', 'dp-cert'] as const) if (!values[req]) throw new CliUsageError(`--${req} is required`);
  const bpp = readBinaryObject(values.bpp!, 'BPP');
  const eid = parseEid(values.eid!);
  const otSk = hexOption(values['ot-sk'], 'ot-sk', 32)!;
  const dp = readCertificateFile(values['dp-cert']!, 'CERT.DPpb')[0]!;
  const euiccOtpk = hexOption(values['euicc-otpk'], 'euicc-otpk', 65);
  let curve: CurveName;
  if (values.curve) curve = parseCurveName(values.curve);
  else if (euiccOtpk) curve = isValidPublicKey('nist', euiccOtpk) ? 'nist' : 'brp';
  else curve = dp.publicKey.curve;
  try {
    const r = unbindProfile(bpp, {
      eid,
      otSecretKey: otSk,
      otCurve: curve,
      dpPbPublicKey: dp.publicKey.point,
      dpPbCurve: dp.publicKey.curve,
      ...(euiccOtpk ? { euiccOtpk } : {}),
    });
    if (values['upp-out']) writeFileSync(values['upp-out'], r.upp);
    const summary = {
      result: 'ok' as const,
      uppSha256: r.uppSha256,
      uppBytes: r.upp.length,
      transactionId: toHex(r.transactionId),
      iccid: r.metadata.iccid,
      serviceProviderName: r.metadata.serviceProviderName,
      profileName: r.metadata.profileName,
      replaceSessionKeys: r.replaceSessionKeys,
      segments: r.segments,
    };
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else
      process.stdout.write(
        `ok\nUPP sha256 ${r.uppSha256} (${r.upp.length} bytes)\nICCID ${r.metadata.iccid}, "${r.metadata.profileName}" from "${r.metadata.serviceProviderName}"\n` +
          `segments: ${r.segments.seq87}×87 ${r.segments.seq88}×88 ${r.segments.secondSeq87}×87(A2) ${r.segments.seq86}×86${r.replaceSessionKeys ? ' (ReplaceSessionKeys)' : ''}\n`,
      );
    return 0;
  } catch (e) {
    if (!(e instanceof UnbindError)) throw e;
    const f = { result: 'failure' as const, kind: e.kind, bppCommandId: e.bppCommandId, errorReason: e.errorReason, message: e.message };
    if (values.json) process.stdout.write(JSON.stringify(f, null, 2) + '\n');
    else process.stdout.write(`failure: ${e.kind} (bppCommandId ${e.bppCommandId}, errorReason ${e.errorReason})\n${e.message}\n`);
    return 1;
  }
}
