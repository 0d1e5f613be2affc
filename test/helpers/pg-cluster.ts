/**
 * A throwaway PostgreSQL 15 cluster for the line tests: initdb in a temp folder, the server
 * listening only on a unix socket in that folder, removed on stop. initdb refuses to run as
 * root, so as root the server runs as the `postgres` system user (runuser); as another user it
 * runs as that user. One cluster is shared by all tests of a file (beforeAll/afterAll);
 * each test takes its own database from `freshDb()`.
 *
 * `pgUnavailable()` says why no cluster can start here (tests skip with that message).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const BIN = process.env.IFPP_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function pgUnavailable(): string | undefined {
  if (!existsSync(join(BIN, 'initdb')) || !existsSync(join(BIN, 'pg_ctl'))) {
    return `PostgreSQL server binaries not found in ${BIN} (apt-get install postgresql, or set IFPP_PG_BIN)`;
  }
  if (process.getuid?.() === 0) {
    const r = spawnSync('id', ['-u', 'postgres']);
    if (r.status !== 0) return 'running as root and there is no "postgres" system user to run the server as';
    if (spawnSync('runuser', ['--help']).error) return 'running as root and runuser is missing';
  }
  return undefined;
}

export interface PgCluster {
  /** The folder holding the data directory and the socket. */
  dir: string;
  /** A URL for database `db` (unix socket, trust auth, user ifpp). */
  url(db?: string): string;
  /** Creates an empty database with a unique name and returns its URL. */
  freshDb(): Promise<string>;
  /** Stops the server at once (as a crash would: no checkpoint). */
  kill(): void;
  /** Starts it again after kill(). */
  start(): void;
  running(): boolean;
  /** Stops and removes everything. */
  stop(): void;
}

let dbCounter = 0;

export function startPgCluster(): PgCluster {
  const why = pgUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o755);
  }
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args]] : [join(BIN, cmd), args];
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const data = join(dir, 'data');
  // --no-sync and fsync=off: a crashed *process* loses nothing committed (the WAL is in the OS
  // cache); only an OS crash would, which no test causes. Keeps the cluster fast on a busy box.
  run('initdb', ['-D', data, '-U', 'ifpp', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const opts = `-k ${dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB`;
  let up = false;
  const start = () => {
    run('pg_ctl', ['-D', data, '-o', opts, '-w', '-t', '60', '-l', join(dir, 'server.log'), 'start']);
    up = true;
  };
  start();
  const url = (db = 'postgres') => `postgresql://ifpp@${encodeURIComponent(dir)}/${db}`;
  return {
    dir,
    url,
    async freshDb() {
      const name = `t${process.pid}_${++dbCounter}`;
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    kill() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      up = false;
    },
    start,
    running: () => up,
    stop() {
      if (up) {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } catch {
          // already gone: still remove the folder
        }
      }
      up = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
