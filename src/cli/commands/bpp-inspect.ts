import { inspectBpp, type BppInspection } from '../../core/bpp/inspect.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { hexOption, readBinaryObject, readCertificateFile } from '../inputs.ts';

export const help = `Usage: ifpp bpp inspect <bpp.der> [--dp-cert F] [--ci-cert F ...] [--euicc-otpk HEX] [--at ISO-DATE] [--json]

Shows what the station may know of a Bound Profile Package without any key: transactionId,
hostId, the SM-DPf one-time key, segment counts and sizes, the metadata (ICCID, names), and
checks the structure, the BF23 signature (needs --dp-cert and the eUICC one-time key) and the
CERT.DPpb chain (needs --dp-cert and --ci-cert). The BPP may be DER, hex or base64.

Exit status: 0 when every check that could run passed, 1 when one failed, 2 on bad usage.`;

function printHuman(path: string, r: BppInspection): void {
  const out: string[] = [`BPP ${path} (${r.bytes} bytes)`];
  if (r.bpp) {
    const b = r.bpp;
    out.push(
      `  transactionId   ${b.transactionId}`,
      `  remoteOpId      ${b.remoteOpId}${b.remoteOpId === 1 ? ' (installBoundProfilePackage)' : ''}`,
      `  hostId          ${b.hostId}`,
      `  key type/len    ${b.keyType.toString(16)} / ${b.keyLen.toString(16)}`,
      `  smdpOtpk        ${b.smdpOtpk}`,
      `  segments:`,
      ...b.segments.map((s) => `    ${s.tag.padEnd(6)} ${String(s.count).padStart(3)} × ${String(s.bytes).padStart(6)} bytes  ${s.name}`),
      `  largest segment ${b.largestSegment} bytes${b.largestSegment > 1020 ? ' (over 1020: tolerated when reading)' : ''}`,
    );
  }
  if (r.metadata) {
    out.push(`  ICCID           ${r.metadata.iccid}`, `  provider        ${r.metadata.serviceProviderName}`, `  profile name    ${r.metadata.profileName}`);
  } else if (r.metadataError) out.push(`  metadata        unreadable: ${r.metadataError}`);
  out.push('checks:');
  for (const c of r.checks) out.push(`  ${c.status.toUpperCase().padEnd(7)} ${c.name.padEnd(9)} ${c.reason}`);
  out.push(r.ok ? 'result: ok' : 'result: FAILED');
  process.stdout.write(out.join('\n') + '\n');
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    {
      'dp-cert': { type: 'string' },
      'ci-cert': { type: 'string', multiple: true },
      'euicc-otpk': { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length !== 1) throw new CliUsageError('give exactly one BPP file');
  const path = positionals[0]!;
  const bpp = readBinaryObject(path, 'BPP');
  const dpCerts = values['dp-cert'] ? readCertificateFile(values['dp-cert'], 'CERT.DPpb') : undefined;
  const ciCerts = (values['ci-cert'] ?? []).flatMap((f) => readCertificateFile(f, 'CI certificate'));
  const at = values.at ? new Date(values.at) : undefined;
  if (at && Number.isNaN(at.getTime())) throw new CliUsageError(`--at "${values.at}" is not a date (use e.g. 2026-01-31 or 2026-01-31T12:00:00Z)`);
  const r = inspectBpp(bpp, {
    ...(dpCerts ? { dpCert: dpCerts[0]! } : {}),
    ciCerts,
    ...(values['euicc-otpk'] ? { euiccOtpk: hexOption(values['euicc-otpk'], 'euicc-otpk', 65)! } : {}),
    ...(at ? { at } : {}),
  });
  if (values.json) process.stdout.write(JSON.stringify({ file: path, ...r }, null, 2) + '\n');
  else printHuman(path, r);
  return r.ok ? 0 : 1;
}
