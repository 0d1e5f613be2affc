/**
 * `ifpp sim smdpf bind`: the simulated SM-DPf. Binds a profile to the chips' one-time keys and
 * writes an Esbpp batch (manifest, data files, EID-sorted index) the station imports.
 */
import { relative } from 'node:path';
import { bindBatch } from '../../sim/smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../../sim/smdpf/identity.ts';
import { loadProfileSource } from '../../sim/smdpf/profile-source.ts';
import { progressPrinter } from '../../sim/eum/progress.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp sim smdpf bind --euicc-data F --profile UPP.der|synthetic[:BYTES] --out BATCH
                           [--per-euicc M] [--first-otk I] [--iccid-start N]
                           [--dp-cert F --dp-key F] [--provider S] [--name S] [--rsk]
                           [--no-cert-check] [--batch-id ID]

Simulated SM-DPf: binds the profile to M one-time keys of every chip in the eUICC data (a
fresh ephemeral key and transactionId per BPP) and writes an Esbpp batch folder: manifest.json,
bpps-NNNN.bin data files and index.ndjson sorted by EID then one-time key (docs/formats.md).

  --euicc-data F     eUICC data (euicc-data.ndjson from \`ifpp sim eum\` or an EUM)
  --profile P        SAIP DER profile package, or synthetic[:BYTES] for a generated test profile
                     (default filler 11000 bytes, about a TS.48 profile)
  --out BATCH        the batch folder to create (must not exist or be empty)
  --per-euicc M      BPPs per chip, each bound to a different one-time key (default 1)
  --first-otk I      start at the chip's one-time key number I (default 0; a second batch for
                     the same chips takes the keys the first one left)
  --iccid-start N    give the BPPs consecutive ICCIDs from N (18 digits, or 19 with a valid
                     Luhn digit), written into the metadata and the profile itself
  --dp-cert F        CERT.DPpb (DER or PEM); default smdpf/cert-dppb.der beside the eUICC data
  --dp-key F         SK.DPpb (PEM); default smdpf/sk-dppb.pem beside the eUICC data
  --provider S       service provider name in the metadata (default "IFPP Test Operator")
  --name S           profile name in the metadata (default: the profile's type)
  --rsk              use ReplaceSessionKeys (A2) with fresh PPKs
  --no-cert-check    do not check CERT.EUM / CERT.EUICC of the eUICC data
  --batch-id ID      batch id (default a random UUID)`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    'euicc-data': { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
    'per-euicc': { type: 'string' },
    'first-otk': { type: 'string' },
    'iccid-start': { type: 'string' },
    'dp-cert': { type: 'string' },
    'dp-key': { type: 'string' },
    provider: { type: 'string' },
    name: { type: 'string' },
    rsk: { type: 'boolean' },
    'no-cert-check': { type: 'boolean' },
    'batch-id': { type: 'string' },
  });
  for (const req of ['euicc-data', 'profile', 'out'] as const) if (!values[req]) throw new CliUsageError(`--${req} is required`);
  if (!!values['dp-cert'] !== !!values['dp-key']) throw new CliUsageError('give --dp-cert and --dp-key together (or neither, to use the smdpf/ folder beside the eUICC data)');
  const count = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v)) throw new CliUsageError(`--${name} must be a whole number, got "${v}"`);
    return Number(v);
  };
  const euiccData = values['euicc-data']!;
  const paths = values['dp-cert'] ? { cert: values['dp-cert'], key: values['dp-key']! } : defaultIdentityPaths(euiccData);
  const dp = loadSmdpfIdentity(paths);
  const profile = loadProfileSource(values.profile!);
  const progress = progressPrinter('BPPs');
  const r = await bindBatch({
    euiccData,
    profile,
    dp,
    out: values.out!,
    perEuicc: count(values['per-euicc'], 'per-euicc', 1),
    firstOtk: count(values['first-otk'], 'first-otk', 0),
    ...(values['iccid-start'] !== undefined ? { iccidStart: values['iccid-start'] } : {}),
    ...(values.provider !== undefined ? { serviceProviderName: values.provider } : {}),
    ...(values.name !== undefined ? { profileName: values.name } : {}),
    replaceSessionKeys: values.rsk ?? false,
    checkEuiccCertificates: !(values['no-cert-check'] ?? false),
    ...(values['batch-id'] !== undefined ? { batchId: values['batch-id'] } : {}),
    onProgress: progress.update,
  });
  progress.end();
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const say = (s: string) => process.stdout.write(s + '\n');
  const bytes = r.files.filter((f) => f.name !== 'index.ndjson').reduce((n, f) => n + f.bytes, 0);
  say(`bound ${r.count} BPPs for ${r.chips} chips in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.bppsPerSecond.toFixed(0)} BPPs/s)`);
  say(`  batch         ${r.batchId} in ${rel(r.dir)}/`);
  say(`  SM-DPf        ${dp.name}${dp.oid ? ` (${dp.oid})` : ''}, signed with ${rel(paths.cert)}`);
  say(`  profile       ${profile.label} (${profile.summary.bytes} bytes${values['iccid-start'] ? `, ICCIDs from ${values['iccid-start']}` : `, ICCID ${profile.summary.iccid}`})`);
  say(`  data          ${r.files.length - 1} file(s), ${bytes} bytes; index sorted${r.inputSorted ? '' : ' (input was not in EID order)'}`);
  return 0;
}
