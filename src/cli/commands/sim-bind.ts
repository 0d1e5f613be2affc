import { readFileSync, writeFileSync } from 'node:fs';
import { bindProfile } from '../../binding/bind.ts';
import { parsePrivateKeyPem } from '../../core/crypto/keys.ts';
import { toHex } from '../../core/bytes.ts';
import { parseEid } from '../../core/rsp/eid.ts';
import { parseIccid } from '../../core/rsp/iccid.ts';
import { summarizeUpp, withIccid } from '../../sim/profiles/upp.ts';
import { CliUsageError, parseOptions, readUserFile } from '../command.ts';
import { hexOption } from '../inputs.ts';

export const help = `Usage: ifpp sim bind --profile UPP.der --eid EID --euicc-otpk HEX --dp-key SK.pem --out BPP.der
                     [--iccid N] [--provider S] [--name S] [--rsk] [--transaction-id HEX]

Simulated SM-DPf: binds one profile package (SAIP DER) to one eUICC one-time public key and
writes the Bound Profile Package (DER). A fresh ephemeral SM-DPf key is made for every BPP.

  --profile F        the unprotected profile package (SAIP DER, e.g. a TS.48 test profile)
  --eid EID          the target chip's EID (32 digits)
  --euicc-otpk HEX   the chip's one-time public key (65-byte uncompressed point)
  --dp-key F         SK.DPpb (PEM, SEC1 or PKCS#8) that signs BF23
  --iccid N          personalise the profile with this ICCID (default: the profile's own)
  --provider S       service provider name in the metadata (default "ifpp test operator")
  --name S           profile name in the metadata (default: the profile's type or "test profile")
  --rsk              use ReplaceSessionKeys (A2) with fresh PPKs
  --out F            where to write the BPP`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    profile: { type: 'string' },
    eid: { type: 'string' },
    'euicc-otpk': { type: 'string' },
    'dp-key': { type: 'string' },
    iccid: { type: 'string' },
    provider: { type: 'string' },
    name: { type: 'string' },
    rsk: { type: 'boolean' },
    'transaction-id': { type: 'string' },
    out: { type: 'string' },
  });
  for (const req of ['profile', 'eid', 'euicc-otpk', 'dp-key', 'out'] as const) if (!values[req]) throw new CliUsageError(`--${req} is required`);
  let upp = readUserFile(values.profile!, 'profile package');
  if (values.iccid) upp = withIccid(upp, parseIccid(values.iccid));
  const summary = summarizeUpp(upp);
  const dp = parsePrivateKeyPem(readFileSync(values['dp-key']!, 'utf8'));
  const tid = hexOption(values['transaction-id'], 'transaction-id');
  const r = bindProfile({
    upp,
    eid: parseEid(values.eid!),
    euiccOtpk: hexOption(values['euicc-otpk'], 'euicc-otpk', 65)!,
    dpPb: dp,
    metadata: {
      iccid: summary.iccid,
      serviceProviderName: values.provider ?? 'ifpp test operator',
      profileName: values.name ?? summary.profileType ?? 'test profile',
    },
    replaceSessionKeys: values.rsk ?? false,
    ...(tid ? { transactionId: tid } : {}),
  });
  writeFileSync(values.out!, r.bpp);
  process.stdout.write(`wrote ${values.out} (${r.bpp.length} bytes), transactionId ${toHex(r.transactionId)}, ICCID ${summary.iccid}\n`);
  return 0;
}
