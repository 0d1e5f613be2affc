/**
 * `ifpp sim line`: a simulated line of N stations on one real PostgreSQL database. Builds the
 * simulated world on first run, brings the database schema up to date and imports the world's
 * eUICC data and BPP batch into it (as `sim station` does for the local store), then runs N
 * real stations, each its own process, fed from the world's one reel (cli/sim-line/).
 */
import { ensureWorld } from '../../sim/world/build-world.ts';
import { prepareLineDb } from '../sim-line/prepare.ts';
import { dbError } from '../../line/db.ts';
import { invokedAs } from '../invoked-as.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';
import { readLineFeeder, startSimLine } from '../sim-line/run-line.ts';

export const help = `Usage: ifpp sim line --db URL [--world DIR] [--stations N] [--slots S] [--units U]
                    [--time-scale S] [--fail-rate R] [--seed N] [--headless]

Runs a simulated line: N real stations (separate processes, S in-process simulated sockets
each) on one PostgreSQL inventory, fed from one reel of U simulated chips. On first run it
builds the simulated world in DIR (test PKI, chips, one BPP batch with a spare BPP per chip),
runs the line's schema migrations (as ifpp line init) and imports the world's eUICC data and
batch into the database (as ifpp line euicc import / line import). A chip whose attempt did
not install a profile (an injected fault: the chip hangs after BF23 and its key burns) moves
to another station, which settles that attempt from the chip before loading the spare BPP.

Options:
${DB_HELP}
  --world DIR        the world folder (default var/sim/line-world); station folders in DIR/line/
  --stations N       stations (default 3)
  --slots S          sockets per station (default 8)
  --units U          chips on the reel of a new world (default 48; ignored when DIR holds one)
  --time-scale S     1 = the chips' real time (default), 0 = as fast as possible
  --fail-rate R      share of chips whose first attempt fails and moves (default 0.1)
  --seed N           seed for the faults (default: random, printed)
  --headless         one line per event only (default on a terminal: a live status line too)

Afterwards: ifpp line report --db URL gives one PLR per batch across all stations.
Exit status: 0 every chip installed · 1 error · 2 bad usage · 3 some chips ended without a profile.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    ...DB_OPTION,
    world: { type: 'string' },
    stations: { type: 'string' },
    slots: { type: 'string' },
    units: { type: 'string' },
    'time-scale': { type: 'string' },
    'fail-rate': { type: 'string' },
    seed: { type: 'string' },
    headless: { type: 'boolean' },
  });
  const num = (v: string | undefined, name: string, dflt: number, o: { whole?: boolean; min?: number; max?: number } = {}) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < (o.min ?? 0) || n > (o.max ?? Infinity) || (o.whole && !Number.isInteger(n))) {
      throw new CliUsageError(`--${name} must be ${o.whole ? 'a whole number' : 'a number'}${o.min !== undefined ? ` >= ${o.min}` : ''}${o.max !== undefined ? ` <= ${o.max}` : ''}, got "${v}"`);
    }
    return n;
  };
  const stations = num(values.stations, 'stations', 3, { whole: true, min: 1, max: 32 });
  const slots = num(values.slots, 'slots', 8, { whole: true, min: 1, max: 64 });
  const units = num(values.units, 'units', 48, { whole: true, min: 1 });
  const timeScale = num(values['time-scale'], 'time-scale', 1);
  const failRate = num(values['fail-rate'], 'fail-rate', 0.1, { max: 1 });
  const seed = num(values.seed, 'seed', Math.floor(Math.random() * 2 ** 31), { whole: true });
  const say = (s: string) => process.stderr.write(s + '\n');
  const live = values.headless !== true && process.stderr.isTTY === true;

  return withLineDb(
    values.db,
    async (db, url) => {
      // Reach the database before minutes of building a world.
      await db.query('SELECT 1').catch((e: unknown) => {
        throw dbError(e, url);
      });
      const w = await ensureWorld({ out: values.world ?? 'var/sim/line-world', slots, units, kind: 'socket-programmer', timeScale });
      say(w.built ? `built the simulated world in ${w.dir} (${(w.elapsedMs / 1000).toFixed(1)} s)` : `using the simulated world in ${w.dir}`);
      await prepareLineDb(db, url, w, say);
      const from = readLineFeeder(w.dir);
      say(`line: ${stations} stations x ${slots} slots, chips ${from + 1}..${w.world.units} of the reel, time scale ${timeScale}, fault seed ${seed} (fail rate ${failRate})`);
      let status = '';
      const line = startSimLine({
        dir: w.dir,
        world: w.world,
        url,
        stations,
        slots,
        timeScale,
        seed,
        failRate,
        log: (s) => {
          if (live && status) process.stderr.write('\r\x1b[K');
          say(s);
          if (live && status) process.stderr.write(status);
        },
      });
      const started = Date.now();
      const ticker = live
        ? setInterval(() => {
            status = `  running ${((Date.now() - started) / 1000).toFixed(0)} s`;
            process.stderr.write('\r\x1b[K' + status);
          }, 1000)
        : undefined;
      const stop = () => {
        say('stopping: no more chips are fed; the stations finish the units in their sockets');
        line.stop();
      };
      process.once('SIGINT', stop);
      try {
        const r = await line.done;
        if (live) process.stderr.write('\r\x1b[K');
        say(
          `line done in ${(r.elapsedMs / 1000).toFixed(1)} s: ${r.installed} of ${r.fed} chips installed (${Object.entries(r.perStation)
            .map(([s, n]) => `${s} ${n}`)
            .join(', ')}), ${r.moves} moves between stations, ${r.failed.length} set aside`,
        );
        say(`report: ${invokedAs()} line report --db URL --out DIR`);
        return r.failed.length ? 3 : 0;
      } finally {
        if (ticker) clearInterval(ticker);
        process.off('SIGINT', stop);
      }
    },
    { checkSchema: false },
  );
}
