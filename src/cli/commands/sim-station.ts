/**
 * `ifpp sim station` (what `npm start` runs): the whole simulated factory and the real station
 * in one command. Builds the world on first run, imports its batch and eUICC data into the
 * station store, starts the simulated bridges, board and operator, then runs the station
 * exactly as `ifpp run` does against that hardware.
 */
import { join } from 'node:path';
import { archiveWorld, buildWorld, ensureWorld } from '../../sim/world/build-world.ts';
import { readFeeder, startWorld } from '../../sim/world/run-world.ts';
import { requireConfig } from '../../station/config/load.ts';
import { importWorld } from '../world-import.ts';
import { describeRun, earlyStopNotice, runStation } from '../run-station.ts';
import { StopSignals } from '../stop-signals.ts';
import { runExitCode } from '../exit-codes.ts';
import { invokedAs } from '../invoked-as.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp sim station [--world DIR] [--slots N] [--units U] [--kind panel-jig|socket-programmer]
                       [--time-scale S] [--headless] [--events FILE|-]

Runs the simulated 8-slot panel jig end to end: builds the simulated world in DIR on first run
(default var/sim/world: test PKI, chips, a BPP batch, station.json), imports the batch and
the eUICC data into the station's store, starts the simulated bridges, jig board and operator,
and runs the real station against them with the terminal UI (or a plain log with --headless).

  --slots N, --units U, --kind K   shape of a new world (ignored when DIR already holds one)
  --time-scale S                   1 = real card and handling times (default), 0 = as fast as possible

Exit codes as for ifpp run: 0 stopped as asked, every unit settled · 1 error · 2 bad usage ·
3 stopped with units interrupted · 4 the terminal UI failed (the station stopped safely).`;

export async function run(args: string[]): Promise<number> {
  // Ctrl+C / SIGTERM while the world is built or the station starts: a clean stop (exit 0).
  const stops = new StopSignals(earlyStopNotice);
  try {
    return await simStation(args, stops);
  } finally {
    stops.dispose();
  }
}

async function simStation(args: string[], stops: StopSignals): Promise<number> {
  const { values } = parseOptions(args, {
    world: { type: 'string' },
    slots: { type: 'string' },
    units: { type: 'string' },
    kind: { type: 'string' },
    'time-scale': { type: 'string' },
    headless: { type: 'boolean' },
    events: { type: 'string' },
  });
  const num = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new CliUsageError(`--${name} must be a number`);
    return n;
  };
  const kind = values.kind ?? 'panel-jig';
  if (kind !== 'panel-jig' && kind !== 'socket-programmer') throw new CliUsageError('--kind is panel-jig or socket-programmer');
  const out = values.world ?? 'var/sim/world';
  const say = (s: string) => process.stderr.write(s + '\n');
  const shape = { out, slots: num(values.slots, 'slots', 8), units: num(values.units, 'units', 64), kind } as const;
  let w = await ensureWorld(shape);
  if (!w.built && readFeeder(w.dir) >= w.world.units) {
    // Every simulated chip of this world has been through the station: make fresh ones, and
    // keep the old world with its station records where its report can still be made.
    const archive = archiveWorld(w.dir);
    say(`the simulated world in ${w.dir} is used up (all ${w.world.units} units fed): moved it, with the station's store, journal and reports, to ${archive}`);
    say(`  its report: ${invokedAs()} report --config ${join(archive, 'station.json')}`);
    w = { ...(await buildWorld({ ...shape, slots: w.world.slots, kind: w.world.kind })), built: true };
  }
  say(w.built ? `built the simulated world in ${w.dir} (${(w.elapsedMs / 1000).toFixed(1)} s)` : `using the simulated world in ${w.dir}`);

  const config = await requireConfig(w.stationFile);
  // First run: the station's store gets the world's batch and eUICC data (as an operator would import them).
  for (const line of await importWorld(w.dir, w.world, config)) say(line);

  const timeScale = values['time-scale'] !== undefined ? num(values['time-scale'], 'time-scale', 1) : undefined;
  const world = await startWorld(w.dir, timeScale !== undefined ? { timeScale } : {});
  try {
    const summary = await runStation(config, {
      stops,
      ...(values.headless ? { headless: true } : {}),
      ...(values.events ? { events: values.events } : {}),
      open: { jigOptions: { connect: { queryDelayMs: 50 } } },
      // When the operator has fed every chip of the world and the last cycle ended, stop.
      onOpen: (station) => {
        world.operator?.once('done', () => station.requestStop('all simulated units were fed'));
      },
    });
    process.stderr.write(describeRun(summary, w.stationFile));
    return runExitCode(summary, summary.uiError !== undefined);
  } finally {
    await world.close();
  }
}
