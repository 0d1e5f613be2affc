import { basename } from 'node:path';
import { requireConfig } from '../../station/config/load.ts';
import { importEuiccData } from '../../station/euicc-data/euicc-store.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp euicc import --config F <euicc-data.ndjson> [--name N] [--partial]

Imports the EUM's eUICC data (docs/formats.md, ifpp-euicc-data/1) into the station's store, so
the eUICC-signed installation results can be verified with each chip's CERT.EUICC.
The name defaults to the file name. A chip already in the store keeps its certificate: a line
giving it another CERT.EUICC is refused (EUICC_DATA_CERT_CONFLICT). A file whose EUM or CI
certificate differs from all data already imported is accepted with a warning.

All or nothing: when any line is refused (a bad EID, a truncated file, a certificate conflict)
nothing is imported (EUICC_DATA_REJECTED, exit 1) and the store is left as it was.
  --partial   import the good lines anyway and list the refused ones (exit 1)`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { config: { type: 'string' }, name: { type: 'string' }, partial: { type: 'boolean' } }, true);
  if (!values.config) throw new CliUsageError('--config is required');
  if (positionals.length !== 1) throw new CliUsageError('give one eUICC data file');
  const config = await requireConfig(values.config);
  const file = positionals[0]!;
  const name = values.name ?? basename(file).replace(/\.ndjson$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
  const r = await importEuiccData(config.store, file, name, { allOrNothing: values.partial !== true });
  process.stdout.write(`eUICC data "${r.name}": ${r.count} chips imported${r.skipped.length ? `, ${r.skipped.length} lines skipped` : ''}\n`);
  for (const w of r.warnings) process.stdout.write(`  warning: ${w}\n`);
  for (const s of r.skipped.slice(0, 20)) process.stdout.write(`  ${file} line ${s.line}: ${s.code} ${s.reason}\n`);
  return r.skipped.length ? 1 : 0;
}
