import { basename } from 'node:path';
import { importEuiccDataToLine } from '../../line/import.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line euicc import --db URL <euicc-data.ndjson> [--name N]

Imports an EUM's eUICC data (CERT.EUICC per EID, docs/formats.md) into the line database with
the same checks as \`ifpp euicc import\`, in one transaction. The name defaults to the file name.

Options:
${DB_HELP}
  --name N   name of this data set (letters, digits, . _ -)`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { ...DB_OPTION, name: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new CliUsageError('give one eUICC data file');
  const file = positionals[0]!;
  const name = values.name ?? basename(file).replace(/\.ndjson$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
  const r = await withLineDb(values.db, (db, url) => importEuiccDataToLine(db, url, file, name));
  process.stdout.write(`eUICC data "${r.name}": ${r.count} chips imported${r.skipped.length ? `, ${r.skipped.length} lines skipped` : ''}\n`);
  for (const s of r.skipped.slice(0, 20)) process.stdout.write(`  line ${s.line}: ${s.reason}\n`);
  return r.skipped.length ? 1 : 0;
}
