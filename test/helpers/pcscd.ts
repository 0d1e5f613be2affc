/**
 * A private pcscd for tests: its own reader.conf.d with vsmartcard virtual readers (not the
 * system one), its own socket (pcsc-lite 1.9 always serves /run/pcscd/pcscd.comm, so the daemon
 * runs in a private mount namespace where a temporary folder is bind-mounted over /run/pcscd;
 * clients reach it through PCSCLITE_CSOCK_NAME), and free TCP ports for the virtual cards.
 * Started and stopped by the test that needs it; `pcscdUnavailable()` says why it cannot run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PCSCD = '/usr/sbin/pcscd';
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

/** Why a private pcscd with vpcd readers cannot run here (undefined = it can). */
export function pcscdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'PC/SC tests need Linux (pcscd, vpcd)';
  if (!existsSync(PCSCD)) return `${PCSCD} missing (apt-get install pcscd)`;
  if (!existsSync(VPCD_DRIVER)) return `${VPCD_DRIVER} missing (apt-get install vsmartcard-vpcd)`;
  if (process.getuid?.() !== 0) return 'a private pcscd needs root (a mount namespace over /run/pcscd)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) missing';
  try {
    createRequire(import.meta.url)('@pokusew/pcsclite');
  } catch (e) {
    return `the PC/SC binding did not load (${(e as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

export interface PrivatePcscd {
  /** PCSCLITE_CSOCK_NAME for clients. */
  readonly socket: string;
  /** Reader names in order, and the vpcd port of each. */
  readonly readers: readonly { name: string; port: number }[];
  /** Environment for child processes that use PC/SC. */
  readonly env: NodeJS.ProcessEnv;
  /** The daemon's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free pair of ports P, P+1 (one vpcd reader entry has two slots). */
async function freePair(taken: Set<number>): Promise<number> {
  const seed = Math.floor(Math.random() * 10000);
  console.log(`[pcscd] port search seed ${seed}`);
  for (let i = 0; i < 200; i++) {
    const p = 40000 + ((seed + i * 37) % 10000) * 2;
    if (taken.has(p) || taken.has(p + 1)) continue;
    if ((await portFree(p)) && (await portFree(p + 1))) return p;
  }
  throw new Error('no free TCP port pair for vpcd');
}

/** Starts pcscd with `count` virtual readers; resolves once the daemon says it is ready. */
export async function startPcscd(count: number): Promise<PrivatePcscd> {
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-pcscd-'));
  const conf = join(dir, 'reader.conf.d');
  const run = join(dir, 'run');
  mkdirSync(conf);
  mkdirSync(run);
  const readers: { name: string; port: number }[] = [];
  const taken = new Set<number>();
  for (let e = 0; e < Math.ceil(count / 2); e++) {
    const port = await freePair(taken);
    taken.add(port).add(port + 1);
    const friendly = `IFPP vpcd ${e}`;
    // The vpcd driver keeps its two slots in static state, and pcscd loads a driver file once:
    // a second entry on the same file would take over the first one's slots. So every entry
    // after the first gets its own copy of the driver (a separate load, separate state).
    let driver = VPCD_DRIVER;
    if (e > 0) {
      driver = join(dir, `libifdvpcd-${e}.so`);
      copyFileSync(VPCD_DRIVER, driver);
    }
    writeFileSync(join(conf, `vpcd-${e}`), `FRIENDLYNAME "${friendly}"\nDEVICENAME /dev/null:${port}\nLIBPATH ${driver}\nCHANNELID ${port}\n`);
    // pcscd names the slots "<name> 00 00", "<name> 00 01" (the first number tells readers of
    // one name apart: each entry here has its own name).
    readers.push({ name: `${friendly} 00 00`, port });
    if (readers.length < count) readers.push({ name: `${friendly} 00 01`, port: port + 1 });
  }
  let log = '';
  const child: ChildProcess = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', 'mkdir -p /run/pcscd && mount --bind "$0" /run/pcscd && exec "$1" --foreground --debug --config "$2"', run, PCSCD, conf],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      log += b.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
      if (/daemon ready/.test(log)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pcscd exited (${code}) before it was ready:\n${log.slice(-2000)}`)));
  });
  const socket = join(run, 'pcscd.comm');
  return {
    socket,
    readers,
    env: { ...process.env, PCSCLITE_CSOCK_NAME: socket },
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
