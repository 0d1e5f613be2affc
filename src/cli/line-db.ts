/** The `--db URL` option of the `ifpp line` commands (or IFPP_DB), opened with its schema checked. */
import { openDb, type Db } from '../line/db.ts';
import { requireSchema } from '../line/schema.ts';
import { CliUsageError } from './command.ts';

export const DB_OPTION = { db: { type: 'string' } } as const;

export const DB_HELP = `  --db URL   the line database, postgres://user@host:5432/dbname (default: $IFPP_DB);
             the password from PGPASSWORD or ~/.pgpass keeps it off the command line`;

export function dbUrl(value: string | undefined): string {
  const url = value ?? process.env.IFPP_DB;
  if (!url) throw new CliUsageError('name the line database with --db postgres://… (or set IFPP_DB)');
  return url;
}

/** Opens the database, checks its schema version, runs `fn`, and always closes the pool. */
export async function withLineDb<T>(value: string | undefined, fn: (db: Db, url: string) => Promise<T>, opts: { checkSchema?: boolean } = {}): Promise<T> {
  const url = dbUrl(value);
  const db = openDb(url);
  try {
    if (opts.checkSchema !== false) await requireSchema(db, url);
    return await fn(db, url);
  } finally {
    await db.end().catch(() => undefined);
  }
}
