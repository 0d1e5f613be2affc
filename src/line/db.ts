/**
 * Connecting to the line's PostgreSQL database, with errors that say what to check. The URL is
 * a libpq-style connection URL (postgres://user@host:port/db; a unix socket folder as the
 * percent-encoded host, or ?host=/run/postgresql).
 */
import pg from 'pg';
import { LineError } from './errors.ts';

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;

/** SQLSTATE classes and Node error codes that mean "the server is not there (now)". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

export function isUnreachable(e: unknown): boolean {
  for (let x = e, d = 0; x && d < 6; x = (x as { cause?: unknown }).cause, d++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
    if (x instanceof LineError && x.code === 'LINE_DB_UNREACHABLE') return true;
    if (x instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(x.message)) return true;
  }
  return false;
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export function openDb(url: string, opts: { max?: number; connectTimeoutMs?: number } = {}): Db {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new LineError('LINE_DB_URL', `"${redactUrl(url)}" is not a PostgreSQL URL`, { hint: 'give --db postgres://user@host:5432/dbname (or set IFPP_DB)' });
  }
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000, idleTimeoutMillis: 10_000 });
  // An idle client whose server went away emits 'error' on the pool; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}

/** Wraps a connection failure in a coded error naming the database; other errors pass through. */
export function dbError(e: unknown, url: string): unknown {
  if (isUnreachable(e)) {
    return new LineError('LINE_DB_UNREACHABLE', `cannot reach the line database ${redactUrl(url)}: ${(e as Error).message}`, {
      hint: 'check that PostgreSQL is running and the URL (host, port or socket folder, database name) is right',
      cause: e,
    });
  }
  const code = (e as { code?: unknown }).code;
  if (code === '3D000') return new LineError('LINE_DB_MISSING', `the database in ${redactUrl(url)} does not exist`, { hint: 'create it (createdb) and run ifpp line init', cause: e });
  if (code === '28P01' || code === '28000') return new LineError('LINE_DB_AUTH', `PostgreSQL refused the login for ${redactUrl(url)}`, { hint: 'check the user and password (PGPASSWORD or ~/.pgpass)', cause: e });
  if (code === '42P01' || code === '3F000') return new LineError('LINE_DB_NOT_INITIALISED', `the line database ${redactUrl(url)} has no ifpp schema`, { hint: 'run ifpp line init --db URL first', cause: e });
  return e;
}

/** Runs `fn` in one transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(db: Db, fn: (c: DbClient) => Promise<T>): Promise<T> {
  const c = await db.connect();
  let broken: Error | undefined;
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    if (isUnreachable(e)) broken = e as Error;
    else await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    // A connection whose server went away is dropped, not put back in the pool.
    c.release(broken);
  }
}
