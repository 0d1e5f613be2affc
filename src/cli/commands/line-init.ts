import { migrate } from '../../line/schema.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line init --db URL

Creates or updates the line database's schema (schema "ifpp"): versioned migrations, each
applied once, under a lock so that two runs at once are safe. Running it again changes
nothing. The database itself must exist (createdb). See docs/line-guide.md.

Options:
${DB_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, DB_OPTION, true);
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  const r = await withLineDb(values.db, (db, url) => migrate(db, url), { checkSchema: false });
  process.stdout.write(r.applied.length ? `schema at version ${r.version} (applied ${r.applied.join(', ')})\n` : `schema already at version ${r.version}: nothing to do\n`);
  return 0;
}
