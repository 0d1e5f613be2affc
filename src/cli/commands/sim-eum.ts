/**
 * `ifpp sim eum`: the simulated EUM. Makes a test PKI and N personalised chips, and writes the
 * public eUICC data (Esed2), the simulator-only reel, and the simulated SM-DPf's identity.
 */
import { relative } from 'node:path';
import { parseCurveName } from '../../core/crypto/curves.ts';
import { InputError } from '../../core/errors.ts';
import { createEumWorld, DEFAULT_EUM_NAME } from '../../sim/eum/eum-tool.ts';
import { progressPrinter } from '../../sim/eum/progress.ts';
import { writeEumWorld } from '../../sim/eum/write-eum.ts';
import { TEST_EID_PREFIX } from '../../sim/pki/issue.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp sim eum --out DIR [--euiccs N] [--otks K] [--curve nist|brp] [--sgp26]
                    [--eid-prefix DIGITS] [--first-serial N] [--eum-name S] [--force]

Simulated EUM: creates a test PKI (CI, EUM certificate, and a CERT.DPpb for the simulated
SM-DPf under the same CI) and N chips, each with a valid EID (mod-97 check digits), its
CERT.EUICC and K one-time key pairs. Writes to DIR:

  euicc-data.ndjson   public eUICC data (Esed2): what a real EUM ships to the device maker
  reel.ndjson         the chips' secrets, for the card simulator only (never for the station)
  pki/                cert-ci.der, cert-eum.der
  smdpf/              cert-dppb.der, sk-dppb.pem, cert-ci.der (for \`ifpp sim smdpf bind\`)

  --euiccs N          number of chips (default 10)
  --otks K            one-time key pairs per chip (default 3)
  --curve C           nist (P-256, default) or brp (brainpoolP256r1)
  --sgp26             use the GSMA SGP.26 test CI and CERT.DPpb from ../shared for the SM-DPf;
                      the EUM chain is then issued under a generated CI (the SGP.26 CI key is
                      not public), so the data carries both CIs (see docs/formats.md)
  --eid-prefix D      leading EID digits, the EUM's EIN (default ${TEST_EID_PREFIX}, SGP.26 test EUM)
  --first-serial N    individual number of the first chip (default 1); EIDs count up from it
  --eum-name S        EUM organisation name (default "${DEFAULT_EUM_NAME}")
  --force             replace euicc-data.ndjson and reel.ndjson already in DIR

Format details: docs/formats.md. Usage walk-through: docs/sim-tools.md.`;

function intOption(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new CliUsageError(`--${name} must be a whole number, got "${v}"`);
  return Number(v);
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    out: { type: 'string' },
    euiccs: { type: 'string' },
    otks: { type: 'string' },
    curve: { type: 'string' },
    sgp26: { type: 'boolean' },
    'eid-prefix': { type: 'string' },
    'first-serial': { type: 'string' },
    'eum-name': { type: 'string' },
    force: { type: 'boolean' },
  });
  if (!values.out) throw new CliUsageError('--out is required');
  const firstSerial = values['first-serial'];
  if (firstSerial !== undefined && !/^\d{1,29}$/.test(firstSerial)) throw new InputError('BAD_OPTION', `--first-serial must be a whole number, got "${firstSerial}"`);
  const world = createEumWorld({
    euiccs: intOption(values.euiccs, 'euiccs', 10),
    otks: intOption(values.otks, 'otks', 3),
    curve: parseCurveName(values.curve ?? 'nist'),
    sgp26: values.sgp26 ?? false,
    ...(values['eid-prefix'] !== undefined ? { eidPrefix: values['eid-prefix'] } : {}),
    ...(firstSerial !== undefined ? { firstSerial: BigInt(firstSerial) } : {}),
    ...(values['eum-name'] !== undefined ? { eumName: values['eum-name'] } : {}),
  });
  const progress = progressPrinter('chips');
  const w = writeEumWorld(world, values.out, { force: values.force ?? false, onProgress: progress.update });
  progress.end();
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const say = (s: string) => process.stdout.write(s + '\n');
  say(`made ${w.chips} chips with ${world.otks} one-time keys each (${world.curve}) in ${(w.elapsedMs / 1000).toFixed(1)} s`);
  say(`  EIDs          ${world.eidAt(0)} .. ${world.eidAt(world.count - 1)}`);
  say(`  CI (DPpb)     ${world.ci.subject.text}`);
  if (world.eumCi !== world.ci) say(`  CI (EUM)      ${world.eumCi.subject.text}`);
  say(`  EUM           ${world.eum.subject.text}`);
  say(`  SM-DPf        ${world.smdpf.source === 'sgp26' ? 'GSMA SGP.26 test DPpb' : 'generated DPpb'} in ${rel(w.smdpfDir)}/`);
  say(`  eUICC data    ${rel(w.euiccData)}   (public)`);
  say(`  reel          ${rel(w.reel)}   (chip secrets: card simulator only)`);
  say(`next: ifpp sim smdpf bind --euicc-data ${rel(w.euiccData)} --profile synthetic --out <batch folder>`);
  return 0;
}
